// The browser decoder (decode-web.ts) in headless Chromium gives the pixels Node's decoder gives, on
// files made here with sharp (PNG of every colour type, JPEG with and without EXIF rotation, WebP,
// GIF, BMP) and the shared photos; bad files get the same typed errors.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { decodeImage } from '../../src/image/decode-node.ts';
import { readImageHeader } from '../../src/image/header.ts';
import { sniffImageFormat } from '../../src/image/sniff.ts';
import { launchChromium, skipNoChromium } from '../helpers/chromium.ts';
import { hasShared, repoRoot, sharedDir } from '../helpers/shared.ts';

const skip = skipNoChromium;

/** A seeded RGB(A) test card: gradients, edges and noise, so decoders' rounding shows. */
function card(width: number, height: number, channels: 3 | 4): Buffer {
  const b = Buffer.alloc(width * height * channels);
  let s = 7;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      const i = (y * width + x) * channels;
      b[i] = (x * 255) / (width - 1);
      b[i + 1] = (y * 255) / (height - 1);
      b[i + 2] = (x ^ y) & 1 ? s >>> 24 : (x * y) & 255;
      if (channels === 4) b[i + 3] = x < width / 2 ? 255 : (s >>> 16) & 1 ? 255 : 0;
    }
  }
  return b;
}

async function samples(): Promise<{ name: string; bytes: Buffer }[]> {
  const raw3 = { raw: { width: 37, height: 23, channels: 3 as const } };
  const raw4 = { raw: { width: 37, height: 23, channels: 4 as const } };
  const rgb = sharp(card(37, 23, 3), raw3);
  const out = [
    { name: 'rgb.png', bytes: await rgb.clone().png().toBuffer() },
    {
      name: 'rgba.png',
      bytes: await sharp(card(37, 23, 4), raw4)
        .png()
        .toBuffer(),
    },
    { name: 'grey.png', bytes: await rgb.clone().greyscale().png().toBuffer() },
    { name: 'palette.png', bytes: await rgb.clone().png({ palette: true, colours: 16 }).toBuffer() },
    { name: 'rgb16.png', bytes: await rgb.clone().toColourspace('rgb16').png().toBuffer() },
    { name: 'q90.jpg', bytes: await rgb.clone().jpeg({ quality: 90 }).toBuffer() },
    {
      name: 'q75-444.jpg',
      bytes: await rgb.clone().jpeg({ quality: 75, chromaSubsampling: '4:4:4' }).toBuffer(),
    },
    {
      name: 'rotated.jpg',
      bytes: await rgb.clone().jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer(),
    },
    { name: 'lossless.webp', bytes: await rgb.clone().webp({ lossless: true }).toBuffer() },
    { name: 'image.gif', bytes: await rgb.clone().gif().toBuffer() },
  ];
  if (hasShared) {
    for (const f of ['cat.png', 'grace_hopper.png', 'kite_and_cold.png']) {
      out.push({ name: f, bytes: readFileSync(join(sharedDir, 'images', f)) });
    }
  }
  return out;
}

// The page-side helper lives in the bundle: functions passed to page.evaluate must not name helpers
// (tsx's keepNames wraps them in a __name the page lacks).
const PAGE_HELPER = `
import { decodeWebImage } from './src/image/decode-web.ts';
const toB64 = (a) => {
  let s = '';
  for (let i = 0; i < a.length; i += 8192) s += String.fromCharCode(...a.subarray(i, i + 8192));
  return btoa(s);
};
globalThis.decodeB64 = async (b64) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  try {
    const img = await decodeWebImage(new Blob([bytes]), { source: 'the file' });
    return { width: img.width, height: img.height, data: toB64(img.data), ...(img.alpha ? { alpha: toB64(img.alpha) } : {}) };
  } catch (e) {
    return { width: 0, height: 0, data: '', error: { code: e.code, message: e.message } };
  }
};
`;

let browser: Browser | undefined;
let page: Page | undefined;

before(async () => {
  if (skip) return;
  const bundle = await build({
    stdin: {
      contents: PAGE_HELPER,
      resolveDir: repoRoot,
      loader: 'js',
    },
    bundle: true,
    platform: 'browser',
    format: 'iife',
    write: false,
  });
  browser = await launchChromium();
  page = await browser.newPage();
  await page.setContent('<!doctype html><title>decode</title>');
  await page.addScriptTag({ content: bundle.outputFiles[0]!.text });
});

after(async () => {
  await browser?.close();
});

interface Decoded {
  width: number;
  height: number;
  data: string;
  alpha?: string;
  error?: { code: string; message: string };
}

const decodeInPage = (bytes: Buffer): Promise<Decoded> =>
  // biome-ignore lint/suspicious/noExplicitAny: the bundle's global
  page!.evaluate((b64) => (globalThis as any).decodeB64(b64), bytes.toString('base64'));

test('Chromium decodes every format to the pixels Node decodes', { skip, timeout: 120_000 }, async () => {
  for (const { name, bytes } of await samples()) {
    const node = await decodeImage(new Uint8Array(bytes), name);
    const web = await decodeInPage(bytes);
    assert.equal(web.error, undefined, `${name}: ${web.error?.message}`);
    assert.deepEqual([web.width, web.height], [node.width, node.height], `${name}: size`);
    const data = Buffer.from(web.data, 'base64');
    assert.equal(Boolean(web.alpha), Boolean(node.alpha), `${name}: alpha plane kept by one decoder only`);
    const alpha = node.alpha;
    let differ = 0;
    let maxDiff = 0;
    for (let p = 0; p < node.width * node.height; p++) {
      // A canvas keeps no colour under alpha 0 (premultiplied storage): only visible pixels compare.
      if (alpha && alpha[p] !== 255) continue;
      for (let c = 0; c < 3; c++) {
        const d = Math.abs(data[3 * p + c]! - node.data[3 * p + c]!);
        if (d) differ++;
        maxDiff = Math.max(maxDiff, d);
      }
    }
    assert.equal(maxDiff, 0, `${name}: ${differ} values differ, by up to ${maxDiff}`);
    if (alpha) assert.deepEqual(Buffer.from(web.alpha!, 'base64'), Buffer.from(alpha), `${name}: alpha`);
  }
});

test('bad files get typed errors in the page', { skip, timeout: 60_000 }, async () => {
  const text = await decodeInPage(Buffer.from('hello, this is not an image\n'));
  assert.equal(text.error?.code, 'bad-image');
  assert.match(text.error!.message, /not a supported image: it looks like a text file/);
  const png = await sharp(card(37, 23, 3), { raw: { width: 37, height: 23, channels: 3 } })
    .png()
    .toBuffer();
  const cut = await decodeInPage(png.subarray(0, 60));
  assert.equal(cut.error?.code, 'bad-image');
  assert.match(cut.error!.message, /PNG file but the browser cannot decode it/);
  // A header claiming 60000 × 60000 is refused before decoding (the pixel budget).
  const bomb = Buffer.from(png);
  bomb.writeUInt32BE(60000, 16);
  bomb.writeUInt32BE(60000, 20);
  const refused = await decodeInPage(bomb);
  assert.equal(refused.error?.code, 'bad-image');
  assert.match(refused.error!.message, /too large to decode/);
});

test('header sizes agree with sharp’s metadata', async () => {
  for (const { name, bytes } of await samples()) {
    const format = sniffImageFormat(bytes);
    const h = readImageHeader(bytes, format);
    const meta = await sharp(bytes).metadata();
    assert.ok(h, `${name}: no header read`);
    assert.deepEqual([h.width, h.height], [meta.width, meta.height], name);
    if (h.alpha !== undefined) assert.equal(h.alpha, meta.hasAlpha, `${name}: alpha`);
  }
});
