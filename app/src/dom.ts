// Small DOM helpers for the page.

export function $<T extends HTMLElement = HTMLElement>(selector: string): T {
  const el = document.querySelector<T>(selector);
  if (!el) throw new Error(`the page has no ${selector}`);
  return el;
}

type Props<K extends keyof HTMLElementTagNameMap> = Partial<
  Omit<HTMLElementTagNameMap[K], 'dataset' | 'style'>
> & {
  dataset?: Record<string, string>;
};

export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props<K> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  const { dataset, ...rest } = props;
  Object.assign(el, rest);
  if (dataset) Object.assign(el.dataset, dataset);
  el.append(...children);
  return el;
}

/** A canvas showing RGBA pixels at their own size (CSS scales it). */
export function drawRgba(img: { width: number; height: number; data: Uint8ClampedArray }): HTMLCanvasElement {
  const canvas = element('canvas', { width: img.width, height: img.height });
  canvas
    .getContext('2d')!
    .putImageData(new ImageData(img.data as Uint8ClampedArray<ArrayBuffer>, img.width, img.height), 0, 0);
  return canvas;
}

/** Saves a Blob as a file (an object URL of this page: nothing is uploaded). */
export function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = element('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
