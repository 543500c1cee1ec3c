// Report layouts of captioning and VQA models, as in the Grad-CAM paper. Fig. 6: the generated caption,
// then per method a strip of the input image followed by each word's map with the word under it.
// Fig. 7: the question and the answer above the answer's maps. Platform-neutral, text escaped.

import { esc } from './html.ts';
import type { ReportImage, ReportPanel } from './types.ts';

/** The caption layout's strips: the input, then one map per word, per method (in their first order). */
export function renderCaption(img: ReportImage, thumb: string): string {
  const words = img.targets.filter((t) => t.word);
  const methods: string[] = [];
  for (const t of words) for (const p of t.panels) if (!methods.includes(p.method)) methods.push(p.method);
  const strips = methods.map((m) => {
    const cells = words.map((t) => {
      const p = t.panels.find((x) => x.method === m);
      return `<figure class="word">${p ? wordFrame(p, t.word!.text) : '<div class="no-image">—</div>'}<figcaption>${esc(t.word!.text)}</figcaption></figure>`;
    });
    const title = words.flatMap((t) => t.panels).find((p) => p.method === m)?.title ?? m;
    return `<div class="caption-strip"><h4>${esc(title)}</h4><div class="words"><figure class="word">${thumb}<figcaption class="muted">input</figcaption></figure>${cells.join('')}</div></div>`;
  });
  return `<p class="caption-text"><span class="muted">caption</span> “${esc(img.caption ?? words.map((t) => t.word!.text).join(' '))}”</p>
${strips.join('\n')}`;
}

/** The VQA header: question and answer (Fig. 7), above the answer's maps. */
export function renderQuestion(img: ReportImage): string {
  if (img.question === undefined) return '';
  return `<p class="qa"><span class="muted">Q:</span> ${esc(img.question)}${
    img.answer !== undefined ? ` <span class="muted">A:</span> <strong>${esc(img.answer)}</strong>` : ''
  }</p>`;
}

function wordFrame(p: ReportPanel, word: string): string {
  return `<div class="frame"><img src="${esc(p.image)}" alt="${esc(`${p.title}: ${word}`)}"${
    p.size ? ` width="${p.size.width}" height="${p.size.height}"` : ''
  }></div>${p.note ? `<div class="note">${esc(p.note)}</div>` : ''}`;
}
