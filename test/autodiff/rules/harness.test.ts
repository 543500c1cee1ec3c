// The harness itself: it must catch wrong rules (unmasked ReLU, wrong sign, transposed kernel, missing
// or wrong broadcast reduction, MaxPool ties not broken, a modified rule checked as the standard one),
// and the committed case and golden files must be current.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { standard } from '../../../src/autodiff/index.ts';
import type { GradRule, RuleSet } from '../../../src/autodiff/rule.ts';
import { guided } from '../../../src/autodiff/rule-sets.ts';
import { relu } from '../../../src/autodiff/rules/activations.ts';
import { conv } from '../../../src/autodiff/rules/conv.ts';
import { maxPool } from '../../../src/autodiff/rules/pooling.ts';
import { casesPath, checkCase, type GradCase, loadCases, loadGoldens } from '../../helpers/grad-check.ts';
import { casesJson } from './cases/index.ts';

const byId = (id: string): GradCase => {
  const c = loadCases().find((x) => x.id === id);
  assert.ok(c, `case ${id}`);
  return c;
};
const withRule = (op: string, rule: GradRule): RuleSet => ({
  name: `wrong-${op}`,
  description: 'a deliberately wrong rule',
  rules: { ...standard.rules, [op]: rule },
});

// dx = g, the mask forgotten
const unmaskedRelu: GradRule = (_ctx, gY) => [gY[0]];
// y = a − b ⇒ db = +g (wrong sign)
const wrongSignSub: GradRule = (ctx, gY) => [gY[0], ctx.e.neg(ctx.e.neg(gY[0]!))];
// Conv's rule fed the kernel with its spatial axes swapped.
const transposedKernel: GradRule = (ctx, gY) => {
  const [x, w, ...rest] = ctx.node.inputs;
  const swapped = ctx.e.transpose(w!, [0, 1, 3, 2]);
  const ws = ctx.shape(w!);
  const node = { ...ctx.node, inputs: [x!, swapped, ...rest] };
  const shape = (n: string) => (n === swapped ? [ws[0]!, ws[1]!, ws[3]!, ws[2]!] : ctx.shape(n));
  return conv({ ...ctx, node, shape }, gY);
};
// y = a + b with b broadcast: g not summed over the broadcast axes (shape mismatch)...
const unreducedAdd: GradRule = (_ctx, gY) => [gY[0], gY[0]];
// ... or reduced by taking the first slice instead of the sum (right shape, wrong values).
const firstSliceAdd: GradRule = (ctx, gY) => {
  const [a, b] = ctx.node.inputs as [string, string];
  const ys = ctx.shape(ctx.node.outputs[0]!);
  const take = (x: string) => {
    const xs = ctx.shape(x);
    const off = ys.length - xs.length;
    const axes = ys.map((_, i) => i).filter((i) => i < off || (xs[i - off] === 1 && ys[i] !== 1));
    if (axes.length === 0) return gY[0]!;
    const g = ctx.e.slice(
      gY[0]!,
      axes.map(() => 0),
      axes.map(() => 1),
      axes,
    );
    return ctx.e.reshapeLike(g, x);
  };
  return [take(a), take(b)];
};

// MaxPool's rule without the CumSum first-hit step: every tied maximum gets the gradient.
const allTiesMaxPool: GradRule = (ctx, gY) => {
  const e = new Proxy(ctx.e, {
    get(target, prop) {
      if (prop === 'cumSum') return (x: string) => x;
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return maxPool({ ...ctx, e }, gY);
};

async function failuresWith(id: string, set: RuleSet): Promise<string[]> {
  const c = byId(id);
  return (await checkCase(c, loadGoldens()[c.id], { ruleSet: set })).failures;
}

describe('gradient harness', () => {
  it('passes the real rules on the cases used below', async () => {
    for (const id of ['activations/relu-0', 'arithmetic/sub-0', 'conv/k7-s2-p3', 'arithmetic/add-2']) {
      assert.deepEqual(await failuresWith(id, standard), []);
    }
  });

  it('catches a Relu rule that returns the gradient unmasked', async () => {
    const f = await failuresWith('activations/relu-0', withRule('Relu', unmaskedRelu));
    assert.ok(
      f.some((m) => m.includes('finite differences')),
      f.join('\n'),
    );
    assert.ok(
      f.some((m) => m.includes('vs PyTorch')),
      f.join('\n'),
    );
  });

  it('catches a wrong sign', async () => {
    const f = await failuresWith('arithmetic/sub-0', withRule('Sub', wrongSignSub));
    assert.ok(
      f.some((m) => m.includes('d/db vs finite differences')),
      f.join('\n'),
    );
  });

  it('catches a transposed kernel', async () => {
    const f = await failuresWith('conv/k7-s2-p3', withRule('Conv', transposedKernel));
    assert.ok(
      f.some((m) => m.includes('finite differences')),
      f.join('\n'),
    );
  });

  it('catches a missing or wrong broadcast reduction', async () => {
    const c = byId('arithmetic/add-2');
    assert.notDeepEqual(c.inputs[0]!.shape, c.inputs[1]!.shape, 'the case must broadcast');
    const missing = await failuresWith(c.id, withRule('Add', unreducedAdd));
    assert.ok(
      missing.some((m) => m.includes('compile failed')),
      missing.join('\n'),
    );
    const wrong = await failuresWith(c.id, withRule('Add', firstSliceAdd));
    assert.ok(
      wrong.some((m) => m.includes('finite differences')),
      wrong.join('\n'),
    );
  });

  it('catches a MaxPool rule that gives every tied maximum the gradient', async () => {
    assert.deepEqual(await failuresWith('pooling/maxpool-ties-k3s1', standard), []);
    const f = await failuresWith('pooling/maxpool-ties-k3s1', withRule('MaxPool', allTiesMaxPool));
    assert.ok(
      f.some((m) => m.includes('vs PyTorch')),
      f.join('\n'),
    );
  });

  it('tells the rule sets apart at ties: guided rules fail the standard goldens', async () => {
    for (const id of ['pooling/maxpool-ties-after-relu', 'activations/relu-at-zero']) {
      const f = await failuresWith(id, guided);
      assert.ok(
        f.some((m) => m.includes('vs PyTorch')),
        `${id}: ${f.join('\n')}`,
      );
    }
    // And the real relu rule is a different function from the guided one.
    assert.notEqual(guided.rules.Relu, relu);
  });

  it('has current cases.json and goldens', () => {
    assert.equal(readFileSync(casesPath, 'utf8'), casesJson(), 'run test/autodiff/rules/write-cases.ts');
    const goldens = loadGoldens();
    const ids = loadCases().map((c) => c.id);
    assert.equal(new Set(ids).size, ids.length, 'case ids are unique');
    for (const id of ids) assert.ok(goldens[id], `golden for ${id}: run conformance/op_goldens.py`);
  });
});
