// Opening a model in the browser: the .onnx file's bytes (a File, Blob or Uint8Array) and the files a
// Node folder would hold beside it — preprocess.json, labels.txt, the vocabulary/answers files a
// captioning or VQA description names, external-data files — given by name (a dropped folder, a file
// picker with several files, or fetched bytes). No path is resolved: a name is looked up among the
// files given, so nothing outside them can be read.

import { GradsightError } from '../errors.ts';
import { parseLabels } from '../image/labels.ts';
import {
  allocateWithRoom,
  checkExternalLocation,
  decodeModel,
  externalDataSpans,
  withExternalData,
} from '../onnx/index.ts';
import type { ExternalDataFile, Runtime } from '../runtime/runtime.ts';
import { type WebRuntimeOptions, webRuntime } from '../runtime/web.ts';
import { ImageModel, type ImageModelOptions } from './image-model.ts';

export type FileBytes = Blob | Uint8Array | ArrayBuffer;

export interface WebModelSource {
  /** The .onnx file. */
  readonly model: FileBytes;
  /** Names it in errors (default: the File's name, else 'the model'). */
  readonly name?: string;
  /** The files beside it, by file name (or by the path relative to the model's folder). */
  readonly files?: Readonly<Record<string, FileBytes>>;
}

export interface WebOpenOptions extends ImageModelOptions {
  /** The runtime (default: webRuntime(web)). */
  readonly runtime?: Runtime;
  readonly web?: WebRuntimeOptions;
}

/** Files picked or dropped together: the one .onnx among them is the model, the others its side files. */
export function webModelSource(files: Iterable<File>): WebModelSource {
  const all = [...files];
  const onnx = all.filter((f) => f.name.toLowerCase().endsWith('.onnx'));
  const model = onnx.length === 1 ? onnx[0] : onnx.find((f) => f.name === 'model.onnx');
  if (!model) {
    throw new GradsightError(
      'bad-argument',
      onnx.length
        ? `${onnx.length} .onnx files were given: ${onnx.map((f) => f.name).join(', ')}`
        : 'no .onnx file among the files given',
      {
        hint: 'give one model (an .onnx file, or a folder holding model.onnx) with its preprocess.json and labels.txt',
      },
    );
  }
  const side: Record<string, File> = {};
  for (const f of all) if (f !== model) side[relativeName(f)] = f;
  return { model, name: model.name, files: side };
}

/** Opens a model from its bytes and side files, on onnxruntime-web unless another runtime is given. */
export async function openWebModel(
  source: WebModelSource,
  options: WebOpenOptions = {},
): Promise<ImageModel> {
  const name = source.name ?? (isFile(source.model) ? source.model.name : 'the model');
  const raw = await bytesOf(source.model);
  // Room after the model, so that appending the backward graph extends it in place (as in Node).
  const bytes = allocateWithRoom(raw.length, 16 * 2 ** 20 + Math.ceil(raw.length / 100));
  bytes.set(raw);
  const model = bytes.subarray(0, raw.length);
  const decoded = decodeModel(model);
  const files = source.files ?? {};
  const lookup = (n: string) => files[n] ?? files[basename(n)];
  const externalData: ExternalDataFile[] = [];
  for (const location of new Set(externalDataSpans(decoded).map((s) => s.location))) {
    checkExternalLocation(location);
    const f = lookup(location);
    if (!f) {
      throw new GradsightError(
        'file-not-found',
        `${name} keeps tensors in '${location}', which was not given`,
        {
          hint: `give '${location}' together with the model (drop the model's whole folder)`,
          details: { location },
        },
      );
    }
    externalData.push({ path: location, data: await bytesOf(f) });
  }
  const full = externalData.length
    ? withExternalData(decoded, new Map(externalData.map((f) => [f.path, f.data])))
    : decoded;
  const preprocessFile = await jsonOf(lookup('preprocess.json'), 'preprocess.json');
  const labelsFile = lookup('labels.txt');
  const labels = labelsFile ? parseLabels(await textOf(labelsFile), 'labels.txt') : undefined;
  const language: { vocabulary?: readonly string[]; answers?: readonly string[] } = {};
  for (const key of ['vocabulary', 'answers'] as const) {
    const file = (preprocessFile as Record<string, unknown> | undefined)?.[key];
    if (typeof file !== 'string' || file === '') continue;
    const f = lookup(file);
    if (!f) {
      throw new GradsightError(
        'file-not-found',
        `the ${key} file ${JSON.stringify(file)} named in preprocess.json was not given`,
        {
          hint: `give ${file} together with the model, or fix "${key}" in preprocess.json`,
          details: { key },
        },
      );
    }
    language[key] = parseLabels(await textOf(f), file);
  }
  const runtime = options.runtime ?? (await webRuntime(options.web));
  return ImageModel.create(
    runtime,
    {
      bytes: model,
      model: full,
      ...(externalData.length ? { externalData } : {}),
      ...(preprocessFile !== undefined ? { preprocessFile, preprocessSource: 'preprocess.json' } : {}),
      labels,
      ...language,
    },
    options,
  );
}

async function bytesOf(f: FileBytes): Promise<Uint8Array> {
  if (f instanceof Uint8Array) return f;
  if (f instanceof ArrayBuffer) return new Uint8Array(f);
  return new Uint8Array(await f.arrayBuffer());
}

async function textOf(f: FileBytes): Promise<string> {
  return new TextDecoder().decode(await bytesOf(f));
}

async function jsonOf(f: FileBytes | undefined, what: string): Promise<unknown> {
  if (!f) return undefined;
  const text = await textOf(f);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new GradsightError(
      'bad-preprocess',
      `${what} is not valid JSON: ${e instanceof Error ? e.message : e}`,
      {
        hint: 'fix the JSON (a trailing comma, an unquoted key), or leave the file out to use the defaults',
        cause: e,
      },
    );
  }
}

const isFile = (x: unknown): x is File => typeof File !== 'undefined' && x instanceof File;
const basename = (p: string) => p.slice(p.lastIndexOf('/') + 1);

/** A dropped folder's file keeps its path below the folder (webkitRelativePath minus the folder). */
function relativeName(f: File): string {
  const rel = (f as File & { webkitRelativePath?: string }).webkitRelativePath;
  return rel ? rel.slice(rel.indexOf('/') + 1) : f.name;
}
