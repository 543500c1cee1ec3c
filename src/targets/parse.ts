// Target strings as users type them: `pred`, `top:3`, `281`, `tabby cat`, `281-vs-282`, `cat-vs-dog`,
// `prob[:c]`, `logprob[:c]`, `sigmoid[:c]`, `region:c`, `det`, `det:3`, `det:person`,
// `det:box=x0,y0,x1,y1`, `up[:i]`, `down[:i]`, `caption[:i|:word]`; any of them behind `counterfactual:` (or `cf:`).

import { GradsightError } from '../errors.ts';
import type { ClassRef, TargetSpec } from './types.ts';

const ref = (s: string): ClassRef => (/^\d+$/.test(s.trim()) ? Number(s.trim()) : s.trim());

const FORMS =
  'use pred, top:K, a class index, a label, A-vs-B, prob[:class], logprob[:class], sigmoid[:class], ' +
  'region:class, det, det:K, det:label, det:box=x0,y0,x1,y1, up[:i], down[:i], caption[:i|:word], or counterfactual:<target>';

const bad = (t: string) =>
  new GradsightError('bad-argument', `cannot read the target ${JSON.stringify(t)}`, { hint: FORMS });

export function parseTarget(text: string): TargetSpec {
  const t = text.trim();
  if (t === '') throw new GradsightError('bad-argument', 'empty target', { hint: FORMS });
  const cf = /^(?:counterfactual|cf)\s*:(.*)$/i.exec(t);
  if (cf) {
    const inner = parseTarget(cf[1]!);
    return { ...inner, counterfactual: !inner.counterfactual };
  }
  if (t === 'pred' || t === 'predicted') return { kind: 'predicted' };
  const top = /^top[:=]?(\d+)$/i.exec(t);
  if (top) return { kind: 'top', k: atLeastOne(Number(top[1]), `top:${top[1]}`) };
  const vs = /^(.+?)\s*-vs-\s*(.+)$/i.exec(t);
  if (vs) return { kind: 'contrast', a: ref(vs[1]!), b: ref(vs[2]!) };
  const prob = /^(prob(?:ability)?|log-?prob(?:ability)?|sigmoid)(?::(.+))?$/i.exec(t);
  if (prob) {
    const word = prob[1]!.toLowerCase();
    const kind = word.startsWith('log') ? 'log-probability' : word === 'sigmoid' ? 'sigmoid' : 'probability';
    return prob[2] === undefined ? { kind } : { kind, of: ref(prob[2]) };
  }
  const region = /^region:(.+)$/i.exec(t);
  if (region) return { kind: 'region', of: ref(region[1]!) };
  const det = /^det(?:ections?)?(?::(.+))?$/i.exec(t);
  if (det) return detection(t, det[1]?.trim());
  const caption = /^caption(?::(.+))?$/i.exec(t);
  if (caption) {
    const w = caption[1]?.trim();
    if (w === undefined) return { kind: 'caption' };
    if (w === '') throw bad(t);
    return { kind: 'caption', word: /^\d+$/.test(w) ? atLeastOne(Number(w), t) : w };
  }
  const dir = /^(up|down)(?::(\d+))?$/i.exec(t);
  if (dir) {
    const sign = dir[1]!.toLowerCase() === 'up' ? 1 : -1;
    return dir[2] === undefined
      ? { kind: 'direction', sign }
      : { kind: 'direction', sign, index: Number(dir[2]) };
  }
  // A keyword form that did not parse ("top:x", "prob:", "-vs-dog") is a typo, not a label to look up.
  if (/^(?:top|prob(?:ability)?|log-?prob|sigmoid|region|det|up|down|caption)\s*[:=]|-vs-/i.test(t))
    throw bad(t);
  if (/^\d+$/.test(t)) return { kind: 'class', index: Number(t) };
  return { kind: 'label', text: t };
}

function detection(t: string, arg: string | undefined): TargetSpec {
  if (arg === undefined || arg === '') return { kind: 'detection' };
  if (/^\d+$/.test(arg)) return { kind: 'detection', count: atLeastOne(Number(arg), t) };
  const box = /^box=(.*)$/i.exec(arg);
  if (box) {
    const v = box[1]!.split(',').map((s) => Number(s.trim()));
    if (v.length !== 4 || v.some((x) => !Number.isFinite(x)) || v[2]! <= v[0]! || v[3]! <= v[1]!) {
      throw new GradsightError('bad-argument', `cannot read the box in ${JSON.stringify(t)}`, {
        hint: 'det:box=x0,y0,x1,y1 in original image pixels, with x1 > x0 and y1 > y0',
      });
    }
    return { kind: 'detection', box: v as unknown as readonly [number, number, number, number] };
  }
  return { kind: 'detection', of: ref(arg) };
}

function atLeastOne(k: number, t: string): number {
  if (k < 1)
    throw new GradsightError('bad-argument', `${t} must ask for at least one`, { hint: 'for example top:3' });
  return k;
}
