// The messages between the page (main.ts) and the worker (worker.ts). Every gradsight call happens
// in the worker; the page sends files and choices and gets back pixels, numbers and error texts.

/** A model's files as picked, dropped or fetched: the one .onnx among them and its side files. */
export type ModelFiles = readonly File[];

export interface LayerRow {
  readonly name: string;
  readonly op: string;
  readonly shape: string;
  readonly resolution: number;
  /** Share of the class probability the image keeps when masked by the layer's map (when scored). */
  readonly kept?: number;
  readonly isDefault: boolean;
}

export interface ModelInfo {
  readonly name: string;
  readonly labels: readonly string[];
  readonly size: readonly [number, number];
  readonly task: string;
  readonly layers: readonly LayerRow[];
  readonly defaultLayer: string | undefined;
  readonly runtime: string;
}

export interface ExplainRequest {
  readonly image: Blob;
  readonly imageName: string;
  readonly methods: readonly string[];
  readonly target: string;
  readonly counterfactual: boolean;
  readonly layer?: string;
  /** Captioning: the caption to explain (absent: decoded greedily); VQA: the question. */
  readonly caption?: string;
  readonly question?: string;
  readonly colormap: string;
  readonly alpha: number;
  /**
   * Set to 1 by the page to cancel (when the page is cross-origin isolated): ONNX Runtime's wasm runs
   * keep the worker's event loop busy, so a 'cancel' message would only arrive after the explanation.
   */
  readonly cancelFlag?: Int32Array;
}

export interface Rgba {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray;
}

export interface Box {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

export interface ExplainedMap {
  readonly method: string;
  readonly target: {
    readonly index?: number;
    readonly label: string;
    readonly description: string;
    readonly counterfactual: boolean;
    readonly probability?: number;
  };
  readonly layers: readonly string[];
  readonly width: number;
  readonly height: number;
  /** The map as computed (CAM: H×W; pixel methods: [3, H, W]). */
  readonly map: Float32Array;
  readonly kind: 'cam' | 'pixels';
  /** The overlay (or gradient display) at the image's own size. */
  readonly overlay: Rgba;
  /** The localization box (CAM maps), inclusive pixels of the original image. */
  readonly box?: Box;
  readonly entry: unknown;
}

export interface PredictionRow {
  readonly index: number;
  readonly label: string;
  readonly probability: number;
}

export interface Explained {
  readonly imageName: string;
  readonly size: { readonly width: number; readonly height: number };
  readonly predictions: readonly PredictionRow[];
  readonly maps: readonly ExplainedMap[];
  readonly seconds: number;
}

export type Request =
  | {
      readonly type: 'open';
      readonly id: number;
      readonly files: ModelFiles;
      readonly backend: string;
      /** A model opened by URL: external-data files it names are fetched beside it. */
      readonly baseUrl?: string;
    }
  | ({ readonly type: 'explain'; readonly id: number } & ExplainRequest)
  | { readonly type: 'render'; readonly id: number; readonly colormap: string; readonly alpha: number }
  | { readonly type: 'rank'; readonly id: number; readonly image: Blob; readonly classIndex?: number }
  | { readonly type: 'npy'; readonly id: number; readonly index: number }
  | {
      readonly type: 'compile';
      readonly id: number;
      readonly method: string;
      readonly layer?: string;
      readonly counterfactual: boolean;
    }
  | { readonly type: 'cancel'; readonly id: number };

export interface ErrorInfo {
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
}

export type Reply =
  | {
      readonly type: 'ready';
      readonly id: 0;
      readonly methods: readonly MethodRow[];
      readonly colormaps: readonly string[];
    }
  | { readonly type: 'opened'; readonly id: number; readonly info: ModelInfo }
  | {
      readonly type: 'progress';
      readonly id: number;
      readonly done: number;
      readonly total: number;
      readonly step: string;
    }
  | { readonly type: 'explained'; readonly id: number; readonly result: Explained }
  | { readonly type: 'rendered'; readonly id: number; readonly maps: readonly Rgba[] }
  | { readonly type: 'ranked'; readonly id: number; readonly layers: readonly LayerRow[] }
  | { readonly type: 'file'; readonly id: number; readonly name: string; readonly bytes: Uint8Array }
  | { readonly type: 'error'; readonly id: number; readonly error: ErrorInfo };

export interface MethodRow {
  readonly id: string;
  readonly title: string;
  readonly summary: string;
  readonly compilable: boolean;
  readonly needsLayer: boolean;
}

/** A request before the page numbers it. */
export type Unnumbered<T> = T extends unknown ? Omit<T, 'id'> : never;
