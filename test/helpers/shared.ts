// Locates ../shared (real models, images, references) beside the checkout. Tests that need it pass
// `skipNoShared` as their `skip` option, so a user's fresh clone skips them with a message saying why.

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const sharedDir = process.env.GRADSIGHT_SHARED ?? resolve(repoRoot, '..', 'shared');
export const hasShared = existsSync(join(sharedDir, 'models'));

/** `false` when ../shared is present, else the reason to skip (node:test prints it). */
export const skipNoShared: false | string = hasShared
  ? false
  : `../shared not found at ${sharedDir} (real models and references are not part of a fresh clone)`;

export const sharedModels = [
  'mobilenet_v2_1.0_224_quant',
  'mobilenet_v2_1.0_224_inat_bird_quant',
  'mobilenet_v1_0.75_192_quant',
  'deeplabv3_mnv2_pascal_quant',
  'squeezenet1_1_random',
] as const;

export const sharedImages = [
  'cat.png',
  'bird.png',
  'dragonfly.png',
  'grace_hopper.png',
  'parrot.png',
  'owl.png',
  'pets.png',
  'hot_dog.png',
  'kite_and_cold.png',
  'sunflower.png',
  'face.png',
  'dog_segmentation.png',
  'bird_segmentation.png',
] as const;

export const modelPath = (name: string) => join(sharedDir, 'models', name, 'model.onnx');
export const imagePath = (name: string) => join(sharedDir, 'images', name);
