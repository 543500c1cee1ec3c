// The page: controls, the image list, the maps and downloads. It holds no gradsight code: files and
// choices go to the worker (worker.ts), which answers with pixels and numbers. When an explanation is
// done it is also on window.gradsightResult, for scripts and tests (README, "Browser app").

import { $, download, drawRgba, element } from './dom.ts';
import { droppedFiles, fetchFile, fetchModelFiles, readQuery, splitFiles } from './files.ts';
import type {
  ErrorInfo,
  Explained,
  LayerRow,
  MethodRow,
  ModelInfo,
  Reply,
  Request,
  Rgba,
  Unnumbered,
} from './protocol.ts';

type Pending = { resolve: (r: Reply) => void; reject: (e: ErrorInfo) => void; progress?: (r: Reply) => void };

declare global {
  interface Window {
    gradsightResult?: unknown;
    gradsightError?: ErrorInfo & { seq: number };
  }
}

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const pending = new Map<number, Pending>();
let nextId = 1;
let methods: readonly MethodRow[] = [];
let info: ModelInfo | undefined;
const images: { file: File; url: string }[] = [];
let selected = -1;
let result: Explained | undefined;
let running: number | undefined;
let again = false;
let seq = 0;
let cancelRunning = () => {};
const query = readQuery(location.search);
const ready = new Promise<void>((resolve) => {
  worker.addEventListener('message', (e: MessageEvent<Reply>) => {
    const r = e.data;
    if (r.type === 'ready') {
      methods = r.methods;
      setupControls(r.colormaps);
      return resolve();
    }
    const p = pending.get(r.id);
    if (!p) return;
    if (r.type === 'progress') return p.progress?.(r);
    pending.delete(r.id);
    if (r.type === 'error') p.reject(r.error);
    else p.resolve(r);
  });
});
worker.addEventListener('error', (e) =>
  showError({ code: 'worker', message: `the worker stopped: ${e.message}` }),
);

function call(
  req: Unnumbered<Request>,
  progress?: (r: Reply) => void,
): { id: number; reply: Promise<Reply> } {
  const id = nextId++;
  const reply = new Promise<Reply>((resolve, reject) => {
    pending.set(id, { resolve, reject, ...(progress ? { progress } : {}) });
  });
  worker.postMessage({ ...req, id } as Request);
  return { id, reply };
}

function showError(e: ErrorInfo): void {
  const m = $('#message');
  m.hidden = false;
  m.textContent = `${e.message}${e.hint ? `\n${e.hint}` : ''}`;
  m.dataset.code = e.code;
  window.gradsightError = { ...e, seq: ++seq };
}

function clearError(): void {
  $('#message').hidden = true;
}

function setState(state: 'idle' | 'busy'): void {
  document.body.dataset.state = state;
  const busy = state === 'busy';
  $<HTMLButtonElement>('#cancel').disabled = !busy;
  $<HTMLButtonElement>('#explain').disabled = busy || !info || selected < 0;
  $<HTMLButtonElement>('#rank-layers').disabled = busy || !info || selected < 0;
  $('#progress').hidden = !busy;
}

function setupControls(colormaps: readonly string[]): void {
  const box = $('#methods');
  const chosen = new Set(query.methods ?? ['gradcam']);
  for (const m of methods) {
    const input = element('input', { type: 'checkbox', value: m.id, checked: chosen.has(m.id) });
    input.addEventListener('change', () => explainSoon());
    box.append(element('label', { title: m.summary }, input, m.title));
  }
  const cm = $<HTMLSelectElement>('#colormap');
  for (const c of colormaps) cm.append(element('option', { value: c }, c));
  cm.addEventListener('change', rerender);
  $('#opacity').addEventListener('change', rerender);
  $('#show-box').addEventListener('change', () => result && showMaps(result));
  $<HTMLInputElement>('#counterfactual').checked = query.counterfactual;
  $('#counterfactual').addEventListener('change', () => explainSoon());
  $('#layer').addEventListener('change', () => explainSoon());
  if (query.target) $<HTMLInputElement>('#target-search').value = query.target;
  if (query.question) $<HTMLInputElement>('#question').value = query.question;
  if (query.caption) $<HTMLInputElement>('#caption').value = query.caption;
  $('#question').addEventListener('change', () => explainSoon());
  $('#caption').addEventListener('change', () => explainSoon());
  $('#target-search').addEventListener('change', () => explainSoon());
  $('#explain').addEventListener('click', () => explainSoon());
  $('#cancel').addEventListener('click', () => {
    again = false;
    cancelRunning();
  });
  $('#rank-layers').addEventListener('click', () => void rankOnImage());
  $('#download-json').addEventListener('click', downloadResults);
}

async function openModel(files: File[], baseUrl?: string): Promise<void> {
  clearError();
  setState('busy');
  $('#status').textContent = 'opening the model…';
  try {
    const r = await call({ type: 'open', files, backend: query.backend, ...(baseUrl ? { baseUrl } : {}) })
      .reply;
    if (r.type !== 'opened') return;
    info = r.info;
    result = undefined;
    $('#maps').replaceChildren();
    $('#top5').replaceChildren();
    $('#runtime').textContent = `runtime: ${info.runtime}`;
    $('#model-info').textContent =
      `${info.name}: ${info.task}, ${info.labels.length} classes, input ${info.size[1]}×${info.size[0]}`;
    $('#labels').replaceChildren(...info.labels.map((l) => element('option', { value: l })));
    showLayers(info.layers);
    // Captioning and VQA models take a caption or a question.
    const task = info.task;
    $('#language').hidden = task !== 'captioning' && task !== 'vqa';
    for (const el of document.querySelectorAll<HTMLElement>('#language [data-task]')) {
      el.hidden = el.dataset.task !== task;
    }
    if (query.layer) $<HTMLSelectElement>('#layer').value = query.layer;
  } catch (e) {
    info = undefined;
    $('#model-info').textContent = 'No model open.';
    const name = files.find((f) => f.name.toLowerCase().endsWith('.onnx'))?.name ?? 'the model';
    const err = e as ErrorInfo;
    showError({ ...err, message: `cannot open ${name}: ${err.message}` });
  } finally {
    $('#status').textContent = '';
    setState('idle');
  }
  if (info && selected >= 0) explainSoon();
}

function showLayers(layers: readonly LayerRow[]): void {
  const select = $<HTMLSelectElement>('#layer');
  const keep = select.value;
  const auto = info?.defaultLayer ? `auto: ${info.defaultLayer}` : 'auto';
  const rows = layers.map((l, i) => {
    const kept = l.kept !== undefined ? `, keeps ${(100 * l.kept).toFixed(0)}%` : '';
    return element(
      'option',
      { value: l.name },
      `${i + 1}. ${l.name} ${l.shape}${kept}${l.isDefault ? ' (default)' : ''}`,
    );
  });
  select.replaceChildren(element('option', { value: '' }, auto), ...rows);
  select.value = layers.some((l) => l.name === keep) ? keep : '';
}

function addImages(files: File[]): void {
  const first = images.length;
  for (const file of files) {
    const url = URL.createObjectURL(file);
    images.push({ file, url });
    const li = element('li', { title: file.name }, element('img', { src: url, alt: file.name }));
    li.addEventListener('click', () => selectImage(images.findIndex((x) => x.file === file)));
    $('#images').append(li);
  }
  if (files.length) selectImage(first);
}

function selectImage(i: number): void {
  selected = i;
  for (const [j, li] of [...$('#images').children].entries()) li.classList.toggle('selected', j === i);
  $('#original').replaceChildren(element('img', { src: images[i]!.url, alt: images[i]!.file.name }));
  setState(document.body.dataset.state === 'busy' ? 'busy' : 'idle');
  explainSoon();
}

function chosenMethods(): string[] {
  return [...document.querySelectorAll<HTMLInputElement>('#methods input:checked')].map((i) => i.value);
}

/** The target field: a label from the list becomes its class index; anything else is target syntax. */
function chosenTarget(): string {
  const v = $<HTMLInputElement>('#target-search').value.trim();
  const i = info?.labels.indexOf(v) ?? -1;
  // Empty: the model's default target (the predicted class; every word of a caption).
  return i >= 0 && !/^\d+$/.test(v) ? String(i) : v;
}

/** Explains the selected image now, or after the running explanation (which is cancelled). */
function explainSoon(): void {
  if (!info || selected < 0) return;
  if (running !== undefined) {
    again = true;
    cancelRunning();
    return;
  }
  void explainNow();
}

async function explainNow(): Promise<void> {
  const methodIds = chosenMethods();
  if (!methodIds.length) return showError({ code: 'bad-argument', message: 'choose at least one method' });
  const question = info?.task === 'vqa' ? $<HTMLInputElement>('#question').value.trim() : '';
  const caption = info?.task === 'captioning' ? $<HTMLInputElement>('#caption').value.trim() : '';
  if (info?.task === 'vqa' && !question) {
    return showError({
      code: 'bad-argument',
      message: 'this is a VQA model: type a question to explain its answer',
    });
  }
  clearError();
  const image = images[selected]!;
  const layer = $<HTMLSelectElement>('#layer').value;
  const bar = $<HTMLProgressElement>('#progress');
  bar.value = 0;
  setState('busy');
  $('#status').textContent = 'explaining…';
  const started = performance.now();
  // Cancel through shared memory where the page may use it (cross-origin isolated), see protocol.ts.
  const cancelFlag = crossOriginIsolated ? new Int32Array(new SharedArrayBuffer(4)) : undefined;
  cancelRunning = () => {
    if (cancelFlag) Atomics.store(cancelFlag, 0, 1);
    worker.postMessage({ type: 'cancel', id } satisfies Request);
  };
  const { id, reply } = call(
    {
      type: 'explain',
      ...(cancelFlag ? { cancelFlag } : {}),
      image: image.file,
      imageName: image.file.name,
      methods: methodIds,
      target: chosenTarget(),
      counterfactual: $<HTMLInputElement>('#counterfactual').checked,
      ...(layer ? { layer } : {}),
      ...(question ? { question } : {}),
      ...(caption ? { caption } : {}),
      colormap: $<HTMLSelectElement>('#colormap').value,
      alpha: Number($<HTMLInputElement>('#opacity').value),
    },
    (p) => {
      if (p.type !== 'progress') return;
      bar.max = p.total;
      bar.value = p.done;
      $('#status').textContent = `${p.step === 'run' ? 'gradients' : p.step} done (${p.done}/${p.total})`;
    },
  );
  running = id;
  try {
    const r = await reply;
    if (r.type === 'explained') {
      result = r.result;
      showMaps(r.result);
      showTop5(r.result);
      publish(r.result);
      $('#status').textContent = `done in ${((performance.now() - started) / 1000).toFixed(2)} s`;
    }
  } catch (e) {
    const err = e as ErrorInfo;
    $('#status').textContent = err.code === 'cancelled' ? 'cancelled' : '';
    if (err.code !== 'cancelled')
      showError({ ...err, message: `cannot explain ${image.file.name}: ${err.message}` });
  } finally {
    running = undefined;
    cancelRunning = () => {};
    setState('idle');
  }
  if (again) {
    again = false;
    void explainNow();
  }
}

function publish(r: Explained): void {
  const maps = r.maps.map((m) => ({
    method: m.method,
    target: m.target,
    layers: m.layers,
    width: m.width,
    height: m.height,
    map: m.map,
    kind: m.kind,
    ...(m.box ? { box: m.box } : {}),
  }));
  window.gradsightResult = { seq: ++seq, image: r.imageName, ...maps[0], maps, predictions: r.predictions };
}

function showTop5(r: Explained): void {
  const current = r.maps[0]?.target.index;
  const rows = r.predictions.map((p) => {
    const input = element('input', {
      type: 'radio',
      name: 'class',
      value: String(p.index),
      checked: p.index === current,
    });
    input.addEventListener('change', () => {
      $<HTMLInputElement>('#target-search').value = String(p.index);
      explainSoon();
    });
    const bar = element('span', { className: 'bar' });
    bar.style.width = `${Math.round(80 * p.probability)}px`;
    return element(
      'li',
      {},
      element('label', {}, input, `${p.label} ${(100 * p.probability).toFixed(1)}%`, bar),
    );
  });
  $('#top5').replaceChildren(...rows);
}

function showMaps(r: Explained): void {
  const showBox = $<HTMLInputElement>('#show-box').checked;
  const figures = r.maps.map((m, i) => {
    const canvas = drawRgba(m.overlay);
    const frame = element('div', { className: 'frame' }, canvas);
    if (m.box && showBox) {
      const b = element('div', { className: 'box' });
      const { width: W, height: H } = r.size;
      Object.assign(b.style, {
        left: `${(100 * m.box.x0) / W}%`,
        top: `${(100 * m.box.y0) / H}%`,
        width: `${(100 * (m.box.x1 + 1 - m.box.x0)) / W}%`,
        height: `${(100 * (m.box.y1 + 1 - m.box.y0)) / H}%`,
      });
      frame.append(b);
    }
    const spec = methods.find((x) => x.id === m.method);
    const prob = m.target.probability !== undefined ? ` (${(100 * m.target.probability).toFixed(1)}%)` : '';
    const png = element('button', { type: 'button' }, 'PNG');
    png.addEventListener('click', () =>
      canvas.toBlob((b) => b && download(b, `${m.method}.png`), 'image/png'),
    );
    const npy = element('button', { type: 'button' }, '.npy');
    npy.addEventListener('click', () => void fetchFromWorker({ type: 'npy', index: i }));
    const buttons = element('div', { className: 'row' }, png, npy);
    if (spec?.compilable) {
      const onnx = element(
        'button',
        { type: 'button', title: 'an ONNX model that outputs this map' },
        '.onnx',
      );
      onnx.addEventListener('click', () => {
        const layer = $<HTMLSelectElement>('#layer').value;
        void fetchFromWorker({
          type: 'compile',
          method: m.method,
          ...(layer ? { layer } : {}),
          counterfactual: m.target.counterfactual,
        });
      });
      buttons.append(onnx);
    }
    const caption = element(
      'figcaption',
      {},
      element('strong', {}, spec?.title ?? m.method),
      ` — ${m.target.counterfactual ? 'counterfactual of ' : ''}${m.target.label}${prob}`,
      buttons,
    );
    return element('figure', { dataset: { method: m.method } }, frame, caption);
  });
  $('#maps').replaceChildren(...figures);
  $<HTMLButtonElement>('#download-json').disabled = false;
}

function rerender(): void {
  if (!result || running !== undefined) return;
  const colormap = $<HTMLSelectElement>('#colormap').value;
  const alpha = Number($<HTMLInputElement>('#opacity').value);
  const current = result;
  call({ type: 'render', colormap, alpha }).reply.then(
    (r) => {
      if (r.type !== 'rendered' || current !== result) return;
      result = { ...current, maps: current.maps.map((m, i) => ({ ...m, overlay: r.maps[i] as Rgba })) };
      showMaps(result);
    },
    (e: ErrorInfo) => showError(e),
  );
}

async function rankOnImage(): Promise<void> {
  if (!info || selected < 0) return;
  setState('busy');
  $('#status').textContent = 'ranking layers on this image…';
  try {
    const index = result?.maps[0]?.target.index;
    const r = await call({
      type: 'rank',
      image: images[selected]!.file,
      ...(index !== undefined ? { classIndex: index } : {}),
    }).reply;
    if (r.type === 'ranked') showLayers(r.layers);
    $('#status').textContent = 'layers ranked by the class probability each map keeps';
  } catch (e) {
    showError(e as ErrorInfo);
    $('#status').textContent = '';
  } finally {
    setState('idle');
  }
}

async function fetchFromWorker(req: Unnumbered<Request>): Promise<void> {
  try {
    const r = await call(req).reply;
    if (r.type === 'file') download(new Blob([r.bytes as BlobPart]), r.name);
  } catch (e) {
    showError(e as ErrorInfo);
  }
}

function downloadResults(): void {
  if (!result) return;
  const json = {
    image: result.imageName,
    size: result.size,
    model: info?.name,
    predictions: result.predictions,
    explanations: result.maps.map((m) => m.entry),
    seconds: result.seconds,
  };
  download(new Blob([`${JSON.stringify(json, null, 2)}\n`], { type: 'application/json' }), 'results.json');
}

async function handleFiles(files: File[]): Promise<void> {
  const { model, images: imgs, other } = splitFiles(files);
  if (other.length && !model) {
    showError({
      code: 'bad-argument',
      message: `not a model or an image: ${other.map((f) => f.name).join(', ')}`,
      hint: 'drop an .onnx file (with its preprocess.json and labels.txt), a model folder, or images',
    });
  }
  if (model) await openModel(model);
  if (imgs.length) addImages(imgs);
}

function setupInputs(): void {
  for (const id of ['#model-files', '#model-folder', '#image-files']) {
    const input = $<HTMLInputElement>(id);
    input.addEventListener('change', () => {
      void handleFiles([...(input.files ?? [])]);
      input.value = '';
    });
  }
  const drop = $('#drop');
  let depth = 0;
  document.addEventListener('dragenter', (e) => {
    e.preventDefault();
    depth++;
    drop.hidden = false;
  });
  document.addEventListener('dragleave', () => {
    if (--depth <= 0) drop.hidden = true;
  });
  document.addEventListener('dragover', (e) => e.preventDefault());
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    depth = 0;
    drop.hidden = true;
    if (e.dataTransfer) void droppedFiles(e.dataTransfer).then(handleFiles);
  });
  const demos = $<HTMLSelectElement>('#demo-models');
  fetch('models/index.json').then(
    async (r) => {
      if (!r.ok) return;
      for (const name of (await r.json()) as string[]) demos.append(element('option', { value: name }, name));
    },
    () => {},
  );
  demos.addEventListener('change', () => {
    if (!demos.value) return;
    void loadModelUrl(`models/${demos.value}/model.onnx`);
    demos.value = '';
  });
}

async function loadModelUrl(url: string): Promise<void> {
  try {
    await openModel(await fetchModelFiles(url), new URL(url, location.href).href);
  } catch (e) {
    showError({ code: 'fetch', message: e instanceof Error ? e.message : String(e) });
  }
}

async function start(): Promise<void> {
  setupInputs();
  await ready;
  setState('idle');
  if (query.model) await loadModelUrl(query.model);
  const fetched: File[] = [];
  for (const url of query.images) {
    try {
      fetched.push((await fetchFile(url))!);
    } catch (e) {
      showError({ code: 'fetch', message: e instanceof Error ? e.message : String(e) });
    }
  }
  if (fetched.length) addImages(fetched);
}

void start();
