// The one interface between gradsight and an ONNX Runtime build. Node and browser implementations sit
// beside this file; nothing else in gradsight imports onnxruntime.

import type { Profile } from '../autodiff/rule.ts';
import type { ExternalRange } from '../onnx/ir.ts';
import type { Tensor } from '../tensor/tensor.ts';

export interface ExternalDataFile {
  /** The `location` string exactly as written in the model's TensorProto.external_data. */
  readonly path: string;
  readonly data: Uint8Array;
  /**
   * When `data` holds only the byte ranges the model uses (as the Node loader reads them): where each
   * range of the file sits in `data`. The runtime points the model's offsets into `data` to match.
   */
  readonly ranges?: readonly ExternalRange[];
}

export interface SessionOptions {
  /** Intra-op threads; 0 or undefined lets the runtime choose (all cores). */
  readonly threads?: number;
  /** External-data files already read and checked by the caller. */
  readonly externalData?: readonly ExternalDataFile[];
  /**
   * Whether idle intra-op threads spin (true, ONNX Runtime's default: the lowest latency for back-to-back
   * runs) or sleep (false: cores shared with other work, such as the CLI's image worker, go to it).
   */
  readonly spinning?: boolean;
  /** Graph optimisation level; 'all' by default. */
  readonly optimization?: 'disabled' | 'basic' | 'extended' | 'all';
}

export interface ValueMetadata {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly (number | string)[];
}

export interface Session {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputs: readonly ValueMetadata[];
  readonly outputs: readonly ValueMetadata[];
  /** Runs the model; `fetches` defaults to every output. */
  run(feeds: Readonly<Record<string, Tensor>>, fetches?: readonly string[]): Promise<Record<string, Tensor>>;
  release(): Promise<void>;
}

export interface Runtime {
  readonly name: string;
  /**
   * The autodiff recipes that run best on this runtime (autodiff/rule.ts): 'cpu' for ONNX Runtime's
   * CPU kernels (Node, wasm), 'web' for WebGPU. Gradient models compiled for its sessions use it.
   */
  readonly profile?: Profile;
  createSession(model: Uint8Array, options?: SessionOptions): Promise<Session>;
}
