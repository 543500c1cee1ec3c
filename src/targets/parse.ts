// Target strings as users type them: `pred`, `top:3`, `281`, `tabby cat`, `281-vs-282`,
// `cat-vs-dog`, `prob`, `prob:281`, `region:12`.

import { GradsightError } from '../errors.ts';
import type { ClassRef, TargetSpec } from './types.ts';

const ref = (s: string): ClassRef => (/^\d+$/.test(s.trim()) ? Number(s.trim()) : s.trim());

const FORMS = 'use pred, top:K, a class index, a label, A-vs-B, prob[:class] or region:class';

export function parseTarget(text: string): TargetSpec {
  const t = text.trim();
  if (t === '') throw new GradsightError('bad-argument', 'empty target', { hint: FORMS });
  if (t === 'pred' || t === 'predicted') return { kind: 'predicted' };
  const top = /^top[:=]?(\d+)$/i.exec(t);
  if (top) {
    const k = Number(top[1]);
    if (k < 1)
      throw new GradsightError('bad-argument', `top:${k} must ask for at least one class`, {
        hint: 'for example top:3',
      });
    return { kind: 'top', k };
  }
  const vs = /^(.+?)\s*-vs-\s*(.+)$/i.exec(t);
  if (vs) return { kind: 'contrast', a: ref(vs[1]!), b: ref(vs[2]!) };
  const prob = /^prob(?:ability)?(?::(.+))?$/i.exec(t);
  if (prob)
    return prob[1] === undefined ? { kind: 'probability' } : { kind: 'probability', of: ref(prob[1]) };
  const region = /^region:(.+)$/i.exec(t);
  if (region) return { kind: 'region', of: ref(region[1]!) };
  // A keyword form that did not parse ("top:x", "prob:", "-vs-dog") is a typo, not a label to look up.
  if (/^(?:top|prob(?:ability)?|region)\s*[:=]|-vs-/i.test(t))
    throw new GradsightError('bad-argument', `cannot read the target ${JSON.stringify(t)}`, { hint: FORMS });
  if (/^\d+$/.test(t)) return { kind: 'class', index: Number(t) };
  return { kind: 'label', text: t };
}
