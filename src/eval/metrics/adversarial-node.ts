// Writing adversarial images in Node: 8-bit RGB PNGs at the model's input size (lossless, so the file
// holds exactly the rounded image the attack's success was measured on).

import { writePng } from '../../render/png-node.ts';
import { type AttackResult, toRgbImage } from './adversarial.ts';

/** Writes the attack's adversarial image (or, with `which: 'clean'`, its clean model-size image). */
export async function writeAdversarialPng(
  path: string,
  result: AttackResult,
  which: 'adversarial' | 'clean' = 'adversarial',
): Promise<void> {
  await writePng(path, toRgbImage(which === 'clean' ? result.clean : result.adversarial));
}
