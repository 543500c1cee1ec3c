// The app's worker: every gradsight call runs here (opening the model, decoding, explaining,
// rendering, layer ranking, compiling), so the page stays responsive. One request at a time runs;
// 'cancel' aborts the running explanation between ONNX Runtime runs (explain()'s AbortSignal).

import {
  COLORMAP_IDS,
  COMPILABLE_METHODS,
  type ColormapId,
  compileExplainer,
  decodeWebImage,
  Explainer,
  type ExplainResult,
  encodeNpy,
  type ImageCanvas,
  type ImageModel,
  imageCanvas,
  imagesToBatch,
  isGradsightError,
  METHODS,
  type MethodId,
  openWebModel,
  type RgbImage,
  rankLayers,
  renderExplanation,
  type TargetInput,
  webModelSource,
} from '../../src/browser.ts';
import type {
  ErrorInfo,
  Explained,
  ExplainRequest,
  LayerRow,
  ModelFiles,
  ModelInfo,
  Reply,
  Request,
  Rgba,
} from './protocol.ts';

interface Scope {
  postMessage(message: Reply, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<Request>) => void) | null;
}
const scope = self as unknown as Scope;

let model: ImageModel | undefined;
let explainer: Explainer | undefined;
let last: { result: ExplainResult; canvas: ImageCanvas } | undefined;
const running = new Map<number, AbortController>();
// The wasm files are served by the app itself (copied at build time), never from a CDN.
const wasmPaths = new URL('./ort/', location.href).href;

const send = (m: Reply, transfer: Transferable[] = []) => scope.postMessage(m, transfer);

scope.onmessage = (e) => {
  const req = e.data;
  if (req.type === 'cancel') {
    running.get(req.id)?.abort(new DOMException('cancelled', 'AbortError'));
    return;
  }
  handle(req).catch((err: unknown) => send({ type: 'error', id: req.id, error: errorInfo(err) }));
};

send({
  type: 'ready',
  id: 0,
  methods: METHODS.map((m) => ({
    id: m.id,
    title: m.title,
    summary: m.summary,
    compilable: COMPILABLE_METHODS.includes(m.id),
    needsLayer: m.output === 'cam' || m.needs.finalMapOf !== undefined,
  })),
  colormaps: COLORMAP_IDS,
});

async function handle(req: Exclude<Request, { type: 'cancel' }>): Promise<void> {
  switch (req.type) {
    case 'open':
      return open(req.id, req.files, req.backend, req.baseUrl);
    case 'explain':
      return explain(req.id, req);
    case 'render': {
      if (!last) throw new Error('nothing explained yet');
      const maps = last.result.explanations.map(
        (x) => render(x, last!.canvas, req.colormap, req.alpha).overlay,
      );
      return send(
        { type: 'rendered', id: req.id, maps },
        maps.map((m) => m.data.buffer),
      );
    }
    case 'rank':
      return rank(req.id, req.image, req.classIndex);
    case 'npy': {
      const x = last?.result.explanations[req.index];
      if (!x) throw new Error('no such explanation');
      const { width: w, height: h } = x;
      const bytes = x.map
        ? encodeNpy({ dtype: 'float32', dims: [h, w], data: x.map })
        : encodeNpy({ dtype: 'float32', dims: [3, h, w], data: x.pixels! });
      return send({ type: 'file', id: req.id, name: `${x.method}.npy`, bytes }, [bytes.buffer]);
    }
    case 'compile': {
      const m = need(model);
      const compiled = compileExplainer(m.source.bytes, m.model, {
        method: req.method,
        shapes: await m.shapes(),
        output: m.output.name,
        imageInput: m.input.name,
        ...(req.layer ? { layers: [req.layer] } : {}),
        ...(req.counterfactual ? { counterfactual: true } : {}),
      });
      const name = `${req.method}${req.counterfactual ? '-counterfactual' : ''}.explainer.onnx`;
      return send({ type: 'file', id: req.id, name, bytes: compiled.bytes });
    }
  }
}

async function open(id: number, given: ModelFiles, backend: string, baseUrl?: string) {
  last = undefined;
  const previous = explainer;
  explainer = undefined;
  model = undefined;
  await previous?.release();
  const files = [...given];
  const web = { backend: backend as 'auto' | 'wasm' | 'webgpu', wasmPaths };
  let source = webModelSource(files);
  let m: ImageModel;
  for (;;) {
    try {
      m = await openWebModel(source, { web });
      break;
    } catch (e) {
      // A model opened by URL keeps tensors in files beside it: fetch the one it names, then retry.
      const location = isGradsightError(e, 'file-not-found') ? e.details.location : undefined;
      if (baseUrl === undefined || typeof location !== 'string' || files.length > 64) throw e;
      const res = await fetch(new URL(location, baseUrl));
      if (!res.ok) throw e;
      files.push(new File([await res.blob()], location));
      source = webModelSource(files);
    }
  }
  const { scores } = await rankLayers(m, undefined);
  const def = await m.defaultLayer().catch(() => undefined);
  model = m;
  explainer = Explainer.fromModel(m);
  const classes = m.labels?.length ?? Number(m.output.shape?.at(-1) ?? 0);
  const info: ModelInfo = {
    name: source.name ?? 'model',
    labels: m.labels ?? Array.from({ length: Math.max(classes, 0) }, (_, i) => String(i)),
    size: m.preprocess.size,
    task: m.description.task.kind,
    layers: scores.map(layerRow),
    defaultLayer: def?.name,
    runtime: m.runtime.name,
  };
  send({ type: 'opened', id, info });
}

function layerRow(s: Awaited<ReturnType<typeof rankLayers>>['scores'][number]): LayerRow {
  return {
    name: s.layer.name,
    op: s.layer.op,
    shape: `[${s.layer.shape.join(', ')}]`,
    resolution: s.resolution,
    ...(s.kept !== undefined ? { kept: s.kept } : {}),
    isDefault: s.isDefault,
  };
}

async function explain(id: number, req: ExplainRequest): Promise<void> {
  const ex = need(explainer);
  const image = await decodeWebImage(req.image, { source: req.imageName });
  const abort = new AbortController();
  running.set(id, abort);
  const signal = req.cancelFlag ? flagSignal(req.cancelFlag, abort.signal) : abort.signal;
  let result: ExplainResult;
  try {
    result = await ex.explain(image, {
      method: req.methods as MethodId[],
      ...(req.target.trim() ? { target: targetOf(req.target) } : {}),
      ...(req.counterfactual ? { counterfactual: true } : {}),
      ...(req.layer ? { layers: [req.layer] } : {}),
      ...(req.caption ? { caption: req.caption } : {}),
      ...(req.question ? { question: req.question } : {}),
      signal,
      onProgress: (p) => send({ type: 'progress', id, done: p.done, total: p.total, step: p.step }),
    });
  } finally {
    running.delete(id);
  }
  const canvas = imageCanvas({ image }, ex.model.preprocess, 'original');
  last = { result, canvas };
  const maps = result.explanations.map((x) => ({
    method: x.method,
    target: {
      ...(x.target.index !== undefined ? { index: x.target.index } : {}),
      label: x.target.label,
      description: x.target.description,
      counterfactual: x.target.counterfactual,
      ...(x.target.probability !== undefined ? { probability: x.target.probability } : {}),
    },
    layers: x.layers,
    width: x.width,
    height: x.height,
    map: (x.map ?? x.pixels!).slice(),
    kind: x.map ? ('cam' as const) : ('pixels' as const),
    ...render(x, canvas, req.colormap, req.alpha),
  }));
  const explained: Explained = {
    imageName: req.imageName,
    size: { width: image.width, height: image.height },
    predictions: (result.predictions[0]?.top ?? []).map((c) => ({
      index: c.index,
      label: c.label,
      probability: c.score,
    })),
    maps,
    seconds: result.seconds,
  };
  send(
    { type: 'explained', id, result: explained },
    maps.flatMap((m) => [m.map.buffer, m.overlay.data.buffer]),
  );
}

function render(
  x: ExplainResult['explanations'][number],
  canvas: ImageCanvas,
  colormap: string,
  alpha: number,
) {
  const r = renderExplanation(x, canvas, { colormap: colormap as ColormapId, alpha });
  return {
    overlay: rgba(r.image),
    ...(r.entry.box ? { box: r.entry.box } : {}),
    entry: JSON.parse(JSON.stringify(r.entry)) as unknown,
  };
}

async function rank(id: number, image: Blob, classIndex: number | undefined): Promise<void> {
  const m = need(model);
  const img = await decodeWebImage(image);
  const { scores } = await rankLayers(m, imagesToBatch([img], m.preprocess), {
    ...(classIndex !== undefined ? { classIndex } : {}),
  });
  send({ type: 'ranked', id, layers: scores.map(layerRow) });
}

/**
 * An AbortSignal that is also aborted when the page sets the shared flag: explain() reads `aborted`
 * and calls throwIfAborted() between runs, which sees the flag even while messages wait.
 */
function flagSignal(flag: Int32Array, inner: AbortSignal): AbortSignal {
  const cancelled = () => inner.aborted || Atomics.load(flag, 0) !== 0;
  const reason = () => (inner.aborted ? inner.reason : new DOMException('cancelled', 'AbortError'));
  return new Proxy(inner, {
    get(target, key) {
      if (key === 'aborted') return cancelled();
      if (key === 'reason') return cancelled() ? reason() : undefined;
      if (key === 'throwIfAborted') {
        return () => {
          if (cancelled()) throw reason();
        };
      }
      const v = Reflect.get(target, key, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** A class index typed as digits is a number target; anything else is the CLI's target syntax. */
function targetOf(t: string): TargetInput {
  const s = t.trim();
  return /^\d+$/.test(s) ? Number(s) : s;
}

function rgba(img: RgbImage): Rgba {
  const n = img.width * img.height;
  const data = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    data[4 * i] = img.data[3 * i]!;
    data[4 * i + 1] = img.data[3 * i + 1]!;
    data[4 * i + 2] = img.data[3 * i + 2]!;
    data[4 * i + 3] = 255;
  }
  return { width: img.width, height: img.height, data };
}

function need<T>(x: T | undefined): T {
  if (x === undefined) throw Object.assign(new Error('open a model first'), { code: 'no-model' });
  return x;
}

function errorInfo(e: unknown): ErrorInfo {
  if (isGradsightError(e)) return { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
  if (e instanceof DOMException && e.name === 'AbortError')
    return { code: 'cancelled', message: 'cancelled' };
  const code = (e as { code?: unknown })?.code;
  return {
    code: typeof code === 'string' ? code : 'error',
    message: e instanceof Error ? e.message : String(e),
  };
}
