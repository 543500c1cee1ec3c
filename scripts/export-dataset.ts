// Writes the demo dataset's splits as .npy for scripts/train-demo-models.py, so the models are trained on
// exactly the generator's bytes. Output (git-ignored): demo/.cache/dataset/ (or the first argument).
//   node --import tsx scripts/export-dataset.ts [outDir]
//
// Per split <s> (train, train_biased, val, val_biased, test):
//   <s>_images.npy    uint8 [N,3,H,W]   <s>_labels.npy  int64 [N]   <s>_cue_boxes.npy int32 [N,4] (−1: no cue)
// and for the evaluation splits (val, val_biased, test), the full ground truth:
//   <s>_classes.npy int64 [N,2]  <s>_boxes.npy int32 [N,2,4] (x0,y0,x1,y1; −1 pads a missing 2nd object)
//   <s>_masks.npy uint8 [N,2,H,W]  <s>_cue_masks.npy uint8 [N,H,W]
// plus meta.json (classes, size, splits, cue settings).

import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  type Box,
  CLASSES,
  CUE,
  IMAGE_SIZE,
  SPLITS,
  type SplitName,
  type SplitSpec,
  splitSample,
} from '../src/demo/dataset.ts';
import { writeNpy } from '../src/tensor/npy-node.ts';

const outDir = resolve(process.argv[2] ?? join(import.meta.dirname, '..', 'demo', '.cache', 'dataset'));
const EVAL_SPLITS: readonly SplitName[] = ['val', 'valBiased', 'test'];
const MAX_OBJECTS = 2;

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function putBox(dst: Int32Array, at: number, box: Box | undefined): void {
  dst.set(box ? [box.x0, box.y0, box.x1, box.y1] : [-1, -1, -1, -1], at);
}

async function exportSplit(name: SplitName, split: SplitSpec): Promise<void> {
  const n = split.count;
  const hw = IMAGE_SIZE * IMAGE_SIZE;
  const full = EVAL_SPLITS.includes(name);
  const images = new Uint8Array(n * 3 * hw);
  const labels = new BigInt64Array(n);
  const cueBoxes = new Int32Array(n * 4);
  const classes = new BigInt64Array(full ? n * MAX_OBJECTS : 0);
  const boxes = new Int32Array(full ? n * MAX_OBJECTS * 4 : 0);
  const masks = new Uint8Array(full ? n * MAX_OBJECTS * hw : 0);
  const cueMasks = new Uint8Array(full ? n * hw : 0);
  for (let i = 0; i < n; i++) {
    const s = splitSample(split, i);
    // HWC → CHW
    const px = s.image.data;
    for (let p = 0; p < hw; p++) {
      for (let c = 0; c < 3; c++) images[(i * 3 + c) * hw + p] = px[p * 3 + c]!;
    }
    labels[i] = BigInt(s.label);
    putBox(cueBoxes, i * 4, s.cue?.box);
    if (!full) continue;
    for (let k = 0; k < MAX_OBJECTS; k++) {
      const o = s.objects[k];
      classes[i * MAX_OBJECTS + k] = BigInt(o ? o.cls : -1);
      putBox(boxes, (i * MAX_OBJECTS + k) * 4, o?.box);
      if (o) masks.set(o.mask, (i * MAX_OBJECTS + k) * hw);
    }
    if (s.cue) cueMasks.set(s.cue.mask, i * hw);
  }
  const file = (what: string) => join(outDir, `${snake(name)}_${what}.npy`);
  const [H, W] = [IMAGE_SIZE, IMAGE_SIZE];
  await writeNpy(file('images'), { dtype: 'uint8', dims: [n, 3, H, W], data: images });
  await writeNpy(file('labels'), { dtype: 'int64', dims: [n], data: labels });
  await writeNpy(file('cue_boxes'), { dtype: 'int32', dims: [n, 4], data: cueBoxes });
  if (full) {
    await writeNpy(file('classes'), { dtype: 'int64', dims: [n, MAX_OBJECTS], data: classes });
    await writeNpy(file('boxes'), { dtype: 'int32', dims: [n, MAX_OBJECTS, 4], data: boxes });
    await writeNpy(file('masks'), { dtype: 'uint8', dims: [n, MAX_OBJECTS, H, W], data: masks });
    await writeNpy(file('cue_masks'), { dtype: 'uint8', dims: [n, H, W], data: cueMasks });
  }
  process.stdout.write(`${snake(name)}: ${n} images (seed ${split.seed}, cue ${split.cue})\n`);
}

await mkdir(outDir, { recursive: true });
const t0 = performance.now();
for (const [name, split] of Object.entries(SPLITS) as [SplitName, SplitSpec][]) {
  await exportSplit(name, split);
}
const meta = {
  classes: CLASSES,
  size: [IMAGE_SIZE, IMAGE_SIZE],
  cue: CUE,
  splits: Object.fromEntries(Object.entries(SPLITS).map(([k, v]) => [snake(k), v])),
};
await writeFile(join(outDir, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
process.stdout.write(`wrote ${outDir} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
