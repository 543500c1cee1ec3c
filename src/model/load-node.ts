// Opening a model from disk in Node: the .onnx file (or a folder holding model.onnx), its external-data
// files, preprocess.json and labels.txt beside it. Everything read because of the model's folder must
// resolve inside that folder (io/confine-node.ts) and be a regular file; external data is read by range,
// only the bytes its tensors use.
//
// The folder is the one the user named: the folder given, or the folder holding the .onnx file given.
// A model file named directly may be a symlink to anywhere (the user chose it), and its side files are
// still looked up beside the name given, not beside the link's target. A model.onnx found by naming a
// folder must itself resolve inside that folder.

import { stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { GradsightError } from '../errors.ts';
import { loadLabelsFile } from '../image/labels-node.ts';
import { loadPreprocessFile } from '../image/preprocess-node.ts';
import { outsideModelDir, realPathIn, sideFileIn } from '../io/confine-node.ts';
import { checkRegularFile, readAt, withRegularFile } from '../io/read-file-node.ts';
import {
  allocateWithRoom,
  checkExternalLocation,
  decodeModel,
  externalDataSpans,
  type Model,
  packRanges,
  withExternalData,
} from '../onnx/index.ts';
import type { ExternalDataFile } from '../runtime/runtime.ts';
import { loadLanguageFiles } from './language-files-node.ts';

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
  /** The vocabulary and answers files a captioning or VQA preprocess.json names (language-files-node.ts). */
  readonly vocabulary?: readonly string[];
  readonly answers?: readonly string[];
}

export interface LoadOptions {
  /** A labels file given by the user; overrides labels.txt next to the model. */
  readonly labelsPath?: string;
}

export async function loadModelFiles(input: string, opts: LoadOptions = {}): Promise<ModelFiles> {
  const path = await resolveModelPath(input);
  const bytes = await readModelBytes(path);
  const decoded = naming(path, () => decodeModel(bytes));
  const externalData = await readExternalData(decoded, dirname(path));
  const model = externalData.length ? withExternalData(decoded, toMap(externalData)) : decoded;
  const preprocessFile = await loadPreprocessFile(path);
  // A --labels file is the user's explicit choice and may be anywhere; labels.txt must be in the folder.
  const labelsPath = opts.labelsPath ?? (await sideFileIn(dirname(path), 'labels.txt', 'labels file'));
  const labels = labelsPath === undefined ? undefined : await loadLabelsFile(labelsPath);
  const language = await loadLanguageFiles(dirname(path), preprocessFile);
  return {
    ...language,
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
  return withRegularFile(path, 'model', async (file, size) => {
    const bytes = allocateWithRoom(size, 16 * 2 ** 20 + Math.ceil(size / 100));
    const done = await readAt(file, bytes, 0, size, 0);
    return done === size ? bytes : bytes.subarray(0, done);
  });
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
    const where = await realPathIn(abs, inner);
    if (!where) {
      throw new GradsightError('model-not-found', `${input} is a folder without a model.onnx`, {
        hint: 'give the path of the .onnx file itself',
        details: { path: abs },
      });
    }
    if (!where.inside) throw outsideModelDir(inner, where.real, where.folder, 'model');
    checkRegularFile(await stat(inner), inner, 'model');
    return inner;
  }
  checkRegularFile(st, abs, 'model');
  return abs;
}

async function readExternalData(model: Model, modelDir: string): Promise<ExternalDataFile[]> {
  const byLocation = new Map<string, ReturnType<typeof externalDataSpans>>();
  for (const r of externalDataSpans(model))
    byLocation.set(r.location, [...(byLocation.get(r.location) ?? []), r]);
  const files: ExternalDataFile[] = [];
  for (const [location, refs] of byLocation) {
    const ref = refs[0]!;
    const full = join(modelDir, checkExternalLocation(location));
    const where = await realPathIn(modelDir, full);
    if (!where) {
      throw new GradsightError('external-data-missing', `external data file ${location} not found`, {
        hint: `tensor ${ref.tensor} stores its weights in ${full}; copy that file next to the model`,
        details: { tensor: ref.tensor, location, path: full },
      });
    }
    // A symlink inside the folder may still point outside it: compare real paths.
    if (!where.inside) {
      throw new GradsightError(
        'external-data-outside-model-dir',
        `external data ${location} of tensor ${ref.tensor} resolves to ${where.real}, outside the model's folder`,
        {
          hint: `keep external data files inside ${where.folder}`,
          details: { tensor: ref.tensor, location },
        },
      );
    }
    files.push(await readUsedRanges(where.real, location, refs));
  }
  return files;
}

/**
 * Reads only the bytes the tensors use from one external-data file (positioned reads, so files over
 * 2 GiB work and a small tensor in a huge file costs only the tensor). A span past the end of the file
 * is 'model-corrupt'.
 */
async function readUsedRanges(
  path: string,
  location: string,
  refs: readonly { tensor: string; offset: number; bytes: number | undefined }[],
): Promise<ExternalDataFile> {
  const what = `external data file ${location}`;
  return withRegularFile(path, what, async (file, size) => {
    const spans = refs.map((r) => {
      const length = r.bytes ?? Math.max(size - r.offset, 0);
      if (r.offset + length > size) {
        throw new GradsightError(
          'model-corrupt',
          `tensor '${r.tensor}' needs bytes ${r.offset}..${r.offset + length} of '${location}', which has ${size}`,
          {
            hint: 'the external data file is truncated or damaged; export the model again',
            details: { tensor: r.tensor, location },
          },
        );
      }
      return { offset: r.offset, length };
    });
    const ranges = packRanges(spans);
    const last = ranges.at(-1);
    const data = new Uint8Array(last ? last.at + last.length : 0);
    for (const r of ranges) await readAt(file, data, r.at, r.length, r.offset);
    return { path: location, data, ranges };
  });
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

function toMap(files: readonly ExternalDataFile[]): Map<string, ExternalDataFile> {
  return new Map(files.map((f) => [f.path, f]));
}

export function modelDisplayName(path: string): string {
  const base = basename(path);
  return base === 'model.onnx' ? basename(dirname(path)) : base;
}
