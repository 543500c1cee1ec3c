// The library boundary of explain(): options and inputs checked as the CLI checks its flags, so a
// misuse is a typed GradsightError with a hint, not a TypeError deep inside or a silently wrong map.
// Types say what is allowed; these checks hold for callers without TypeScript (or with `as`).

import { RULE_SETS } from '../autodiff/index.ts';
import { GradsightError } from '../errors.ts';
import { checkRgbImage, type RgbImage } from '../image/rgb-image.ts';
import { NORMALIZATIONS } from '../methods/pipeline.ts';
import { METHOD_IDS } from '../methods/table.ts';
import type { ImageModel } from '../model/image-model.ts';
import { checkInputPixels } from '../model/input-pixels.ts';
import type { TargetRow } from '../targets/index.ts';
import { firstNonFinite } from '../tensor/finite.ts';
import { checkFloat32Tensor, type Float32Tensor } from '../tensor/tensor.ts';
import type { ExplainOptions } from './explainer.ts';

/** SmoothGrad copies per row: each is one more backward pass; beyond this a typo is likelier than intent. */
export const MAX_SMOOTH_SAMPLES = 1000;
/** Explained rows (targets) per image unless `maxTargets` raises it: each row is one more map per method. */
export const DEFAULT_MAX_TARGETS = 100;
/** Bytes the SmoothGrad copies of one explain() call may take (rows × samples × one input). */
export const MAX_SMOOTH_BYTES = 2 ** 30;

const bad = (message: string, hint: string, details: Record<string, unknown> = {}) =>
  new GradsightError('bad-argument', message, { hint, details });

const show = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : String(v));
const isPositiveInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;

/** Checks every field of ExplainOptions that is given (types and ranges; names are checked where used). */
export function checkExplainOptions(o: unknown): asserts o is ExplainOptions {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    throw bad(
      `explain options must be an object, got ${show(o)}`,
      "for example { method: 'gradcam', target: 'top:3' }",
    );
  }
  const opts = o as Record<string, unknown>;
  const { method, target, layers, normalize, smooth, rule } = opts;
  const methods = typeof method === 'string' ? [method] : method;
  if (method !== undefined && (!Array.isArray(methods) || methods.some((m) => typeof m !== 'string'))) {
    throw bad(
      `method must be a method id or a list of them, got ${show(method)}`,
      `methods: ${METHOD_IDS.join(', ')}`,
    );
  }
  if (target === null || (Array.isArray(target) && target.some((t) => t === null || t === undefined))) {
    throw bad(
      'a target is null',
      "give a target string ('pred', 'top:3', 'tabby'), a class index, a spec or a Target",
    );
  }
  if (Array.isArray(target) && target.length === 0) {
    throw bad(
      'no target given: the list is empty',
      "leave target out for the predicted class, or give one, e.g. 'top:3'",
    );
  }
  const { feeds, layerLayout } = opts;
  if (feeds !== undefined && (typeof feeds !== 'object' || feeds === null || Array.isArray(feeds))) {
    throw bad(
      `feeds must be an object of tensors by input name, got ${show(feeds)}`,
      'for example feeds: { input_ids: tensor }',
    );
  }
  if (typeof layerLayout === 'object' && layerLayout !== null)
    checkLayout(layerLayout as Record<string, unknown>);
  if (layers !== undefined && (!Array.isArray(layers) || layers.some((l) => typeof l !== 'string'))) {
    throw bad(
      `layers must be a list of tensor names, got ${show(layers)}`,
      "for example layers: ['features']",
    );
  }
  if (normalize !== undefined && !(NORMALIZATIONS as readonly unknown[]).includes(normalize)) {
    throw bad(
      `normalize must be one of ${NORMALIZATIONS.join(', ')}; got ${show(normalize)}`,
      "for example normalize: 'per-image'",
    );
  }
  if (rule !== undefined && !Object.hasOwn(RULE_SETS, String(rule))) {
    throw bad(`unknown rule set ${show(rule)}`, `rule sets: ${Object.keys(RULE_SETS).join(', ')}`);
  }
  const { profile, signal, onProgress } = opts;
  if (profile !== undefined && profile !== 'cpu' && profile !== 'web') {
    throw bad(
      `unknown profile ${show(profile)}`,
      "profiles: 'cpu' (ONNX Runtime's CPU and wasm kernels), 'web' (WebGPU)",
    );
  }
  if (signal !== undefined && !(typeof signal === 'object' && signal !== null && 'aborted' in signal)) {
    throw bad(`signal must be an AbortSignal, got ${show(signal)}`, 'pass new AbortController().signal');
  }
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw bad(
      `onProgress must be a function, got ${show(onProgress)}`,
      'for example onProgress: (p) => console.log(p.done, p.total)',
    );
  }
  for (const key of ['counterfactual', 'allowNonFinite'] as const) {
    if (opts[key] !== undefined && typeof opts[key] !== 'boolean') {
      throw bad(`${key} must be true or false, got ${show(opts[key])}`, `for example ${key}: true`);
    }
  }
  for (const key of ['targetOutput', 'layerLayout'] as const) {
    const v = opts[key];
    if (
      v !== undefined &&
      typeof v !== 'string' &&
      !(key === 'layerLayout' && typeof v === 'object' && v !== null)
    ) {
      throw bad(
        `${key} must be a string, got ${show(v)}`,
        key === 'targetOutput' ? 'the name of an output or tensor' : "for example layerLayout: 'nhwc'",
      );
    }
  }
  for (const key of ['batchSize', 'maxTargets'] as const) {
    if (opts[key] !== undefined && !isPositiveInt(opts[key])) {
      throw bad(
        `${key} must be a positive whole number, got ${show(opts[key])}`,
        key === 'batchSize'
          ? 'the masked or ablated copies per run (e.g. 32), or leave it out to fit memoryBudget'
          : `the most explained rows per image (default ${DEFAULT_MAX_TARGETS})`,
      );
    }
  }
  const budget = opts.memoryBudget;
  if (budget !== undefined && !(typeof budget === 'number' && budget > 0 && Number.isFinite(budget))) {
    throw bad(
      `memoryBudget must be a positive number of bytes, got ${show(budget)}`,
      'for example memoryBudget: 512 * 2 ** 20',
    );
  }
  if (smooth !== undefined) checkSmooth(smooth);
}

/** A LayerLayout object: what parseLayerLayout would return for 'nchw', 'nhwc' or 'tokens:SKIP:HxW'. */
function checkLayout(l: Record<string, unknown>): void {
  const whole = (v: unknown, min: number) =>
    v === undefined || (Number.isSafeInteger(v) && (v as number) >= min);
  const ok =
    l.kind === 'nchw' || l.kind === 'nhwc'
      ? true
      : l.kind === 'tokens' &&
        whole(l.skip, 0) &&
        whole(l.h, 1) &&
        whole(l.w, 1) &&
        (l.h === undefined) === (l.w === undefined);
  if (!ok) {
    throw bad(
      `layerLayout ${JSON.stringify(l)} is not a layout`,
      "give 'nchw', 'nhwc', 'tokens[:SKIP[:HxW]]', or { kind: 'tokens', skip, h, w } with whole numbers",
    );
  }
}

function checkSmooth(smooth: unknown): void {
  const example = 'for example smooth: { samples: 8, noise: 0.1 }';
  if (typeof smooth !== 'object' || smooth === null)
    throw bad(`smooth must be an object, got ${show(smooth)}`, example);
  const { samples, noise, seed } = smooth as Record<string, unknown>;
  if (!isPositiveInt(samples) || samples > MAX_SMOOTH_SAMPLES) {
    throw bad(
      `smooth.samples must be a whole number from 1 to ${MAX_SMOOTH_SAMPLES}, got ${show(samples)}`,
      `${example}; each sample is one more gradient run per target`,
      { samples },
    );
  }
  if (!(typeof noise === 'number' && noise >= 0 && Number.isFinite(noise))) {
    throw bad(
      `smooth.noise must be a finite number ≥ 0 (σ as a fraction of the input range), got ${show(noise)}`,
      example,
      {
        noise,
      },
    );
  }
  if (seed !== undefined && !Number.isSafeInteger(seed)) {
    throw bad(`smooth.seed must be a whole number, got ${show(seed)}`, 'for example seed: 1');
  }
}

/** The images (checked) or the tensor (checked against the model input) that explain() was given. */
export function checkExplainInput(
  input: unknown,
  model: ImageModel,
): { images: readonly RgbImage[] } | { tensor: Float32Tensor } {
  if (typeof input === 'object' && input !== null && 'dims' in input) {
    return { tensor: checkInputTensor(checkFloat32Tensor(input, 'the input tensor'), model) };
  }
  const list = Array.isArray(input) ? input : [input];
  if (list.length === 0) {
    throw bad(
      'no image to explain: the list is empty',
      'give one RgbImage, a list of them, or an input tensor',
    );
  }
  return { images: list.map((im, i) => checkRgbImage(im, list.length === 1 ? 'the image' : `image ${i}`)) };
}

/** A tensor must have the model input's rank and its static dims (the batch axis aside). */
function checkInputTensor(t: Float32Tensor, model: ImageModel): Float32Tensor {
  const want = model.input.shape;
  const fits =
    t.dims[0]! > 0 &&
    (want === undefined ||
      (want.length === t.dims.length &&
        want.every((d, i) => i === 0 || typeof d !== 'number' || d <= 0 || d === t.dims[i])));
  if (!fits) {
    throw new GradsightError(
      'shape-mismatch',
      `the input tensor is [${t.dims.join(', ')}]; ${model.input.name} is [${(want ?? []).map((d) => d ?? '?').join(', ')}]`,
      {
        hint: `give a float32 tensor [N, ${model.inputDims(1).slice(1).join(', ')}] (at least one row), preprocessed as the model expects`,
        details: { dims: t.dims },
      },
    );
  }
  if (t.dims.length === 4) checkInputPixels(model.spatialOf(t.dims), model.maxInputPixels, 'tensor');
  return t;
}

/**
 * Counts rows per image across target groups and refuses more than `max` for one image: each row
 * is a map per method, so a large `top:K` or a long target list is bounded before it is computed.
 */
export function rowCounter(max: number): { add(rows: readonly TargetRow[]): void; check(k: number): void } {
  const perImage = new Map<number, number>();
  const tooMany = (n: number) =>
    bad(
      `${n} targets per image is more than the limit of ${max}`,
      `ask for fewer (top:K with a smaller K), or raise the limit: --max-targets ${n} (library: maxTargets: ${n})`,
      { targets: n, max },
    );
  return {
    add(rows) {
      for (const r of rows) {
        const n = (perImage.get(r.image) ?? 0) + 1;
        if (n > max) throw tooMany(n);
        perImage.set(r.image, n);
      }
    },
    /** Before a run whose graph will choose k rows per image. */
    check(k) {
      const most = Math.max(0, ...perImage.values());
      if (most + k > max) throw tooMany(most + k);
    },
  };
}

/** NaN or ±Infinity in what is fed to the model: every score and map would be meaningless. */
export function checkFinite(t: Float32Tensor, what: string): void {
  const i = firstNonFinite(t.data);
  if (i >= 0) {
    const v = t.data[i]!;
    throw new GradsightError(
      'non-finite',
      `${what} holds ${v} at flat index ${i} (of ${t.data.length} values)`,
      {
        hint: 'fix the input (a NaN in the .npy, a division by zero in your preprocessing), or pass allowNonFinite: true to explain it anyway',
        details: { index: i, value: v },
      },
    );
  }
}

/** SmoothGrad's noisy copies are allocated at once: refuse a call whose copies would not fit. */
export function checkSmoothCopies(rows: number, samples: number, inputValues: number): void {
  const bytes = rows * samples * inputValues * 4;
  if (samples > 1 && bytes > MAX_SMOOTH_BYTES) {
    throw bad(
      `${rows} rows × ${samples} SmoothGrad samples would take ${(bytes / 2 ** 20).toFixed(0)} MiB of noisy inputs (the limit is ${MAX_SMOOTH_BYTES / 2 ** 20} MiB)`,
      'lower smooth.samples, or explain fewer images or targets per call',
      { rows, samples, bytes },
    );
  }
}
