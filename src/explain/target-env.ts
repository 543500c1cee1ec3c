// What the targets need to know of a model: its task from the model description (classification,
// multi-label, segmentation with its layout, detection with its decoder and thresholds).

import { decoderById } from '../detect/decoders.ts';
import type { ModelDescription } from '../model/description.ts';
import type { ImageModel } from '../model/image-model.ts';
import type { TargetEnv } from '../targets/index.ts';

export function targetEnvOf(model: ImageModel): TargetEnv {
  const d = (model as { readonly description?: ModelDescription }).description;
  const task = d?.task;
  if (!task) return {};
  switch (task.kind) {
    case 'classification':
    case 'multi-label':
      return { task: task.kind };
    case 'segmentation':
      return { task: 'segmentation', denseLayout: task.outputLayout };
    case 'captioning':
    case 'vqa':
      return d.language ? { task: task.kind, language: d.language } : { task: task.kind };
    case 'detection':
      return {
        task: 'detection',
        detection: {
          decoder: decoderById(task.decoder),
          scoreThreshold: task.scoreThreshold,
          iouThreshold: task.iouThreshold,
        },
      };
  }
}
