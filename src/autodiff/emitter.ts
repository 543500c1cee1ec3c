// Emits the backward graph: ONNX nodes and constant initializers with unique names, in the form the
// model's opset expects, collected as a GraphPatch to append to the model's bytes (never re-encoding
// the forward graph). Rules call its small op vocabulary; only this file knows opset differences.

import type { MessageInitShape } from '@bufbuild/protobuf';
import { AttributeProto_AttributeType as A, type NodeProtoSchema, type TensorProtoSchema } from 'onnx-buf';

type NodeInit = MessageInitShape<typeof NodeProtoSchema>;
type TensorInit = MessageInitShape<typeof TensorProtoSchema>;

/** Explicitly typed attribute values: ONNX distinguishes INT from FLOAT, JS numbers do not. */
export type AttrArg =
  | { readonly i: number }
  | { readonly f: number }
  | { readonly ints: readonly number[] }
  | { readonly floats: readonly number[] }
  | { readonly s: string };

export type Attrs = Readonly<Record<string, AttrArg>>;

/** ONNX TensorProto data types used by the backward graph. */
export const ONNX_FLOAT = 1;

export class Emitter {
  readonly nodes: NodeInit[] = [];
  readonly initializers: TensorInit[] = [];
  /** Which forward node's rule emitted each gradient tensor (for error messages). */
  readonly origin = new Map<string, string>();
  private counter = 0;
  private scope = 'grad';
  private readonly constCache = new Map<string, string>();

  constructor(
    /** The model's ai.onnx opset: decides attribute-vs-input forms. */
    readonly opset: number,
    private readonly prefix = 'gradsight',
  ) {}

  /** Names emitted tensors after the forward node whose rule is running. */
  enter(scope: string): void {
    this.scope = scope;
  }

  fresh(hint: string): string {
    return `${this.prefix}/${this.scope}/${hint}_${this.counter++}`;
  }

  /** Emits one node and returns its output names. */
  emit(op: string, inputs: readonly string[], attrs: Attrs = {}, outputs = 1): string[] {
    const outs = Array.from({ length: outputs }, () => this.fresh(op));
    this.nodes.push({
      opType: op,
      domain: '',
      name: `${outs[0]}/${op}`,
      input: [...inputs],
      output: outs,
      attribute: Object.entries(attrs).map(([name, v]) => attribute(name, v)),
    });
    for (const o of outs) this.origin.set(o, this.scope);
    return outs;
  }

  op(op: string, inputs: readonly string[], attrs: Attrs = {}): string {
    return this.emit(op, inputs, attrs)[0]!;
  }

  /** A float32 constant (initializer); identical small constants are shared. */
  constF(values: ArrayLike<number>, dims: readonly number[]): string {
    const data = Float32Array.from(values as ArrayLike<number>);
    const key = data.length <= 16 ? `f:${dims.join(',')}:${Array.from(data).join(',')}` : undefined;
    return this.constant(key, dims, ONNX_FLOAT, new Uint8Array(data.buffer));
  }

  scalar(v: number): string {
    return this.constF([v], []);
  }

  constI64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    const key = values.length <= 16 ? `i:${dims.join(',')}:${values.join(',')}` : undefined;
    return this.constant(key, dims, 7, new Uint8Array(data.buffer));
  }

  private constant(
    key: string | undefined,
    dims: readonly number[],
    dataType: number,
    raw: Uint8Array<ArrayBuffer>,
  ): string {
    const hit = key === undefined ? undefined : this.constCache.get(key);
    if (hit) return hit;
    const name = `${this.prefix}/const_${this.counter++}`;
    this.initializers.push({ name, dims: dims.map((d) => BigInt(d)), dataType, rawData: raw });
    if (key !== undefined) this.constCache.set(key, name);
    return name;
  }

  // ── the op vocabulary rules use ──────────────────────────────────────────────────────────────
  add = (a: string, b: string) => this.op('Add', [a, b]);
  sub = (a: string, b: string) => this.op('Sub', [a, b]);
  mul = (a: string, b: string) => this.op('Mul', [a, b]);
  div = (a: string, b: string) => this.op('Div', [a, b]);
  neg = (a: string) => this.op('Neg', [a]);
  relu = (a: string) => this.op('Relu', [a]);
  exp = (a: string) => this.op('Exp', [a]);
  greater = (a: string, b: string) => this.op('Greater', [a, b]);
  less = (a: string, b: string) => this.op('Less', [a, b]);
  equal = (a: string, b: string) => this.op('Equal', [a, b]);
  where = (c: string, a: string, b: string) => this.op('Where', [c, a, b]);
  castFloat = (a: string) => this.op('Cast', [a], { to: { i: ONNX_FLOAT } });
  shapeOf = (a: string) => this.op('Shape', [a]);
  reshape = (a: string, shape: string) => this.op('Reshape', [a, shape]);
  transpose = (a: string, perm: readonly number[]) => this.op('Transpose', [a], { perm: { ints: perm } });
  matmul = (a: string, b: string) => this.op('MatMul', [a, b]);

  /** g reshaped to x's runtime shape (works with a symbolic batch). */
  reshapeLike(g: string, x: string): string {
    return this.reshape(g, this.shapeOf(x));
  }

  expandLike(g: string, x: string): string {
    return this.op('Expand', [g, this.shapeOf(x)]);
  }

  /** dims [from, to) of x's runtime shape, as an int64 vector. */
  dimsOf(x: string, from: number, to: number): string {
    return this.slice(this.shapeOf(x), [from], [to], [0]);
  }

  /**
   * The number of elements of x along `axes` at run time, as a float32 scalar (the divisor of a mean
   * whose axes have no static size). Cast before the product: float ReduceProd runs on every backend.
   */
  countAlong(x: string, axes: readonly number[]): string {
    const dims = this.castFloat(this.op('Gather', [this.shapeOf(x), this.constI64(axes)]));
    return this.op('ReduceProd', [dims], { keepdims: { i: 0 } });
  }

  unsqueeze(x: string, axes: readonly number[]): string {
    if (this.opset >= 13) return this.op('Unsqueeze', [x, this.constI64(axes)]);
    return this.op('Unsqueeze', [x], { axes: { ints: axes } });
  }

  squeeze(x: string, axes: readonly number[]): string {
    if (this.opset >= 13) return this.op('Squeeze', [x, this.constI64(axes)]);
    return this.op('Squeeze', [x], { axes: { ints: axes } });
  }

  reduceSum(x: string, axes: readonly number[], keepdims: boolean): string {
    if (axes.length === 0) return x;
    const k = { i: keepdims ? 1 : 0 };
    if (this.opset >= 13) return this.op('ReduceSum', [x, this.constI64(axes)], { keepdims: k });
    return this.op('ReduceSum', [x], { axes: { ints: axes }, keepdims: k });
  }

  reduceMean(x: string, axes: readonly number[], keepdims: boolean): string {
    const k = { i: keepdims ? 1 : 0 };
    if (this.opset >= 18) return this.op('ReduceMean', [x, this.constI64(axes)], { keepdims: k });
    return this.op('ReduceMean', [x], { axes: { ints: axes }, keepdims: k });
  }

  /** ReduceMin / ReduceMax / ReduceL1 (axes became an input in opset 18, as for ReduceMean). */
  reduceExtreme(
    op: 'ReduceMin' | 'ReduceMax' | 'ReduceL1',
    x: string,
    axes: readonly number[],
    keepdims: boolean,
  ): string {
    const k = { i: keepdims ? 1 : 0 };
    if (this.opset >= 18) return this.op(op, [x, this.constI64(axes)], { keepdims: k });
    return this.op(op, [x], { axes: { ints: axes }, keepdims: k });
  }

  slice(
    x: string,
    starts: readonly number[],
    ends: readonly number[],
    axes: readonly number[],
    steps?: readonly number[],
  ): string {
    const inputs = [x, this.constI64(starts), this.constI64(ends), this.constI64(axes)];
    if (steps) inputs.push(this.constI64(steps));
    return this.op('Slice', inputs);
  }

  /** Constant padding; `pads` = [begin per axis..., end per axis...] over all axes. */
  pad(x: string, pads: readonly number[], value = 0): string {
    if (pads.every((p) => p === 0)) return x;
    return this.op('Pad', [x, this.constI64(pads), this.scalar(value)], { mode: { s: 'constant' } });
  }

  cumSum(x: string, axis: number): string {
    return this.op('CumSum', [x, this.constI64([axis], [])]);
  }

  concat(xs: readonly string[], axis: number): string {
    return xs.length === 1 ? xs[0]! : this.op('Concat', xs, { axis: { i: axis } });
  }
}

function attribute(name: string, v: AttrArg) {
  if ('i' in v) return { name, type: A.INT, i: BigInt(v.i) };
  if ('f' in v) return { name, type: A.FLOAT, f: v.f };
  if ('ints' in v) return { name, type: A.INTS, ints: v.ints.map((x) => BigInt(x)) };
  if ('floats' in v) return { name, type: A.FLOATS, floats: [...v.floats] };
  return { name, type: A.STRING, s: new TextEncoder().encode(v.s) };
}
