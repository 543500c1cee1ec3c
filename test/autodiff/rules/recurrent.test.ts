// LSTM and GRU, differentiated through the recurrent lowering (src/autodiff/lower-recurrent.ts), against
// finite differences and float64 PyTorch goldens (conformance/op_goldens.py, whose ONNX-semantics loop
// it checks against torch.nn.LSTM / nn.GRU first). The forward output compared with the golden is
// ONNX Runtime's own LSTM / GRU op. The cases must catch a wrong rule inside the cell.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { standard } from '../../../src/autodiff/index.ts';
import { type GradRule, only, type RuleSet } from '../../../src/autodiff/rule.ts';
import { where } from '../../../src/autodiff/rules/arithmetic.ts';
import { checkCase, loadCases, loadGoldens } from '../../helpers/grad-check.ts';
import { describeFamily } from './family.ts';

describeFamily('recurrent');

const withRule = (op: string, rule: GradRule): RuleSet => ({
  name: `wrong-${op}`,
  description: 'a deliberately wrong rule',
  rules: { ...standard.rules, [op]: rule },
});

// y = tanh x ⇒ dx = g·(1 + y²)   (sign of y² flipped)
const wrongTanh: GradRule = (ctx, gY) => {
  const y = ctx.node.outputs[0]!;
  return [ctx.e.mul(only(gY), ctx.e.add(ctx.e.scalar(1), ctx.e.mul(y, y)))];
};
// y = σ(x) ⇒ dx = g·y   (the (1 − y) factor forgotten)
const wrongSigmoid: GradRule = (ctx, gY) => [ctx.e.mul(only(gY), ctx.node.outputs[0]!)];
// y = where(c, a, b) ⇒ da = g, db = g·¬c: the skipped steps of a short sequence get the gradient
// of the steps that ran (the mask forgotten on one branch).
const unmaskedWhere: GradRule = (ctx, gY) => {
  const [, a, b] = where(ctx, gY);
  return [
    undefined,
    ctx.need(1)
      ? ctx.e.reshapeLike(ctx.e.add(a ?? only(gY), b ?? ctx.e.scalar(0)), ctx.node.inputs[1]!)
      : undefined,
    b,
  ];
};

async function failures(id: string, set: RuleSet): Promise<string[]> {
  const c = loadCases('recurrent').find((x) => x.id === id);
  assert.ok(c, id);
  return (await checkCase(c, loadGoldens()[id], { ruleSet: set })).failures;
}

describe('recurrent cases against wrong rules', () => {
  const caught = (f: string[]) =>
    f.some((m) => m.includes('vs PyTorch')) && f.some((m) => m.includes('finite differences'));
  for (const id of ['recurrent/lstm-bidirectional-init', 'recurrent/gru-bidirectional-init-lbr0']) {
    it(`${id}: a wrong Tanh rule fails`, async () => {
      const f = await failures(id, withRule('Tanh', wrongTanh));
      assert.ok(caught(f), f.join('\n'));
    });
    it(`${id}: a wrong Sigmoid rule fails`, async () => {
      const f = await failures(id, withRule('Sigmoid', wrongSigmoid));
      assert.ok(caught(f), f.join('\n'));
    });
  }
  it('recurrent/lstm-lens: a Where rule without its mask fails', async () => {
    assert.deepEqual(await failures('recurrent/lstm-lens', standard), []);
    const f = await failures('recurrent/lstm-lens', withRule('Where', unmaskedWhere));
    assert.ok(caught(f), f.join('\n'));
  });
});
