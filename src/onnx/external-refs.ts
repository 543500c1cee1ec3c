// One TensorProto's external-data reference, and the check that its `location` stays inside the
// model's directory. Pure string logic, no file system: the Node loader reads the files and resolves
// symlinks; the browser passes files the user picked.

import { type GraphProto, type TensorProto, TensorProto_DataLocation } from 'onnx-buf';
import { GradsightError } from '../errors.ts';
import type { ExternalDataRef } from './ir.ts';

/** Every tensor of the main graph that may hold external data: initializers and Constant-node values. */
export function graphTensors(graph: GraphProto | undefined): TensorProto[] {
  if (!graph) return [];
  const tensors: TensorProto[] = [...graph.initializer];
  for (const n of graph.node) for (const a of n.attribute) if (a.t) tensors.push(a.t);
  return tensors;
}

/** The reference a TensorProto makes to an external file, or undefined for inline data. */
export function externalRefOf(t: TensorProto): ExternalDataRef | undefined {
  if (t.dataLocation !== TensorProto_DataLocation.EXTERNAL) return undefined;
  const kv = new Map(t.externalData.map((e) => [e.key, e.value]));
  const int = (key: string): number | undefined => {
    const v = kv.get(key);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new GradsightError('model-invalid', `tensor '${t.name}' has external_data ${key}='${v}'`, {
        hint: 'offset and length must be non-negative integers; re-export the model',
        details: { tensor: t.name },
      });
    }
    return n;
  };
  return {
    tensor: t.name,
    location: kv.get('location') ?? '',
    offset: int('offset') ?? 0,
    length: int('length'),
  };
}

/**
 * Normalizes `location` to a relative POSIX path inside the model directory, or throws
 * 'external-data-outside-model-dir'. A model file is untrusted input: a location such as
 * '../../etc/passwd' would otherwise make gradsight read (and a browser app upload) any file.
 */
export function checkExternalLocation(location: string): string {
  const reject = (why: string): never => {
    throw new GradsightError(
      'external-data-outside-model-dir',
      `external data location '${location}' ${why}`,
      {
        hint: 'external data files must sit in the model directory or below it; move them there and re-save the model',
        details: { location },
      },
    );
  };
  if (location === '') reject('is empty');
  if (location.includes('\0')) reject('contains a NUL byte');
  const slashed = location.replaceAll('\\', '/');
  // '/x', '\\server\share', 'C:\x', 'C:x' (drive-relative) and URL-like 'file:...' are all absolute enough.
  if (slashed.startsWith('/') || /^[A-Za-z]:/.test(slashed) || /^[A-Za-z][A-Za-z0-9+.-]*:/.test(slashed)) {
    reject('is an absolute path');
  }
  const parts: string[] = [];
  for (const part of slashed.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) reject('points outside the model directory');
      parts.pop();
    } else {
      parts.push(part);
    }
  }
  if (parts.length === 0) reject('names no file');
  return parts.join('/');
}
