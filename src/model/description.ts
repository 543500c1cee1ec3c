// The model description: what the image input is (channels, layout: see image/preprocess.ts) and what
// the output means (its task). Read from the same preprocess.json as the preprocessing, flags first:
//
//   {"task": "classification"}                      softmax over the last axis (default for [N, K])
//   {"task": "multi-label"}                         a sigmoid per class
//   {"task": "segmentation", "outputLayout": "NCHW"} per-pixel classes (default for 4-D outputs)
//   {"task": "detection", "decoder": "fastestdet", "scoreThreshold": 0.65, "iouThreshold": 0.45}
//   {"task": "captioning", "vocabulary": "vocab.txt", "maxLength": 12}   (language-description.ts)
//   {"task": "vqa", "vocabulary": "vocab.txt", "answers": "answers.txt"}
//   {"layer": "/attended/Reshape_1_output_0"}       the default CAM layer, any task (checked at open)
//
// Everything stated is checked against the model's output shape here, so a description that
// contradicts the model fails when the model is opened, not as a silently wrong map later.

import { DECODER_IDS, DECODERS, type DecoderId } from '../detect/decoders.ts';
import { DEFAULT_IOU_THRESHOLD } from '../detect/nms.ts';
import { GradsightError } from '../errors.ts';
import type { ChannelCount, Layout, PreprocessConfig } from '../image/preprocess.ts';
import type { ValueInfo } from '../onnx/index.ts';
import {
  describeLanguage,
  LANGUAGE_KEYS,
  LANGUAGE_TASKS,
  type LanguageDescription,
  type LanguageFlags,
} from './language-description.ts';

export const TASKS = [
  'classification',
  'multi-label',
  'segmentation',
  'detection',
  ...LANGUAGE_TASKS,
] as const;
export type TaskKind = (typeof TASKS)[number];

/** Detections scoring below this are dropped before NMS (FastestDet's authors use 0.65). */
export const DEFAULT_SCORE_THRESHOLD = 0.25;
export { DEFAULT_IOU_THRESHOLD };

export type TaskDescription =
  | { readonly kind: 'classification' }
  | { readonly kind: 'multi-label' }
  | { readonly kind: 'segmentation'; readonly outputLayout: Layout }
  | {
      readonly kind: 'detection';
      /** An id of the decoder table (detect/decoders.ts): the output's layout. */
      readonly decoder: DecoderId;
      /** Detections scoring below this are dropped before NMS. */
      readonly scoreThreshold: number;
      /** NMS drops a detection overlapping a better one of its class by more than this IoU. */
      readonly iouThreshold: number;
    }
  /** Image + token prefix → next-token logits [N, L, V]; `vocabulary` is the file's name. */
  | { readonly kind: 'captioning'; readonly vocabulary: string; readonly maxLength: number }
  /** Image + question tokens → answer logits [N, A]. */
  | { readonly kind: 'vqa'; readonly vocabulary: string; readonly answers: string };

export interface ModelDescription {
  /** The image input (from the resolved preprocessing). */
  readonly channels: ChannelCount;
  readonly layout: Layout;
  /** What the described output means. */
  readonly task: TaskDescription;
  /** The described output's name. */
  readonly output: string;
  /** How many classes the output scores (labels align with these); undefined when its shape is symbolic. */
  readonly classes: number | undefined;
  /** True when the task was stated (flags or preprocess.json), false when inferred from the output shape. */
  readonly stated: boolean;
  /** Captioning and VQA: the token input, the vocabulary (and answers), the special tokens. */
  readonly language?: LanguageDescription;
  /** The default CAM layer the description names ("layer"), used instead of the search. */
  readonly layer?: string;
}

/** The description keys as given on the command line or in preprocess.json (all optional). */
export interface DescriptionFlags extends LanguageFlags {
  readonly task?: TaskKind;
  readonly outputLayout?: Layout;
  readonly decoder?: DecoderId;
  readonly scoreThreshold?: number;
  readonly iouThreshold?: number;
  /** The class count, checked against the output shape (and the labels). */
  readonly classes?: number;
  /** The default CAM layer's tensor name (any task), checked against the graph when the model opens. */
  readonly layer?: string;
}

const EXAMPLE =
  'e.g. {"task":"classification"}, {"task":"multi-label"}, {"task":"segmentation","outputLayout":"NCHW"} or ' +
  '{"task":"detection","decoder":"fastestdet","scoreThreshold":0.65,"iouThreshold":0.45}; ' +
  '{"task":"captioning","vocabulary":"vocab.txt"} or {"task":"vqa","vocabulary":"vocab.txt","answers":"answers.txt"}';

/** Checks the description keys of a preprocess object (types and ranges only) and returns them typed. */
export function validateDescription(
  raw: unknown,
  source: string,
  code: 'bad-preprocess' | 'bad-argument' = 'bad-preprocess',
): DescriptionFlags {
  const bad = (key: string, why: string, value?: unknown) =>
    new GradsightError(
      code,
      `${source}: "${key}" ${why}${value === undefined ? '' : ` (got ${JSON.stringify(value)})`}`,
      { hint: `Describe the output ${EXAMPLE}.`, details: { source, key } },
    );
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return {};
  const o = raw as Record<string, unknown>;
  const oneOf = <T extends string>(key: string, allowed: readonly T[]): T | undefined => {
    const v = o[key];
    if (v !== undefined && !allowed.includes(v as T))
      throw bad(key, `must be one of ${allowed.join(', ')}`, v);
    return v as T | undefined;
  };
  const unit = (key: string): number | undefined => {
    const v = o[key];
    if (v !== undefined && !(typeof v === 'number' && v >= 0 && v <= 1)) {
      throw bad(key, 'must be a number from 0 to 1', v);
    }
    return v as number | undefined;
  };
  const out: { -readonly [K in keyof DescriptionFlags]: DescriptionFlags[K] } = {
    task: oneOf('task', TASKS),
    outputLayout: oneOf('outputLayout', ['NCHW', 'NHWC'] as const),
    decoder: oneOf('decoder', DECODER_IDS),
    scoreThreshold: unit('scoreThreshold'),
    iouThreshold: unit('iouThreshold'),
  };
  if (o.classes !== undefined) {
    if (typeof o.classes !== 'number' || !Number.isInteger(o.classes) || o.classes < 1) {
      throw bad('classes', 'must be a positive integer', o.classes);
    }
    out.classes = o.classes;
  }
  for (const key of ['vocabulary', 'answers', 'tokenInput', 'layer'] as const) {
    const v = o[key];
    if (v !== undefined && !(typeof v === 'string' && v !== ''))
      throw bad(key, 'must be a non-empty string', v);
    if (v !== undefined) out[key] = v as string;
  }
  for (const key of ['maxLength', 'tokenLength'] as const) {
    const v = o[key];
    if (v !== undefined && !(Number.isSafeInteger(v) && (v as number) >= 1))
      throw bad(key, 'must be a whole number ≥ 1', v);
    if (v !== undefined) out[key] = v as number;
  }
  out.padding = oneOf('padding', ['left', 'right'] as const);
  // Keys that belong to another task contradict the task stated beside them.
  const task = out.task ?? (out.decoder !== undefined ? 'detection' : undefined);
  if (task !== undefined && task !== 'detection') {
    for (const k of ['decoder', 'scoreThreshold', 'iouThreshold'] as const) {
      if (out[k] !== undefined) throw bad(k, `is a detection setting, but "task" is "${task}"`, out[k]);
    }
  }
  if (task !== undefined && task !== 'segmentation' && out.outputLayout !== undefined) {
    throw bad('outputLayout', `is a segmentation setting, but "task" is "${task}"`, out.outputLayout);
  }
  if (task !== undefined && !(LANGUAGE_TASKS as readonly string[]).includes(task)) {
    for (const k of LANGUAGE_KEYS) {
      if (out[k] !== undefined) throw bad(k, `is a captioning/vqa setting, but "task" is "${task}"`, out[k]);
    }
  }
  for (const k of Object.keys(out) as (keyof DescriptionFlags)[]) if (out[k] === undefined) delete out[k];
  return out;
}

export interface DescribeOptions {
  /** Command-line settings (unvalidated); they win over the file per key. */
  readonly flags?: unknown;
  /** Parsed preprocess.json (unvalidated). */
  readonly file?: unknown;
  readonly fileSource?: string;
  readonly preprocess: PreprocessConfig;
  /** The output being described. */
  readonly output: ValueInfo;
  /** The model's inputs besides the image (a language task's token input is one of them). */
  readonly extraInputs?: readonly ValueInfo[];
  /** The lines of the vocabulary and answers files the description names, as read by the loader. */
  readonly vocabulary?: readonly string[];
  readonly answers?: readonly string[];
}

/** The model description from flags and preprocess.json, checked against the output's shape. */
export function resolveDescription(opts: DescribeOptions): ModelDescription {
  const fileSource = opts.fileSource ?? 'preprocess.json';
  const flags = validateDescription(opts.flags ?? {}, 'command-line options', 'bad-argument');
  const file = opts.file === undefined ? {} : validateDescription(opts.file, fileSource);
  const statedKind = (f: DescriptionFlags) => f.task ?? (f.decoder !== undefined ? 'detection' : undefined);
  // The task is taken whole from the first source that states it; its settings per key, flags first.
  const kind = statedKind(flags) ?? statedKind(file);
  const from = statedKind(flags) !== undefined ? 'command-line options' : fileSource;
  const pick = <K extends keyof DescriptionFlags>(k: K): DescriptionFlags[K] =>
    flags[k] ?? (statedKind(flags) === undefined || statedKind(file) === kind ? file[k] : undefined);
  const shape = opts.output.shape ?? [];
  // The default layer belongs to the model, not to the task: taken from either source, flags first.
  const layer = flags.layer ?? file.layer;
  const base = {
    channels: opts.preprocess.channels,
    layout: opts.preprocess.layout,
    output: opts.output.name,
    ...(layer === undefined ? {} : { layer }),
  };
  if (kind === undefined) {
    const task: TaskDescription =
      shape.length === 4 ? { kind: 'segmentation', outputLayout: 'NCHW' } : { kind: 'classification' };
    const classes = checkClasses(pick('classes'), inferredClasses(task, shape), opts.output, from, task);
    return { ...base, task, classes, stated: false };
  }
  const check = new OutputCheck(opts.output, from);
  let task: TaskDescription;
  let classes: number | undefined;
  if (kind === 'classification' || kind === 'multi-label') {
    task = { kind };
    classes = check.flatClasses(kind);
  } else if (kind === 'segmentation') {
    const outputLayout = pick('outputLayout') ?? 'NCHW';
    task = { kind, outputLayout };
    classes = check.denseClasses(outputLayout);
  } else if (kind === 'captioning' || kind === 'vqa') {
    const flags: LanguageFlags = Object.fromEntries(
      LANGUAGE_KEYS.map((k) => [k, pick(k)]).filter(([, v]) => v !== undefined),
    );
    const { language, classes: words } = describeLanguage({
      task: kind,
      flags,
      from,
      output: opts.output,
      extraInputs: opts.extraInputs ?? [],
      vocabulary: opts.vocabulary,
      answers: opts.answers,
    });
    const vocabulary = flags.vocabulary!;
    task =
      kind === 'captioning'
        ? { kind, vocabulary, maxLength: language.maxLength }
        : { kind, vocabulary, answers: flags.answers! };
    return {
      ...base,
      task,
      classes: checkClasses(pick('classes'), words, opts.output, from, task),
      stated: true,
      language,
    };
  } else {
    const decoder = pick('decoder');
    if (decoder === undefined) {
      throw new GradsightError(
        'bad-description',
        `${from}: "task" is "detection" but no "decoder" is given`,
        {
          hint: `name the output's layout: "decoder": ${DECODER_IDS.map((d) => `"${d}" ${DECODERS[d].describe}`).join('; ')}`,
          details: { source: from, output: opts.output.name, shape },
        },
      );
    }
    task = {
      kind,
      decoder,
      scoreThreshold: pick('scoreThreshold') ?? DEFAULT_SCORE_THRESHOLD,
      iouThreshold: pick('iouThreshold') ?? DEFAULT_IOU_THRESHOLD,
    };
    classes = check.decoderClasses(decoder);
  }
  return {
    ...base,
    task,
    classes: checkClasses(pick('classes'), classes, opts.output, from, task),
    stated: true,
  };
}

const known = (d: unknown): d is number => typeof d === 'number' && Number.isInteger(d) && d > 0;
export const formatDims = (shape: ValueInfo['shape']): string =>
  shape ? `[${shape.map((d) => d ?? '?').join(', ')}]` : '(unknown shape)';

/** The class count old gradsight read off an output: channels of a 4-D output, else the last axis. */
function inferredClasses(task: TaskDescription, shape: ValueInfo['shape'] & {}): number | undefined {
  if (shape.length === 0) return undefined;
  const c = task.kind === 'segmentation' ? shape[1] : shape[shape.length - 1];
  return known(c) ? c : undefined;
}

function checkClasses(
  stated: number | undefined,
  fromShape: number | undefined,
  output: ValueInfo,
  from: string,
  task: TaskDescription,
): number | undefined {
  if (stated === undefined || fromShape === undefined) return stated ?? fromShape;
  if (stated === fromShape) return stated;
  throw new GradsightError(
    'bad-description',
    `${from}: "classes" is ${stated} but the ${task.kind} output ${output.name} ${formatDims(output.shape)} scores ${fromShape} classes${task.kind === 'detection' ? ` (decoder "${task.decoder}")` : ''}`,
    {
      hint: `set "classes" to ${fromShape} or drop it (it is read off the output shape), or check "task"/"decoder"`,
      details: { source: from, output: output.name, stated, fromShape },
    },
  );
}

/** Checks of a stated task against the output's static shape (symbolic axes pass). */
class OutputCheck {
  private readonly shape: ValueInfo['shape'] & {};

  constructor(
    private readonly output: ValueInfo,
    private readonly from: string,
  ) {
    this.shape = output.shape ?? [];
  }

  private fail(why: string, hint: string): GradsightError {
    return new GradsightError(
      'bad-description',
      `${this.from}: ${why}, but output ${this.output.name} is ${formatDims(this.output.shape)}`,
      { hint, details: { source: this.from, output: this.output.name, shape: this.output.shape } },
    );
  }

  /** [N, K] (other axes of size 1 allowed, e.g. [N, K, 1, 1]): K. */
  flatClasses(kind: 'classification' | 'multi-label'): number | undefined {
    const s = this.shape;
    if (this.output.shape === undefined) return undefined;
    const what = kind === 'classification' ? 'a softmax' : 'a sigmoid per class';
    if (s.length < 2)
      throw this.fail(`"task" "${kind}" needs a batch of class scores [N, K]`, 'check the output (--output)');
    const wide = s.slice(1).filter((d) => d !== 1);
    if (wide.length > 1) {
      throw this.fail(
        `"task" "${kind}" (${what} over one class axis) needs [N, K]`,
        s.length === 4
          ? 'a dense [N, C, H, W] output is "task": "segmentation" (or "detection" with a "decoder")'
          : 'give the output of class scores (--output), or describe the task that fits',
      );
    }
    const k = s.slice(1).find((d) => d !== 1) ?? 1;
    return known(k) ? k : undefined;
  }

  denseClasses(layout: Layout): number | undefined {
    const s = this.shape;
    if (this.output.shape === undefined) return undefined;
    if (s.length !== 4) {
      throw this.fail(
        `"task" "segmentation" needs a dense ${layout === 'NCHW' ? '[N, C, H, W]' : '[N, H, W, C]'} output`,
        s.length === 2
          ? 'an [N, K] output is "task": "classification" (or "multi-label")'
          : 'check "task" and the output (--output)',
      );
    }
    const c = layout === 'NCHW' ? s[1] : s[3];
    return known(c) ? c : undefined;
  }

  /** The decoder's own shape check (detect/): a layout that does not fit names the decoders that do. */
  decoderClasses(id: DecoderId): number | undefined {
    if (this.output.shape === undefined) return undefined;
    const s = this.shape;
    const fit = DECODERS[id].fits(s);
    if (!fit.ok) {
      const others = DECODER_IDS.filter((d) => d !== id && DECODERS[d].fits(s).ok);
      throw this.fail(
        `decoder "${id}" reads ${DECODERS[id].describe}: ${fit.reason}`,
        others.length
          ? `this output fits ${others.map((d) => `"decoder": "${d}"`).join(' or ')}`
          : 'check "decoder" and the output (--output)',
      );
    }
    const classes = DECODERS[id].classes(s);
    return known(classes) ? classes : undefined;
  }
}

/** For a labels file that does not fit: a description that would make it fit, if one does. */
export function describeHint(output: ValueInfo, labels: number): string | undefined {
  const s = output.shape ?? [];
  for (const id of DECODER_IDS) {
    if (DECODERS[id].fits(s).ok && DECODERS[id].classes(s) === labels) {
      return `${formatDims(s)} looks like a detector with ${labels} classes: add {"task":"detection","decoder":"${id}"} to preprocess.json (or --task detection --decoder ${id})`;
    }
  }
  if (s.length === 4 && s[3] === labels) {
    return `${formatDims(s)} may be a channels-last segmentation output: add {"task":"segmentation","outputLayout":"NHWC"} to preprocess.json`;
  }
  return undefined;
}
