// Expanding the image arguments of a command: files as given, folders to the images inside them
// (sorted, not recursive). A missing path is a typed error, not a silent skip.

import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { GradsightError } from '../errors.ts';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.bmp', '.gif', '.tif', '.tiff', '.avif'];

/** Images and --input x.npy are two ways to give the input: both at once would silently drop the images. */
export function checkOneInput(images: readonly string[], input: string | undefined, command: string): void {
  if (images.length && input !== undefined) {
    throw new GradsightError(
      'bad-argument',
      `give images or --input ${input}, not both (${images.length} image${images.length === 1 ? '' : 's'} given)`,
      { hint: `gradsight ${command} model.onnx photo.jpg, or gradsight ${command} model.onnx --input x.npy` },
    );
  }
}

export async function expandImageArgs(args: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const a of args) {
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(a);
    } catch {
      if (/[*?]/.test(a)) {
        out.push(...(await glob(a)));
        continue;
      }
      throw new GradsightError('file-not-found', `image not found: ${a}`, {
        hint: 'check the path; folders are expanded to the images they contain',
        details: { path: a },
      });
    }
    if (!st.isDirectory()) {
      out.push(a);
      continue;
    }
    const names = (await readdir(a))
      .filter((n) => IMAGE_EXTENSIONS.includes(extname(n).toLowerCase()))
      .sort();
    if (names.length === 0) {
      throw new GradsightError('file-not-found', `folder ${a} contains no images`, {
        hint: `supported extensions: ${IMAGE_EXTENSIONS.join(' ')}`,
      });
    }
    out.push(...names.map((n) => join(a, n)));
  }
  return out;
}

/**
 * A quoted glob the shell did not expand: `*` and `?` in the file-name part (folders are taken
 * literally), image files only, matched case-sensitively, sorted.
 */
async function glob(pattern: string): Promise<string[]> {
  const dir = dirname(pattern);
  const re = new RegExp(
    `^${basename(pattern)
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    names = [];
  }
  const hits = names.filter((n) => re.test(n) && IMAGE_EXTENSIONS.includes(extname(n).toLowerCase())).sort();
  if (hits.length === 0) {
    throw new GradsightError('file-not-found', `no files match ${pattern}`, {
      hint: 'check the pattern; * and ? match within one folder',
      details: { path: pattern },
    });
  }
  return hits.map((n) => join(dir, n));
}
