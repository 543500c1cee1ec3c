// Synthetic report data for the report tests and the sample screenshot: drawn scenes (sky, ground, a
// coloured blob as "the object"), Gaussian heatmaps blended with the real overlay code, boxes from the
// real localization, a failed image, and labels full of HTML metacharacters.

import { localize } from '../../src/eval/localization.ts';
import { type RgbImage, rgbImage } from '../../src/image/rgb-image.ts';
import { overlay } from '../../src/render/overlay.ts';
import { encodePng } from '../../src/render/png-node.ts';
import type { ReportData, ReportImage, ReportPanel } from '../../src/report/types.ts';

/** A label that would run a script if it were not escaped; the script sets this global. */
export const NASTY_LABEL = `<script>window.__pwned = 1</script> fish & "chips" <b>'bold'</b>`;
export const NASTY_FILE = `photos/<img src=x onerror="window.__pwned=2">&cat.png`;
export const FAILED_FILE = 'photos/broken & bad.jpg';
export const FAILED_MESSAGE = 'cannot decode image photos/broken & bad.jpg: <unsupported format>';

interface Blob {
  readonly cx: number;
  readonly cy: number;
  readonly r: number;
  readonly color: readonly [number, number, number];
}

/** Sky gradient, a ground band and an elliptic blob with a darker rim: something a map can point at. */
function scene(width: number, height: number, blob: Blob): RgbImage {
  const data = new Uint8Array(width * height * 3);
  const horizon = Math.round(height * 0.62);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      let rgb: [number, number, number] =
        y < horizon
          ? [150 + (60 * y) / horizon, 190 + (40 * y) / horizon, 235]
          : [96 + 20 * Math.sin(x / 9), 140 + 12 * Math.sin((x + y) / 7), 70];
      const d = Math.hypot((x - blob.cx) / blob.r, (y - blob.cy) / (blob.r * 0.8));
      if (d < 1) {
        const shade = 1 - 0.35 * d * d;
        rgb = [blob.color[0] * shade, blob.color[1] * shade, blob.color[2] * shade];
      }
      data[i] = rgb[0];
      data[i + 1] = rgb[1];
      data[i + 2] = rgb[2];
    }
  }
  return rgbImage(width, height, data);
}

/** A sum of Gaussians scaled to max 1. */
function gaussians(
  width: number,
  height: number,
  peaks: readonly [number, number, number, number][],
): Float32Array {
  const map = new Float32Array(width * height);
  let max = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let v = 0;
      for (const [cx, cy, s, w] of peaks) v += w * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * s * s));
      map[y * width + x] = v;
      if (v > max) max = v;
    }
  }
  for (let i = 0; i < map.length; i++) map[i]! /= max;
  return map;
}

/** A Guided-Backprop-like display: mid grey with signed texture on the blob's rim. */
function edges(img: RgbImage, blob: Blob): RgbImage {
  const { width, height } = img;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const d = Math.hypot((x - blob.cx) / blob.r, (y - blob.cy) / (blob.r * 0.8));
      const rim = Math.exp(-(((d - 1) * 9) ** 2));
      for (let c = 0; c < 3; c++) {
        const tex = Math.sin(x * (0.9 + c * 0.2) + y * 0.7) * 90 * rim;
        data[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, 128 + tex));
      }
    }
  }
  return rgbImage(width, height, data);
}

export async function pngDataUrl(img: RgbImage): Promise<string> {
  return `data:image/png;base64,${Buffer.from(await encodePng(img)).toString('base64')}`;
}

async function camPanel(
  method: string,
  title: string,
  img: RgbImage,
  map: Float32Array,
  extra: Partial<ReportPanel> = {},
): Promise<ReportPanel> {
  const { box, segmentPixels } = localize(map, img.width, img.height);
  let argmax = 0;
  for (let i = 1; i < map.length; i++) if (map[i]! > map[argmax]!) argmax = i;
  const share = Math.round((100 * segmentPixels) / map.length);
  return {
    method,
    title,
    image: await pngDataUrl(overlay(img, map, { colormap: 'jet', alpha: 0.5 })),
    ...(box ? { box } : {}),
    stats: `max at (${argmax % img.width}, ${Math.floor(argmax / img.width)}), ${share}% of pixels ≥ 0.15·max`,
    ...extra,
  };
}

async function classificationImage(
  file: string,
  size: [number, number],
  blob: Blob,
  labels: readonly [string, number][],
): Promise<ReportImage> {
  const [w, h] = size;
  const img = scene(w, h, blob);
  const focus = gaussians(w, h, [
    [blob.cx, blob.cy, blob.r * 0.7, 1],
    [w * 0.15, h * 0.8, w * 0.06, 0.35],
  ]);
  const wide = gaussians(w, h, [[blob.cx + blob.r * 0.3, blob.cy - blob.r * 0.2, blob.r * 1.1, 1]]);
  const scores = [0.781, 0.102, 0.048, 0.0123, 0.0004];
  const predictions = labels.map(([label, index], k) => ({ label, index, score: scores[k]! }));
  const top = predictions[0]!;
  return {
    file,
    width: w * 3,
    height: h * 3,
    thumbnail: await pngDataUrl(img),
    predictions,
    predictionKind: 'classification',
    targets: [
      {
        description: `${top.label} (${top.index})`,
        probability: top.score,
        panels: [
          await camPanel('gradcam', 'Grad-CAM', img, focus),
          await camPanel('gradcampp', 'Grad-CAM++', img, wide, {
            // A detection box (continuous edges) around the blob, with its label.
            detection: {
              box: {
                x0: blob.cx - blob.r,
                y0: blob.cy - blob.r * 0.8,
                x1: blob.cx + blob.r,
                y1: blob.cy + blob.r * 0.8,
              },
              text: `${top.label} 0.91`,
              color: '#ff3df0',
            },
          }),
          { method: 'guidedbackprop', title: 'Guided Backprop', image: await pngDataUrl(edges(img, blob)) },
        ],
      },
      {
        description: `counterfactual: not ${top.label} (${top.index})`,
        panels: [
          await camPanel('gradcam', 'Grad-CAM', img, new Float32Array(w * h), {
            note: 'empty map: no positive evidence at this layer (all weights ≤ 0)',
            stats: '0% of pixels ≥ 0.15·max',
          }),
        ],
      },
    ],
  };
}

/** Report data with two classified images (one with nasty labels), a segmentation image and a failed one. */
export async function sampleReport(): Promise<ReportData> {
  const cat = await classificationImage(
    'photos/cat.jpg',
    [200, 150],
    { cx: 120, cy: 78, r: 42, color: [214, 146, 72] },
    [
      ['Egyptian cat', 285],
      ['tabby, tabby cat', 281],
      ['tiger cat', 282],
      ['lynx, catamount', 287],
      ['paper towel', 700],
    ],
  );
  const nasty = await classificationImage(
    NASTY_FILE,
    [160, 160],
    { cx: 64, cy: 70, r: 36, color: [70, 110, 200] },
    [
      [NASTY_LABEL, 1],
      ['goldfish & friends', 2],
      ['great white shark', 3],
      ['tiger shark', 4],
      ['hammerhead', 5],
    ],
  );
  const segImg = scene(180, 120, { cx: 70, cy: 60, r: 30, color: [180, 60, 90] });
  const seg: ReportImage = {
    file: 'street/scene-0042.png',
    width: 1024,
    height: 683,
    thumbnail: await pngDataUrl(segImg),
    predictions: [
      { label: 'background', index: 0, score: 0.71 },
      { label: 'person', index: 15, score: 0.21 },
      { label: 'bicycle', index: 2, score: 0.08 },
    ],
    predictionKind: 'segmentation',
    targets: [
      {
        description: 'person (15), mask sum',
        panels: [await camPanel('gradcam', 'Grad-CAM', segImg, gaussians(180, 120, [[70, 60, 22, 1]]))],
      },
    ],
  };
  const failed: ReportImage = {
    file: FAILED_FILE,
    width: 0,
    height: 0,
    predictions: [],
    predictionKind: 'classification',
    targets: [],
    error: { code: 'bad-image', message: FAILED_MESSAGE, hint: 'Re-save it as PNG or JPEG & try again.' },
  };
  return {
    title: 'gradsight report: mobilenet_v2_1.0_224',
    generatedAt: '2025-03-14T09:26:53.589Z',
    version: '0.1.0',
    model: {
      name: 'mobilenet_v2_1.0_224',
      path: 'models/mobilenet_v2/model.onnx',
      input: '1×3×224×224 NCHW',
      layers: ['features.18/features.18.2/Clip'],
      reads: 'logits (before softmax)',
    },
    options: {
      methods: 'gradcam, gradcampp, guidedbackprop',
      normalize: 'per map (max → 1)',
      colormap: 'jet',
      alpha: '0.5',
      'note <&>': '<i>escaped</i>',
    },
    images: [cat, nasty, seg, failed],
    summary: '4 images, 11 maps, 1 failed, 2.7 s',
  };
}
