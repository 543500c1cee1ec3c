// The one table of detection decoders: the model description's `decoder` field, the CLI and the docs
// all read it. Add a layout here and every surface offers it.

import { closestNames, GradsightError } from '../errors.ts';
import { fastestdet } from './fastestdet.ts';
import type { Decoder } from './types.ts';
import { yolov5, yolov8 } from './yolo.ts';

export const DECODERS = { fastestdet, yolov5, yolov8 } as const satisfies Record<string, Decoder>;

export type DecoderId = keyof typeof DECODERS;

export const DECODER_IDS = Object.keys(DECODERS) as DecoderId[];

export const isDecoderId = (id: string): id is DecoderId => Object.hasOwn(DECODERS, id);

/** The decoder named `id`; an unknown name is a typed error listing the closest ones. */
export function decoderById(id: string): Decoder {
  if (isDecoderId(id)) return DECODERS[id];
  throw new GradsightError('bad-argument', `unknown detection decoder ${JSON.stringify(id)}`, {
    hint: `decoders: ${DECODER_IDS.join(', ')} (closest: ${closestNames(id, DECODER_IDS, 1).join('')})`,
    details: { decoder: id },
  });
}

/** The decoder table as Markdown, for the docs (generated, never by hand). */
export function decoderTableMarkdown(): string {
  const rows = DECODER_IDS.map(
    (id) => `| \`${id}\` | ${DECODERS[id].describe} | ${DECODERS[id].head.description} |`,
  );
  return ['| decoder | output layout | explained score |', '|---|---|---|', ...rows, ''].join('\n');
}
