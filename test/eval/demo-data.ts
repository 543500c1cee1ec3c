// Tiny eval datasets written from the demo's seeded generator (src/demo/dataset.ts) into a temp folder,
// so the runner and the CLI are tested on real images, boxes and a real model (demo/models/shapes)
// without ../shared: a JSONL manifest with boxes, and a folder per class.

import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLASSES, SPLITS, splitSample } from '../../src/demo/dataset.ts';
import { writePng } from '../../src/render/png-node.ts';
import { repoRoot } from '../helpers/shared.ts';

export const SHAPES_MODEL = join(repoRoot, 'demo', 'models', 'shapes');

/** n test-split images and a manifest.jsonl with their labels and boxes; returns the folder. */
export async function demoManifest(n: number, dir?: string): Promise<string> {
  const root = dir ?? (await mkdtemp(join(tmpdir(), 'gradsight-eval-')));
  await mkdir(join(root, 'images'), { recursive: true });
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const s = splitSample(SPLITS.test, i);
    const image = `images/s${String(i).padStart(3, '0')}.png`;
    await writePng(join(root, image), s.image);
    const boxes = s.objects.map((o) => ({ label: CLASSES[o.cls], ...o.box }));
    lines.push(JSON.stringify({ image, labels: boxes.map((b) => b.label), boxes }));
  }
  await writeFile(join(root, 'manifest.jsonl'), `${lines.join('\n')}\n`);
  return root;
}

/** n test-split images in class folders (the class of the largest object). */
export async function demoFolders(n: number): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'gradsight-eval-folders-'));
  for (let i = 0; i < n; i++) {
    const s = splitSample(SPLITS.test, i);
    await mkdir(join(root, CLASSES[s.label]), { recursive: true });
    await writePng(join(root, CLASSES[s.label], `s${String(i).padStart(3, '0')}.png`), s.image);
  }
  return root;
}
