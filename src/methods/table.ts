// The method table: one list that drives the CLI's choices and help, the web app's menu, the docs'
// table and the tests. Order: the paper's methods first, then the CAM family.

import { ablationcam } from './ablationcam.ts';
import { cam } from './cam.ts';
import { deconvnet } from './deconvnet.ts';
import { eigencam } from './eigencam.ts';
import { eigengradcam } from './eigengradcam.ts';
import { gradcam } from './gradcam.ts';
import { gradcamElementwise } from './gradcam-elementwise.ts';
import { gradcamPlusPlus } from './gradcam-plus-plus.ts';
import { guidedBackprop } from './guided-backprop.ts';
import { guidedGradcam } from './guided-gradcam.ts';
import { hirescam } from './hirescam.ts';
import { layercam } from './layercam.ts';
import { scorecam } from './scorecam.ts';
import type { Method, MethodId } from './types.ts';
import { xgradcam } from './xgradcam.ts';

export const METHODS: readonly Method[] = [
  gradcam,
  guidedBackprop,
  guidedGradcam,
  cam,
  hirescam,
  gradcamElementwise,
  gradcamPlusPlus,
  xgradcam,
  layercam,
  eigencam,
  eigengradcam,
  scorecam,
  ablationcam,
  deconvnet,
];

export const METHOD_IDS: readonly MethodId[] = METHODS.map((m) => m.id);

export function methodById(id: string): Method | undefined {
  return METHODS.find((m) => m.id === id);
}
