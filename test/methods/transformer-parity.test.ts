// Parity with pytorch-grad-cam on vision transformers, through layer views: torchvision ViT-B/16
// (tokens: class token dropped, 14×14 grid) and Swin-T (channels-last 7×7), seeded random weights,
// exported by conformance/export_transformers.py exactly as ../shared/reference/transformers/README.md
// says. First the export must reproduce the reference logits (else the weights differ and no map can
// match); then every `cam` entry at the default layer — which must be the one the references use —
// is compared on the final map: max |gradsight − reference| ≤ 1e-3.
//
// Eigen-CAM included: gradsight takes the first component's sign LAPACK's dgesdd gives it
// (src/methods/eigen-sign.ts), so its maps must equal the references like every other method's.
// That the check can fail is shown on Eigen-CAM itself: the opposite sign is a different map.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Explainer } from '../../src/explain/explainer.ts';
import { lapackSign } from '../../src/methods/eigen-sign.ts';
import { fuseLayers } from '../../src/methods/pipeline.ts';
import type { MethodId } from '../../src/methods/types.ts';
import { GradientRunner } from '../../src/model/gradient-runner.ts';
import type { ImageModel } from '../../src/model/image-model.ts';
import type { LayerView } from '../../src/model/layer-view.ts';
import { openImageModel } from '../../src/model/open-node.ts';
import { firstComponentProjection } from '../../src/tensor/feature-maps.ts';
import { decodeNpy } from '../../src/tensor/npy.ts';
import type { Float32Tensor } from '../../src/tensor/tensor.ts';
import { repoRoot, sharedDir } from '../helpers/shared.ts';

const cache = join(repoRoot, 'conformance', '.cache-transformers');
const refDir = join(sharedDir, 'reference', 'transformers');

const EXPECTED_LAYER: Record<string, { name: string; view: string }> = {
  vit_b_16: { name: '/encoder/layers/encoder_layer_11/ln_1/Add_1_output_0', view: 'tokens' },
  swin_t: { name: '/norm/Add_1_output_0', view: 'nhwc' },
};

const skip = !existsSync(join(refDir, 'index.json'))
  ? `${refDir} not found (the pytorch-grad-cam transformer references are in ../shared)`
  : !existsSync(join(cache, 'manifest.json'))
    ? `${cache} not found: run bash conformance/setup.sh (or /usr/bin/python3 conformance/export_transformers.py)`
    : false;

interface Entry {
  readonly arch: string;
  readonly image: string;
  readonly kind: string;
  readonly file: string;
  readonly method?: string;
  readonly class?: number;
}

const npy = (file: string) => decodeNpy(readFileSync(join(refDir, file)));

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('parity with pytorch-grad-cam on ViT-B/16 and Swin-T (layer views)', { skip }, () => {
  const entries: Entry[] = skip ? [] : JSON.parse(readFileSync(join(refDir, 'index.json'), 'utf8'));
  for (const arch of ['vit_b_16', 'swin_t']) {
    test(arch, async (t) => {
      const model = await openImageModel(join(cache, arch, 'model.onnx'));
      const ex = Explainer.fromModel(model);
      const failures: string[] = [];
      try {
        const layer = await model.defaultLayer();
        assert.equal(layer.name, EXPECTED_LAYER[arch]!.name);
        assert.equal(layer.view?.kind, EXPECTED_LAYER[arch]!.view);
        for (const image of ['cat', 'pets']) {
          const x = npy(`${arch}/${image}/input.npy`);
          const input: Float32Tensor = {
            dtype: 'float32',
            dims: [1, ...x.dims],
            data: x.data as Float32Array,
          };
          // The rebuild check: same weights ⇔ same logits.
          const logits = await model.runTensor(input, 'logits');
          const dLogits = maxAbs(logits.data, npy(`${arch}/${image}/logits.npy`).data as Float32Array);
          t.diagnostic(`${arch} ${image}: logits vs reference ${dLogits.toExponential(2)}`);
          assert.ok(
            dLogits < 1e-4,
            `${arch} ${image}: the export does not reproduce logits.npy (${dLogits})`,
          );
          for (const e of entries.filter((x) => x.arch === arch && x.image === image && x.kind === 'cam')) {
            const method = e.method as MethodId;
            const r = await ex.explain(input, { method, target: String(e.class) });
            const got = r.explanations[0]!.map!;
            const ref = npy(e.file).data as Float32Array;
            const err = maxAbs(got, ref);
            let note = '';
            if (method === 'eigencam') {
              const flipped = await eigenCamWithSign(model, layer.name, layer.view!, input);
              note = ` (opposite sign: ${maxAbs(flipped, ref).toExponential(2)})`;
              assert.ok(maxAbs(flipped, got) > 0.1, 'both signs give the same map');
            }
            const row = `${method} | ${arch} | ${image} | c${e.class} | ${err.toExponential(2)}${note}`;
            t.diagnostic(row);
            if (!(err <= 1e-3)) failures.push(`${e.file}: ${err}`);
          }
        }
      } finally {
        await ex.release();
      }
      assert.deepEqual(failures, []);
    });
  }
});

/** Eigen-CAM's final map with the first component's sign forced to the opposite of LAPACK's. */
async function eigenCamWithSign(
  model: ImageModel,
  layer: string,
  view: LayerView,
  input: Float32Tensor,
): Promise<Float32Array> {
  const runner = await GradientRunner.create(model, { wrt: [layer], views: { [layer]: view } });
  try {
    const k = runner.seedDims(1)[1]!;
    const r = await runner.run(input, { dtype: 'float32', dims: [1, k], data: new Float32Array(k) });
    const a = r.values[layer]!;
    const cam = firstComponentProjection(a, (...args) => -lapackSign(...args));
    return fuseLayers(new Map([[layer, cam]]), 224, 224, 'per-image').data;
  } finally {
    await runner.release();
  }
}
