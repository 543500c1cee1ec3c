// What an evaluation run's per-image records are (platform-neutral): the run configuration in the header
// line, one record per image with its metric values per method, and the shard arithmetic. Reading and
// writing the JSON-lines file is Node's (records-node.ts).

import { GradsightError } from '../errors.ts';

export const RECORDS_FILE = 'per-image.jsonl';
export const RECORDS_FORMAT = 'gradsight-eval/1';

/** What a run computes: two files can be resumed into or merged only when these are equal. */
export interface RunConfig {
  readonly model: string;
  /** `ids`: a hash of the sample ids in order (run.ts sampleIdsHash). */
  readonly dataset: { readonly name: string; readonly size: number; readonly ids?: string };
  readonly methods: readonly string[];
  readonly metrics: readonly string[];
  readonly layers: readonly string[];
  readonly classMap?: string;
  /** The bias metric's region (registry.ts BiasRegionSpec). */
  readonly biasRegion?: unknown;
}

export interface RecordsHeader {
  readonly format: typeof RECORDS_FORMAT;
  readonly config: RunConfig;
  /** The shard this file holds (absent: every sample). */
  readonly shard?: Shard;
}

/** One image's results: method-free values under `model`, the rest per method, curves per method. */
export interface ImageRecord {
  /** Position in the dataset's sample order (the shard and merge key). */
  readonly index: number;
  readonly id: string;
  readonly image: string;
  readonly labels: readonly string[];
  readonly size?: { readonly width: number; readonly height: number };
  /** Top-5 predictions. */
  readonly predicted?: readonly { readonly index: number; readonly label: string; readonly score: number }[];
  /** Values that do not depend on the method (accuracy), by value key (`accuracy.top1`). */
  readonly model?: Readonly<Record<string, number | null>>;
  /** Per method: values by key (`localization.top1Error`), curves by key (`deletion`). */
  readonly methods?: Readonly<Record<string, MethodRecord>>;
  /** Per method and metric: small data a dataset-level reduction reads (seed confusion counts). */
  readonly data?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly error?: { readonly code: string; readonly message: string; readonly hint?: string };
}

export interface MethodRecord {
  readonly values: Readonly<Record<string, number | null>>;
  readonly curves?: Readonly<Record<string, readonly number[]>>;
}

// --- shards -------------------------------------------------------------------------------------

/** Shard `index` (1-based) of `count`. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** Parses `i/n` (1 ≤ i ≤ n): a 'bad-argument' error otherwise. */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : Number.NaN;
  const count = m ? Number(m[2]) : Number.NaN;
  if (!m || !(count >= 1) || !(index >= 1) || index > count) {
    throw new GradsightError(
      'bad-argument',
      `--shard expects i/n with 1 ≤ i ≤ n, got ${JSON.stringify(text)}`,
      {
        hint: 'for example --shard 1/4 on the first of four machines, --shard 4/4 on the last',
      },
    );
  }
  return { index, count };
}

/** Whether sample `index` (0-based, in the dataset's order) belongs to `shard`: index mod n = i − 1. */
export function inShard(index: number, shard: Shard | undefined): boolean {
  return shard === undefined || index % shard.count === shard.index - 1;
}
