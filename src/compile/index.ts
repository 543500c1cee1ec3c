// Public API of compiled explainers: one ONNX model that outputs an explanation map.

export {
  COMPILABLE_METHODS,
  type CompilableMethod,
  type CompileExplainerOptions,
  compilableMethod,
  compileExplainer,
  type ExplainerModel,
  SEED_INPUTS,
  type SeedInput,
  type TensorDescription,
} from './explainer-model.ts';
