// Opening a model from disk in Node: the .onnx file (or a folder holding model.onnx), its external-data
// files (only inside the model's folder), preprocess.json and labels.txt beside it.

import { open, readFile, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { GradsightError } from '../errors.ts';
import { loadLabelsFile } from '../image/labels-node.ts';
import { loadPreprocessFile } from '../image/preprocess-node.ts';
import {
  allocateWithRoom,
  checkExternalLocation,
  decodeModel,
  externalDataRefs,
  type Model,
  withExternalData,
} from '../onnx/index.ts';
import type { ExternalDataFile } from '../runtime/runtime.ts';

export interface ModelFiles {
  /** Absolute path of the .onnx file. */
  readonly path: string;
  readonly bytes: Uint8Array;
  readonly model: Model;
  readonly externalData: readonly ExternalDataFile[];
  /** Parsed preprocess.json next to the model, if present (validated later against flags). */
  readonly preprocessFile: unknown;
  readonly labels: readonly string[] | undefined;
  readonly labelsPath: string | undefined;
}

export interface LoadOptions {
  /** A labels file given by the user; overrides labels.txt next to the model. */
  readonly labelsPath?: string;
}

export async function loadModelFiles(input: string, opts: LoadOptions = {}): Promise<ModelFiles> {
  const path = await resolveModelPath(input);
  let bytes: Uint8Array;
  try {
    bytes = await readModelBytes(path);
  } catch (e) {
    throw new GradsightError('file-unreadable', `cannot read model ${path}: ${(e as Error).message}`, {
      hint: 'check the file permissions',
      details: { path },
      cause: e,
    });
  }
  const decoded = naming(path, () => decodeModel(bytes));
  const externalData = await readExternalData(decoded, dirname(path));
  const model = externalData.length ? withExternalData(decoded, toMap(externalData)) : decoded;
  const preprocessFile = await loadPreprocessFile(path);
  const labelsPath = opts.labelsPath ?? join(dirname(path), 'labels.txt');
  const labels = await loadLabelsFile(labelsPath, { optional: opts.labelsPath === undefined });
  return {
    path,
    bytes,
    model,
    externalData,
    preprocessFile,
    labels,
    labelsPath: labels ? labelsPath : undefined,
  };
}

/**
 * Reads a model into a buffer with spare room after it, so that appending the backward graph later
 * extends it in place instead of holding a second copy of a (possibly huge) model.
 */
export async function readModelBytes(path: string): Promise<Uint8Array> {
  const file = await open(path, 'r');
  try {
    const size = (await file.stat()).size;
    const bytes = allocateWithRoom(size, 16 * 2 ** 20 + Math.ceil(size / 100));
    let done = 0;
    while (done < size) {
      const { bytesRead } = await file.read(bytes, done, size - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === size ? bytes : bytes.subarray(0, done);
  } finally {
    await file.close();
  }
}

async function resolveModelPath(input: string): Promise<string> {
  const abs = resolve(input);
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(abs);
  } catch {
    throw new GradsightError('model-not-found', `model file not found: ${input}`, {
      hint: 'give the path of an .onnx file (or of a folder that contains model.onnx)',
      details: { path: abs },
    });
  }
  if (st.isDirectory()) {
    const inner = join(abs, 'model.onnx');
    try {
      if ((await stat(inner)).isFile()) return inner;
    } catch {
      // fall through to the error below
    }
    throw new GradsightError('model-not-found', `${input} is a folder without a model.onnx`, {
      hint: 'give the path of the .onnx file itself',
      details: { path: abs },
    });
  }
  return abs;
}

async function readExternalData(model: Model, modelDir: string): Promise<ExternalDataFile[]> {
  const refs = externalDataRefs(model);
  if (refs.length === 0) return [];
  const realDir = await realpath(modelDir);
  const files = new Map<string, Uint8Array>();
  for (const ref of refs) {
    if (files.has(ref.location)) continue;
    const rel = checkExternalLocation(ref.location);
    const full = join(modelDir, rel);
    let real: string;
    try {
      real = await realpath(full);
    } catch {
      throw new GradsightError('external-data-missing', `external data file ${ref.location} not found`, {
        hint: `tensor ${ref.tensor} stores its weights in ${full}; copy that file next to the model`,
        details: { tensor: ref.tensor, location: ref.location, path: full },
      });
    }
    // A symlink inside the folder may still point outside it: compare real paths.
    const back = relative(realDir, real);
    if (back.startsWith('..') || back.startsWith(sep) || back === '') {
      throw new GradsightError(
        'external-data-outside-model-dir',
        `external data ${ref.location} of tensor ${ref.tensor} resolves to ${real}, outside the model's folder`,
        {
          hint: `keep external data files inside ${realDir}`,
          details: { tensor: ref.tensor, location: ref.location },
        },
      );
    }
    files.set(ref.location, await readFile(real));
  }
  return [...files].map(([path, data]) => ({ path, data }));
}

/** Re-throws a decode error with the file's path in front, so the user knows which file is bad. */
function naming<T>(path: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof GradsightError)) throw e;
    throw new GradsightError(e.code, `${path}: ${e.message}`, {
      ...(e.hint === undefined ? {} : { hint: e.hint }),
      details: { ...e.details, path },
      cause: e,
    });
  }
}

function toMap(files: readonly ExternalDataFile[]): Map<string, Uint8Array> {
  return new Map(files.map((f) => [f.path, f.data]));
}

export function modelDisplayName(path: string): string {
  const base = basename(path);
  return base === 'model.onnx' ? basename(dirname(path)) : base;
}
