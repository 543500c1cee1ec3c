// Reads ../shared/reference/index.json (pytorch-grad-cam and PyTorch autograd outputs on the shared
// models) and its .npy files.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeNpy } from '../../src/tensor/npy.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { sharedDir } from './shared.ts';

export interface ReferenceEntry {
  readonly model: string;
  readonly image: string;
  readonly kind: string;
  readonly file: string;
  readonly [key: string]: unknown;
}

export function referenceEntries(kind?: string): ReferenceEntry[] {
  const all = JSON.parse(
    readFileSync(join(sharedDir, 'reference', 'index.json'), 'utf8'),
  ) as ReferenceEntry[];
  return kind === undefined ? all : all.filter((e) => e.kind === kind);
}

export function readReference(file: string): Tensor {
  const path = join(sharedDir, 'reference', file);
  return decodeNpy(readFileSync(path), path);
}
