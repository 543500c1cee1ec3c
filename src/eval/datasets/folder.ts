// A folder per class: root/<class>/<image>, the class being the folder's name (ImageFolder's layout).
// A root holding split folders (train/, test/) instead of classes takes the split named by the
// `split` option, or its only one. Only file names are listed when the dataset opens.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { byCodeUnits, datasetInvalid, isImageName } from './common.ts';
import type { EvalDataset, EvalSample, OpenDatasetOptions } from './types.ts';

const subfolders = (dir: string): string[] =>
  readdirSync(dir)
    .filter((n) => !n.startsWith('.') && statSync(join(dir, n)).isDirectory())
    .sort(byCodeUnits);

const imagesIn = (dir: string): string[] => readdirSync(dir).filter(isImageName).sort(byCodeUnits);

/** Class folders (subfolders holding images) of `dir`. */
const classFolders = (dir: string): string[] =>
  subfolders(dir).filter((c) => imagesIn(join(dir, c)).length > 0);

/** Whether `dir` is a folder per class, directly or through split folders. */
export function isClassFolderRoot(dir: string): boolean {
  if (classFolders(dir).length > 0) return true;
  return subfolders(dir).some((s) => classFolders(join(dir, s)).length > 0);
}

export function openFolder(root: string, options: OpenDatasetOptions = {}): EvalDataset {
  let dir = root;
  if (options.split !== undefined) {
    dir = join(root, options.split);
    if (!existsSync(dir)) {
      throw datasetInvalid(
        `${root} has no split folder "${options.split}"`,
        `Its folders: ${subfolders(root).join(', ') || 'none'}.`,
      );
    }
  } else if (classFolders(root).length === 0) {
    const splits = subfolders(root).filter((s) => classFolders(join(root, s)).length > 0);
    if (splits.length > 1) {
      throw datasetInvalid(
        `${root} holds several splits (${splits.join(', ')})`,
        `Choose one with --split (library: the split option), e.g. --split ${splits[0]}.`,
      );
    }
    if (splits.length === 1) dir = join(root, splits[0]!);
  }
  const classes = classFolders(dir);
  if (classes.length === 0) {
    throw datasetInvalid(
      `${dir} has no class folders with images`,
      'A folder-per-class dataset is root/<class>/<image>.png|jpg|…',
    );
  }
  const files = classes.map((c) => imagesIn(join(dir, c)));
  return {
    name: basename(root) + (dir === root ? '' : `-${basename(dir)}`),
    format: 'folder',
    root: dir,
    classes,
    size: files.reduce((n, f) => n + f.length, 0),
    *samples(): Iterable<EvalSample> {
      for (const [i, label] of classes.entries()) {
        for (const file of files[i]!) {
          yield { id: `${label}/${file}`, image: join(dir, label, file), labels: [label], boxes: [] };
        }
      }
    },
  };
}
