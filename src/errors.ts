// Errors as data: every failure a user can cause is a GradsightError with a stable `code`, a message
// naming what is wrong, and a `hint` saying what to do. The CLI prints `error[code]: message` and the
// hint on one line each; library users switch on `code`.

export type ErrorCode =
  | 'model-not-found'
  | 'not-onnx'
  | 'model-corrupt'
  | 'model-invalid'
  | 'external-data-outside-model-dir'
  | 'external-data-missing'
  | 'file-not-found'
  | 'file-unreadable'
  /** A FIFO, device or socket where a file is read. */
  | 'not-a-regular-file'
  /** A file above a size limit (a flag raises it). */
  | 'file-too-large'
  /** labels.txt, preprocess.json or model.onnx of a model folder that resolves (a symlink) outside it. */
  | 'file-outside-model-dir'
  /** An output (--out folder, a file in it) that cannot be created or written: a file in the way, read-only, a planted symlink. */
  | 'output-unwritable'
  | 'bad-image'
  | 'bad-npy'
  | 'bad-preprocess'
  /** A model description (task, decoder, classes in preprocess.json) that contradicts the model. */
  | 'bad-description'
  | 'bad-labels'
  | 'bad-argument'
  | 'shape-inference'
  | 'unsupported-dtype'
  | 'runtime-error'
  | 'layer-not-found'
  | 'no-default-layer'
  | 'tensor-not-found'
  | 'unsupported-op'
  | 'shape-mismatch'
  | 'no-gradient-path'
  | 'method-not-applicable'
  /** A feature map whose layout (NCHW, channels-last, tokens) cannot be inferred, or a stated one that does not fit. */
  | 'layout-ambiguous'
  | 'layout-mismatch'
  /** NaN or ±Infinity where gradsight needs finite numbers (an input tensor, a preprocessed image). */
  | 'non-finite'
  /** A question or caption with words the model's vocabulary lacks. */
  | 'out-of-vocabulary'
  /** A dataset folder or file whose format is not recognised or whose structure is wrong. */
  | 'dataset-invalid'
  /** An image a dataset lists (a manifest line, an annotation, a split list) that does not exist. */
  | 'dataset-image-missing'
  /** A malformed annotation: bad XML/JSON, a box outside the image or inverted, an unknown RLE or mask colour. */
  | 'annotation-invalid'
  /** A dataset class the model has no label for, and no class map maps. */
  | 'label-unknown'
  /** A bug in gradsight itself (e.g. a gradient rule that breaks its contract); please report it. */
  | 'internal-error';

export class GradsightError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  /** Structured context (file path, node name, op type, ...) for programs that handle the error. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { hint?: string; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'GradsightError';
    this.code = code;
    this.hint = opts.hint;
    this.details = opts.details ?? {};
  }
}

export function isGradsightError(e: unknown, code?: ErrorCode): e is GradsightError {
  return e instanceof GradsightError && (code === undefined || e.code === code);
}

/** Ranks `candidates` by edit distance to `name` (case-insensitive) and returns the closest few. */
export function closestNames(name: string, candidates: readonly string[], count = 5): string[] {
  const target = name.toLowerCase();
  return candidates
    .map((c) => ({
      c,
      d: editDistance(target, c.toLowerCase()) - (c.toLowerCase().includes(target) ? 100 : 0),
    }))
    .sort((a, b) => a.d - b.d)
    .slice(0, count)
    .map((x) => x.c);
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const sub = prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur.push(Math.min(sub, prev[j]! + 1, cur[j - 1]! + 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
