// Gradient rules for elementwise activations. Boundaries follow PyTorch exactly: ReLU passes only
// where x > 0; ReLU6 / Clip is strict (zero gradient at both bounds, as hardtanh_backward);
// HardSigmoid is strict on its linear range; HardSwish uses x < −3 → 0, x ≤ 3 → x/3 + ½, else 1.

import { getFloat, getInt, getString } from '../../onnx/index.ts';
import { type GradContext, type GradRule, only } from '../rule.ts';

/** Bounds of a Clip node: inputs 1 and 2 from opset 11 (absent = ±∞), attributes before. */
export function clipBounds(ctx: GradContext): { lo: number | undefined; hi: number | undefined } {
  const n = ctx.node;
  const read = (i: number, attr: string): number | undefined => {
    const name = n.inputs[i];
    if (name) {
      const v = ctx.constant(name);
      if (v?.length !== 1) {
        throw new Error(`Clip node '${n.name}' has a non-constant bound ${name}`);
      }
      return Number(v[0]);
    }
    return n.attributes.has(attr) ? getFloat(n, attr) : undefined;
  };
  return { lo: read(1, 'min'), hi: read(2, 'max') };
}

/** Bool masks whose conjunction is lo < y < hi (strict); empty when both bounds are open. */
function strictMasks(ctx: GradContext, y: string, lo: number | undefined, hi: number | undefined): string[] {
  const { e } = ctx;
  if (lo !== undefined && hi !== undefined) {
    // One mask instead of two: (y − lo)(hi − y) > 0 ⇔ lo < y < hi. The sign is exact in float32:
    // y − lo and hi − y are exact near their zero (Sterbenz) and never change sign elsewhere. One
    // mask per ReLU6 instead of two saves ~15% of MobileNetV2's input-gradient time.
    const below = lo === 0 ? y : e.sub(y, e.scalar(lo));
    return [e.greater(e.mul(below, e.sub(e.scalar(hi), y)), e.scalar(0))];
  }
  if (lo !== undefined) return [e.greater(y, e.scalar(lo))];
  if (hi !== undefined) return [e.less(y, e.scalar(hi))];
  return [];
}

/** The pass-through masks of a ReLU-like node (Relu, Clip), from its output Y (keeps Conv+Relu fusable). */
export function reluLikeMasks(ctx: GradContext): string[] {
  const y = ctx.node.outputs[0]!;
  if (ctx.node.opType === 'Relu') return [ctx.e.greater(y, ctx.e.scalar(0))];
  const { lo, hi } = clipBounds(ctx);
  // y > lo ⇔ x > lo and y < hi ⇔ x < hi, so the strict mask can read Y.
  return strictMasks(ctx, y, lo, hi);
}

/** g where every mask holds, else 0, as g · Cast(mask) per mask: ORT's CPU Where with a broadcast 0 is
 * ~4× slower than Greater + Cast + Mul (measured on MobileNetV2's ReLU6 sizes); WebGPU (JSEP) lacks
 * And, so several masks multiply. */
const masked = (ctx: GradContext, masks: readonly string[], g: string): string =>
  masks.reduce((acc, m) => ctx.e.mul(acc, ctx.e.castFloat(m)), g);

/**
 * g · 1[0 < y < hi] for a ReLU-like node with lower bound 0, read from its output Y (NCHW, C a multiple
 * of 16), as 1×1 depthwise Convs with a clipping activation, which ONNX Runtime fuses and runs in
 * its blocked NCHWc layout beside the forward's own Convs (no reorders, no bool tensors):
 * 1[y > 0] = HardSigmoid_{α=2¹²⁷,β=0}(2¹²⁷·y) (y ≥ 2⁻¹⁴⁹ ⇒ 2²⁵⁴·y ≥ 1; overflow gives 1), and
 * 1[y < hi] = Clip(2ˢ·hi − 2ˢ·y, 0, 1) with 2ˢ·(hi − pred hi) ≥ 1: products by powers of two are exact,
 * so each is exactly 0 or 1. Undefined when the layout does not fit (the caller falls back).
 */
function blockedReluLikeMasked(ctx: GradContext, g: string): string | undefined {
  const { e } = ctx;
  const y = ctx.node.outputs[0]!;
  const shape = ctx.shape(y);
  const c = shape[1];
  const { lo, hi } = ctx.node.opType === 'Relu' ? { lo: 0, hi: undefined } : clipBounds(ctx);
  if (ctx.profile !== 'cpu' || shape.length !== 4 || typeof c !== 'number' || c % 16 !== 0 || lo !== 0) {
    return undefined;
  }
  if (hi !== undefined && !(hi >= 2 ** -100 && hi < 2 ** 100)) return undefined;
  const depthwise = (scale: number, bias?: number) => {
    const inputs = [y, e.constF(new Float32Array(c).fill(scale), [c, 1, 1, 1])];
    if (bias !== undefined) inputs.push(e.constF(new Float32Array(c).fill(bias), [c]));
    return e.op('Conv', inputs, { group: { i: c }, kernel_shape: { ints: [1, 1] } });
  };
  const big = 2 ** 127;
  const above = e.op('HardSigmoid', [depthwise(big)], { alpha: { f: big }, beta: { f: 0 } });
  let out = e.mul(g, above);
  if (hi !== undefined) {
    const s = 2 ** (24 - Math.floor(Math.log2(hi)));
    const below = e.op('Clip', [depthwise(-s, hi * s), e.scalar(0), e.scalar(1)]);
    out = e.mul(out, below);
  }
  return out;
}

const reluLikeMasked = (ctx: GradContext, g: string): string =>
  blockedReluLikeMasked(ctx, g) ?? masked(ctx, reluLikeMasks(ctx), g);

// y = max(x, 0) ⇒ dx = g · 1[x > 0]
export const relu: GradRule = (ctx, gY) => [reluLikeMasked(ctx, only(gY))];

// y = min(max(x, lo), hi) ⇒ dx = g · 1[lo < x < hi]   (strict, as PyTorch's relu6 / hardtanh)
export const clip: GradRule = (ctx, gY) => [reluLikeMasked(ctx, only(gY)), undefined, undefined];

// Guided Backprop: dx = relu(g) · 1[forward derivative is 1]
export const guidedReluLike: GradRule = (ctx, gY) => [
  reluLikeMasked(ctx, ctx.e.relu(only(gY))),
  undefined,
  undefined,
];

// Deconvnet: dx = relu(g), the forward mask ignored
export const deconvReluLike: GradRule = (ctx, gY) => [ctx.e.relu(only(gY)), undefined, undefined];

// y = x > 0 ? x : αx ⇒ dx = x > 0 ? g : αg
export const leakyRelu: GradRule = (ctx, gY) => {
  const { e, node } = ctx;
  const g = only(gY);
  const alpha = getFloat(node, 'alpha', 0.01);
  return [e.where(e.greater(node.inputs[0]!, e.scalar(0)), g, e.mul(g, e.scalar(alpha)))];
};

// y = x > 0 ? x : s·x ⇒ dx = x > 0 ? g : s·g   (the slope s is a weight: no gradient)
export const prelu: GradRule = (ctx, gY) => {
  const { e, node } = ctx;
  const g = only(gY);
  return [e.where(e.greater(node.inputs[0]!, e.scalar(0)), g, e.mul(g, node.inputs[1]!)), undefined];
};

// y = σ(x) ⇒ dx = g · y · (1 − y)
export const sigmoid: GradRule = (ctx, gY) => {
  const { e } = ctx;
  const y = ctx.node.outputs[0]!;
  return [e.mul(only(gY), e.mul(y, e.sub(e.scalar(1), y)))];
};

// y = max(0, min(1, αx + β)) ⇒ dx = α·g on the open linear range (−β/α, (1−β)/α), else 0
export const hardSigmoid: GradRule = (ctx, gY) => {
  const { e, node } = ctx;
  const alpha = getFloat(node, 'alpha', 0.2);
  const beta = getFloat(node, 'beta', 0.5);
  const x = node.inputs[0]!;
  const lo = -beta / alpha;
  const hi = (1 - beta) / alpha;
  const [a, b] = alpha > 0 ? [lo, hi] : [hi, lo];
  return [masked(ctx, [e.greater(x, e.scalar(a)), e.less(x, e.scalar(b))], e.mul(only(gY), e.scalar(alpha)))];
};

// y = x · relu6(x + 3) / 6 ⇒ dx = 0 (x < −3), g·(x/3 + ½) (−3 ≤ x ≤ 3), g (x > 3)
export const hardSwish: GradRule = (ctx, gY) => {
  const { e, node } = ctx;
  const g = only(gY);
  const x = node.inputs[0]!;
  const mid = e.mul(g, e.add(e.div(x, e.scalar(3)), e.scalar(0.5)));
  return [e.where(e.less(x, e.scalar(-3)), e.scalar(0), e.where(e.greater(x, e.scalar(3)), g, mid))];
};

// y = tanh x ⇒ dx = g · (1 − y²)
export const tanh: GradRule = (ctx, gY) => {
  const { e } = ctx;
  const y = ctx.node.outputs[0]!;
  return [e.mul(only(gY), e.sub(e.scalar(1), e.mul(y, y)))];
};

// y = erf x ⇒ dx = g · 2/√π · exp(−x²)
export const erf: GradRule = (ctx, gY) => {
  const { e } = ctx;
  const x = ctx.node.inputs[0]!;
  return [e.mul(only(gY), e.mul(e.scalar(2 / Math.sqrt(Math.PI)), e.exp(e.neg(e.mul(x, x)))))];
};

// exact: y = x·Φ(x) ⇒ dx = g·(Φ(x) + x·φ(x)); tanh: u = √(2/π)(x + 0.044715x³), t = tanh u ⇒
// dx = g·(½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 0.134145x²))
export const gelu: GradRule = (ctx, gY) => {
  const { e, node } = ctx;
  const g = only(gY);
  const x = node.inputs[0]!;
  const s = (v: number) => e.scalar(v);
  if (getString(node, 'approximate', 'none') === 'tanh') {
    const k = Math.sqrt(2 / Math.PI);
    const x2 = e.mul(x, x);
    const u = e.mul(s(k), e.add(x, e.mul(s(0.044715), e.mul(x2, x))));
    const t = e.op('Tanh', [u]);
    const left = e.mul(s(0.5), e.add(s(1), t));
    const du = e.mul(s(k), e.add(s(1), e.mul(s(0.134145), x2)));
    const right = e.mul(e.mul(s(0.5), x), e.mul(e.sub(s(1), e.mul(t, t)), du));
    return [e.mul(g, e.add(left, right))];
  }
  const cdf = e.mul(s(0.5), e.add(s(1), e.op('Erf', [e.mul(x, s(Math.SQRT1_2))])));
  const pdf = e.mul(s(1 / Math.sqrt(2 * Math.PI)), e.exp(e.mul(s(-0.5), e.mul(x, x))));
  return [e.mul(g, e.add(cdf, e.mul(x, pdf)))];
};

// y = eˣ ⇒ dx = g · y
export const exp: GradRule = (ctx, gY) => [ctx.e.mul(only(gY), ctx.node.outputs[0]!)];

// y = √x ⇒ dx = g · ½ / y
export const sqrt: GradRule = (ctx, gY) => [
  ctx.e.div(ctx.e.mul(only(gY), ctx.e.scalar(0.5)), ctx.node.outputs[0]!),
];

// y = −x ⇒ dx = −g
export const neg: GradRule = (ctx, gY) => [ctx.e.neg(only(gY))];

// y = 1/x ⇒ dx = −g · y²
export const reciprocal: GradRule = (ctx, gY) => {
  const y = ctx.node.outputs[0]!;
  return [ctx.e.neg(ctx.e.mul(only(gY), ctx.e.mul(y, y)))];
};

// y = x (Identity, Dropout in inference, Cast between float types) ⇒ dx = g
export const passThrough: GradRule = (ctx, gY) =>
  ctx.node.inputs.map((_, i) => (i === 0 ? only(gY) : undefined));

// Dropout with training_mode set is not an inference graph.
export const dropout: GradRule = (ctx, gY) => {
  const training = ctx.node.inputs[2] ? ctx.constant(ctx.node.inputs[2]) : undefined;
  if (training && Number(training[0]) !== 0)
    throw new Error(`Dropout '${ctx.node.name}' runs in training mode`);
  if (ctx.node.attributes.has('is_test') && getInt(ctx.node, 'is_test') === 0) {
    throw new Error(`Dropout '${ctx.node.name}' runs in training mode`);
  }
  return passThrough(ctx, gY);
};
