// A compiled explainer: one ONNX model that takes the image (and the class to explain) and outputs
// the scores and the method's map at input resolution, computed in-graph with standard ai.onnx ops.
// It is the inference model with one patch appended (forward graph and weights untouched):
//   seed      one-hot of class_index (or a seed input), negated for counterfactuals
//   backward  standard rules to the CAM layers, guided rules to the input (two gradient patches with
//             their own name prefixes, sharing the seed)
//   pipeline  cam-graph.ts: the CAM, ReLU, min-max, bilinear resize, layer fusion, min-max
// so Node, the browser, Python or C++ run it with plain ONNX Runtime.

import { gradientPatch } from '../autodiff/compile.ts';
import { Emitter, ONNX_FLOAT } from '../autodiff/emitter.ts';
import { explainedTensor } from '../autodiff/explained.ts';
import type { Profile, RuleSet } from '../autodiff/rule.ts';
import { RULE_SETS } from '../autodiff/rule-sets.ts';
import { GradsightError } from '../errors.ts';
import { METHOD_IDS, METHODS, methodById } from '../methods/table.ts';
import type { Method, MethodId } from '../methods/types.ts';
import { pickImageInput } from '../model/inputs.ts';
import { emitView, type LayerLayout, parseLayerLayout } from '../model/layer-view.ts';
import { defaultLayer, type LayerInfo, resolveLayers } from '../model/layers.ts';
import { targetGraph } from '../model/target-graph.ts';
import {
  appendGraphPatch,
  type GraphPatch,
  type Model,
  type Shape,
  tensorValueInfo,
  type ValueInfo,
} from '../onnx/index.ts';
import type { TargetHead } from '../targets/head.ts';
import { fuseCams } from './cam-graph.ts';

/**
 * Whether a method has an in-graph form (the method table decides): a CAM method with `camGraph`, or a
 * pixel method (an input gradient under its rule set, times the final map of a compilable CAM method
 * for Guided Grad-CAM). The others need loops, SVDs or many forwards.
 */
export function isCompilable(m: Method): boolean {
  if (m.output === 'cam') return m.camGraph !== undefined;
  const of = m.needs.finalMapOf;
  return m.needs.inputGradient !== undefined && (of === undefined || methodById(of)?.camGraph !== undefined);
}

/** The compilable method ids, read off the method table. */
export const COMPILABLE_METHODS: readonly MethodId[] = METHODS.filter(isCompilable).map((m) => m.id);
export type CompilableMethod = MethodId;

/** `class`: an int64 [N] class index per image; `seed`: a float [N, K] gradient of the scores. */
export type SeedInput = 'class' | 'seed';
export const SEED_INPUTS: readonly SeedInput[] = ['class', 'seed'];

export interface CompileExplainerOptions {
  readonly method: string;
  /** CAM layers (default: the model's default layer); several are fused as pytorch-grad-cam does. */
  readonly layers?: readonly string[];
  /** Rules of the CAM gradients (default standard); Guided Backprop always uses `guided`. */
  readonly ruleSet?: RuleSet;
  readonly profile?: Profile;
  /** Shapes of every tensor (ImageModel.shapes()); spatial sizes must be static. */
  readonly shapes: ReadonlyMap<string, ValueInfo>;
  /** Explain −y: the seed is negated in-graph. */
  readonly counterfactual?: boolean;
  readonly seedInput?: SeedInput;
  /** The output to explain (default: the first; a softmax output is explained before the softmax). */
  readonly output?: string;
  /** Nodes between the scores and the explained quantity (targets/heads.ts): a probability, a log-probability. */
  readonly head?: TargetHead;
  /** Which input is the image (default: inferred from shapes, model/inputs.ts). */
  readonly imageInput?: string;
  /** How the layers are read as N×C×H×W (default: inferred; see layer-view.ts). */
  readonly layerLayout?: string | LayerLayout;
}

export interface TensorDescription {
  readonly name: string;
  readonly dtype: string;
  readonly shape: Shape;
  readonly meaning: string;
}

export interface ExplainerModel {
  readonly bytes: Uint8Array;
  readonly method: CompilableMethod;
  /** CAM layers used (empty for Guided Backprop). */
  readonly layers: readonly string[];
  /** The explained (differentiated) tensor: the pre-softmax scores, or a head's output. */
  readonly explained: string;
  readonly counterfactual: boolean;
  readonly inputs: readonly TensorDescription[];
  readonly outputs: readonly TensorDescription[];
}

const ONNX_INT64 = 7;

export function compileExplainer(
  inferenceBytes: Uint8Array,
  inferenceModel: Model,
  options: CompileExplainerOptions,
): ExplainerModel {
  const spec = compilableMethod(options.method);
  const method = spec.id;
  // The CAM the map is made of: the method's own, or the one a pixel method multiplies by.
  const camMethod = spec.camGraph
    ? spec
    : spec.needs.finalMapOf
      ? methodById(spec.needs.finalMapOf)
      : undefined;
  const output = options.output ?? inferenceModel.graph.outputs[0]?.name;
  const scores = explainedTensor(inferenceModel.graph, output, true);
  // A target head (a probability, a detection score) is appended first; its T is what is explained.
  const source = { bytes: inferenceBytes, model: inferenceModel, shapes: options.shapes };
  const tg = options.head ? targetGraph(source, scores, options.head) : undefined;
  const { bytes, model, shapes } = tg ?? source;
  const g = model.graph;
  const image = imageInput(model, shapes, options.imageInput);
  const [batch, , height, width] = image.shape as [string | number | null, number, number, number];
  const explained = tg?.explained ?? scores;
  const explainedShape = shapes.get(explained)?.shape;
  if (!explainedShape) throw new GradsightError('shape-inference', `the shape of ${explained} is unknown`);
  const seedInput = options.seedInput ?? 'class';
  const counterfactual = options.counterfactual ?? false;
  const needsCam = camMethod !== undefined;
  const layout =
    typeof options.layerLayout === 'string' ? parseLayerLayout(options.layerLayout) : options.layerLayout;
  const layerInfos = needsCam ? layersOf(model, shapes, options.layers, output, layout) : [];
  const layers = layerInfos.map((l) => l.name);

  const known = new Set([...g.inputs.map((i) => i.name), ...g.producers.keys(), ...g.initializers.keys()]);
  const opset = model.opsets.get('') ?? model.opsets.get('ai.onnx') ?? 13;
  const e = new Emitter(opset, 'gradsight/explainer');
  e.enter('seed');

  // The seed: d(explained scalar)/d(scores), one row per image.
  const inputs: TensorDescription[] = [
    {
      name: image.name,
      dtype: 'float32',
      shape: image.shape,
      meaning: 'the preprocessed image batch, as the model takes it',
    },
    ...g.inputs
      .filter((i) => i.name !== image.name)
      .map((i) => ({
        name: i.name,
        dtype: i.dtype ?? 'float32',
        shape: i.shape ?? [],
        meaning: "one of the model's own extra inputs, fed as for the model",
      })),
  ];
  let seed: string;
  if (seedInput === 'class') {
    const classes = classCount(explainedShape, explained);
    const name = unique(known, 'class_index');
    inputs.push({
      name,
      dtype: 'int64',
      shape: [batch],
      meaning: `the class to explain for each image (0 to ${classes - 1})`,
    });
    const range = e.constI64(
      Array.from({ length: classes }, (_, i) => i),
      [classes],
    );
    seed = e.castFloat(e.equal(e.unsqueeze(name, [1]), range));
  } else {
    const name = unique(known, 'seed');
    inputs.push({
      name,
      dtype: 'float32',
      shape: explainedShape,
      meaning: `the gradient of the explained scalar with respect to ${explained} (a one-hot row explains one class; y_a − y_b: +1 and −1)`,
    });
    seed = name;
  }
  if (counterfactual) seed = e.neg(seed);
  const seedNodes = [...e.nodes];
  e.nodes.length = 0;

  const common = {
    explained,
    beforeSoftmax: false,
    shapes,
    seed,
    ...(options.profile ? { profile: options.profile } : {}),
  };
  const patches: GraphPatch[] = [];
  const outputs: TensorDescription[] = [];
  const outputInfos: ReturnType<typeof tensorValueInfo>[] = [];
  const mapName = (base: string) => unique(known, base);

  const scoresMeaning = `the explained scores (before any softmax)${counterfactual ? '; the map explains their negation' : ''}`;
  outputs.push({ name: explained, dtype: 'float32', shape: explainedShape, meaning: scoresMeaning });
  if (!g.outputs.some((o) => o.name === explained))
    outputInfos.push(tensorValueInfo(explained, ONNX_FLOAT, explainedShape));

  let finalCam: string | undefined;
  if (needsCam) {
    const cam = gradientPatch(model, {
      ...common,
      wrt: layers,
      prefix: 'gradsight/cam',
      ...(options.ruleSet ? { ruleSet: options.ruleSet } : {}),
    });
    patches.push(cam.patch);
    e.enter('cam');
    // Each layer through its view (layer-view.ts): value and gradient alike, so the CAM sees NCHW.
    const cams = cam.outputs.map((o, i) => {
      const view = layerInfos[i]!.view!;
      return camMethod!.camGraph!(e, emitView(e, o.tensor, view), emitView(e, o.grad, view));
    });
    finalCam = fuseCams(e, cams, height, width);
    const name = mapName('map');
    e.nodes.push({
      opType: 'Reshape',
      domain: '',
      name: `${name}/Reshape`,
      input: [finalCam, e.constI64([-1, height, width])],
      output: [name],
    });
    const shape = [batch, height, width];
    outputInfos.push(tensorValueInfo(name, ONNX_FLOAT, shape));
    outputs.push({
      name,
      dtype: 'float32',
      shape,
      meaning: `the ${camMethod!.title} map at input resolution, in [0, 1] per image (layers: ${layers.join(', ')})`,
    });
  }

  const pixelRule = spec.output === 'pixels' ? spec.needs.inputGradient : undefined;
  if (pixelRule) {
    const gb = gradientPatch(model, {
      ...common,
      wrt: [image.name],
      prefix: `gradsight/${pixelRule}`,
      ruleSet: RULE_SETS[pixelRule],
    });
    patches.push(gb.patch);
    const grad = gb.outputs[0]!.grad;
    e.enter('pixels');
    // Guided Grad-CAM: GB ⊙ the final Grad-CAM map, broadcast over channels.
    const pixels = spec.needs.finalMapOf ? e.mul(grad, finalCam!) : grad;
    const name = mapName('pixels');
    e.nodes.push({
      opType: 'Identity',
      domain: '',
      name: `${name}/Identity`,
      input: [pixels],
      output: [name],
    });
    outputInfos.push(tensorValueInfo(name, ONNX_FLOAT, image.shape));
    outputs.push({
      name,
      dtype: 'float32',
      shape: image.shape,
      meaning: spec.needs.finalMapOf
        ? `${spec.title}: the input gradient (${pixelRule} rules) × the ${camMethod!.title} map, raw (display with deprocess_image)`
        : `${spec.title}: the input gradient through ${pixelRule} ReLU rules, raw (display with deprocess_image)`,
    });
  }

  const patch: GraphPatch = {
    node: [...seedNodes, ...patches.flatMap((p) => p.node ?? []), ...e.nodes],
    initializer: [...e.initializers, ...patches.flatMap((p) => p.initializer ?? [])],
    // Only the inputs this patch adds (the class index or seed); the model's own stay as they are.
    input: inputs
      .filter((i) => !g.inputs.some((x) => x.name === i.name))
      .map((i) => tensorValueInfo(i.name, i.dtype === 'int64' ? ONNX_INT64 : ONNX_FLOAT, i.shape)),
    output: outputInfos,
  };
  return {
    bytes: appendGraphPatch(bytes, patch),
    method,
    layers,
    explained,
    counterfactual,
    inputs,
    outputs,
  };
}

/** The method id if it can be compiled; a typed error naming the compilable ones otherwise. */
export function compilableMethod(id: string): Method {
  const hit = methodById(id);
  if (hit && isCompilable(hit)) return hit;
  if ((METHOD_IDS as readonly string[]).includes(id)) {
    throw new GradsightError('method-not-applicable', `${id} cannot be compiled into a single ONNX model`, {
      hint: `compilable methods: ${COMPILABLE_METHODS.join(', ')}; use gradsight explain for ${id as MethodId}`,
      details: { method: id },
    });
  }
  throw new GradsightError('bad-argument', `unknown method ${JSON.stringify(id)}`, {
    hint: `compilable methods: ${COMPILABLE_METHODS.join(', ')}`,
    details: { method: id },
  });
}

/** The single NCHW image input with static spatial size. */
/** The image input (named, or inferred from shapes as for explain); other inputs stay inputs. */
function imageInput(
  model: Model,
  shapes: ReadonlyMap<string, ValueInfo>,
  imageName: string | undefined,
): { name: string; shape: Shape } {
  const input = pickImageInput(model.graph.inputs, imageName);
  const name = input.name;
  const shape = shapes.get(name)?.shape ?? input.shape;
  if (shape?.length !== 4 || typeof shape[2] !== 'number' || typeof shape[3] !== 'number') {
    throw new GradsightError(
      'shape-inference',
      `input ${name} has shape ${JSON.stringify(shape ?? null)}; a compiled explainer needs [N, C, H, W] with a static H and W`,
      { hint: 'give the input size (e.g. --size 224) so the map size is known' },
    );
  }
  return { name, shape };
}

function layersOf(
  model: Model,
  shapes: ReadonlyMap<string, ValueInfo>,
  names: readonly string[] | undefined,
  output: string | undefined,
  layout: LayerLayout | undefined,
): LayerInfo[] {
  if (!names?.length) return [defaultLayer(model.graph, shapes, output, layout)];
  return resolveLayers(model.graph, shapes, [...new Set(names)], layout);
}

function classCount(shape: Shape, target: string): number {
  const k = shape[1];
  if (shape.length !== 2 || typeof k !== 'number') {
    throw new GradsightError(
      'bad-argument',
      `${target} has shape [${shape.join(', ')}]; a class_index input needs scores of shape [N, K]`,
      { hint: 'compile with the seed input instead (--seed-input seed) and feed the gradient of the scores' },
    );
  }
  return k;
}

function unique(taken: Set<string>, base: string): string {
  let name = base;
  for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
  taken.add(name);
  return name;
}
