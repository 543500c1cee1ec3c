// The data an HTML report is rendered from: plain, serialisable values (strings, numbers, data URLs), so
// the CLI and the web app build the same object and `renderReport` needs no file system or canvas.

export interface ReportData {
  /** e.g. "gradsight report: mobilenet_v2_1.0_224_quant". */
  readonly title: string;
  /** ISO date-time of the run. */
  readonly generatedAt: string;
  /** gradsight version. */
  readonly version: string;
  readonly model: ReportModel;
  /** Shown as a small key/value table (methods, normalize, colormap, alpha, ...). A `colormap` entry picks the legend's colour bar. */
  readonly options: Readonly<Record<string, string>>;
  readonly images: readonly ReportImage[];
  /** One line, e.g. "12 images, 36 maps, 1 failed, 8.4 s". */
  readonly summary: string;
  /** Extra tables under the header (e.g. the demo's evaluation numbers). */
  readonly sections?: readonly ReportSection[];
}

export interface ReportSection {
  readonly title: string;
  /** One short paragraph above the table. */
  readonly text?: string;
  readonly rows: readonly (readonly [string, string])[];
}

export interface ReportModel {
  readonly name: string;
  readonly path: string;
  /** e.g. "1×3×224×224 NCHW". */
  readonly input: string;
  readonly layers: readonly string[];
  /** The tensor the targets read (the scores before softmax by default). */
  readonly reads: string;
}

export interface ReportPrediction {
  readonly label: string;
  readonly index: number;
  /** In [0, 1]: a probability, or for segmentation the share of pixels. */
  readonly score: number;
}

export interface ReportImage {
  /** The path as given by the user. */
  readonly file: string;
  /** Original size in pixels. */
  readonly width: number;
  readonly height: number;
  /** `data:image/png;base64,...` of the (downscaled) input image. */
  readonly thumbnail?: string;
  /** Top-5, best first. */
  readonly predictions: readonly ReportPrediction[];
  /** Why there are no predictions (a model output that is NaN or infinite), shown in their place. */
  readonly predictionNote?: string;
  /** Segmentation scores are pixel shares, and the report says so. */
  readonly predictionKind: 'classification' | 'multi-label' | 'segmentation';
  readonly targets: readonly ReportTarget[];
  /** Captioning models: the caption whose words the targets explain (the paper's Fig. 6 layout). */
  readonly caption?: string;
  /** VQA models: the question and the predicted answer (Fig. 7). */
  readonly question?: string;
  readonly answer?: string;
  /** A failed image: rendered as a card showing the error instead of predictions and panels. */
  readonly error?: { readonly code: string; readonly message: string; readonly hint?: string };
}

export interface ReportTarget {
  /** "Egyptian cat (286)", "counterfactual: ...", "tabby (281) vs tiger cat (282)". */
  readonly description: string;
  readonly probability?: number;
  /** A caption word: its 1-based position and text. */
  readonly word?: { readonly position: number; readonly text: string };
  readonly panels: readonly ReportPanel[];
}

export interface ReportBox {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

export interface ReportDetection {
  /**
   * Continuous pixel edges in the panel image's coordinates (not inclusive pixels like `box`): a box
   * covering the whole panel is [0, width] × [0, height].
   */
  readonly box: ReportBox;
  /** e.g. "kite 0.87". */
  readonly text: string;
  /** '#rrggbb' (another value draws white). */
  readonly color?: string;
}

export interface ReportPanel {
  /** Method id. */
  readonly method: string;
  /** Display name, e.g. "Grad-CAM". */
  readonly title: string;
  /** `data:image/png;base64,...`: an overlay, or a pixel method's display image. */
  readonly image: string;
  /** The panel image's pixel size (read from the PNG header when absent; give it for JPEGs). */
  readonly size?: { readonly width: number; readonly height: number };
  /**
   * Localization box in the panel image's pixel coordinates, inclusive on both ends (as in
   * eval/localization.ts): it covers columns x0..x1 and rows y0..y1.
   */
  readonly box?: ReportBox;
  /** A ground-truth box to compare with (drawn dashed green), same coordinates as `box`. */
  readonly truth?: ReportBox;
  /** The explained detection (detection targets), drawn as a coloured rectangle with its label. */
  readonly detection?: ReportDetection;
  /** Diagnostic message (empty map etc.), shown under the panel. */
  readonly note?: string;
  /** e.g. "max at (120, 88), 23% of pixels ≥ 0.15·max". */
  readonly stats?: string;
}
