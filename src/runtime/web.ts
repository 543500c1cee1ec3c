// Runtime on onnxruntime-web: WebAssembly (threaded where the page is cross-origin isolated) or
// WebGPU where the browser has an adapter, chosen automatically and overridable. The build is
// imported on first use (a static import of the threaded wasm build hangs some pages at load), so
// bundles that never create a web session do not pay for it. Runs in Node too (its wasm build),
// which is how the tests compare it with the Node runtime.

import type * as ort from 'onnxruntime-common';
import { GradsightError } from '../errors.ts';
import { createOrtSession, firstLine, type OrtBuild } from './ort-session.ts';
import type { Runtime, Session, SessionOptions } from './runtime.ts';

export type WebBackend = 'auto' | 'wasm' | 'webgpu';

export interface WebRuntimeOptions {
  /** 'auto' (default): WebGPU when `navigator.gpu` gives an adapter, else wasm. */
  readonly backend?: WebBackend;
  /**
   * Where the .wasm/.mjs files of onnxruntime-web are served (ORT's `env.wasm.wasmPaths`), e.g. the
   * app's own origin; default: beside the bundle (ORT's own resolution).
   */
  readonly wasmPaths?: string;
  /** wasm threads; default: the cores the page may use when cross-origin isolated, else 1. */
  readonly threads?: number;
}

/** The backend 'auto' picks here: WebGPU when the browser offers an adapter, else wasm. */
export async function pickWebBackend(requested: WebBackend = 'auto'): Promise<'wasm' | 'webgpu'> {
  if (requested !== 'auto') return requested;
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } }).navigator?.gpu;
  if (!gpu) return 'wasm';
  try {
    return (await gpu.requestAdapter()) ? 'webgpu' : 'wasm';
  } catch {
    return 'wasm';
  }
}

/** wasm threads the page can use: several only when SharedArrayBuffer is allowed (cross-origin isolation). */
export function wasmThreads(requested?: number): number {
  const g = globalThis as { crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number } };
  const isolated =
    g.crossOriginIsolated === true || typeof (globalThis as { window?: unknown }).window === 'undefined';
  if (!isolated) return 1;
  const cores = g.navigator?.hardwareConcurrency ?? 1;
  return Math.max(1, Math.min(requested ?? cores, cores, 16));
}

/** A Runtime on onnxruntime-web; the backend is fixed when the runtime is made. */
export async function webRuntime(options: WebRuntimeOptions = {}): Promise<Runtime> {
  const backend = await pickWebBackend(options.backend);
  let build: OrtBuild & { env: ort.Env };
  try {
    build = (backend === 'webgpu'
      ? await import('onnxruntime-web/webgpu')
      : await import('onnxruntime-web/wasm')) as unknown as OrtBuild & { env: ort.Env };
  } catch (e) {
    throw new GradsightError('runtime-error', `cannot load onnxruntime-web (${backend}): ${firstLine(e)}`, {
      hint: 'install onnxruntime-web beside gradsight, and serve its .wasm and .mjs files with the app (WebRuntimeOptions.wasmPaths)',
      cause: e,
    });
  }
  build.env.logLevel = 'fatal';
  if (options.wasmPaths !== undefined) build.env.wasm.wasmPaths = options.wasmPaths;
  build.env.wasm.numThreads = wasmThreads(options.threads);
  return {
    name: `onnxruntime-web (${backend})`,
    // WebGPU runs the recipes every WebGPU backend supports (docs/autodiff.md); wasm the CPU kernels.
    profile: backend === 'webgpu' ? 'web' : 'cpu',
    createSession(model: Uint8Array, so: SessionOptions = {}): Promise<Session> {
      return createOrtSession(build, model, so, {
        executionProviders: backend === 'webgpu' ? ['webgpu', 'wasm'] : ['wasm'],
      });
    },
  };
}
