export {
  loadModel,
  clearModelCache,
  releaseModel,
  MODEL_CACHE,
  type LoadOptions,
  type LoadProgress,
  type ModelSource,
  type LoadedModel,
} from './load.js';
export {
  Model,
  ModelStream,
  type Outputs,
  type OutputTensor,
  type ModelInput,
  type TensorInput,
  type RunOptions,
  type Tensor,
  type TensorData,
  type TensorFeed,
} from './model.js';
export { ModelError, type ModelErrorCode } from './errors.js';
export { hasWasmFeature } from './features.js';
export { VERSION } from './version.js';
export { loadModelInWorker, type RemoteModel } from './remote.js';
export { ThreadedModel, type ThreadInfo, type ThreadsOption } from './threads/threaded-model.js';
export {
  META_SECTION,
  META_FORMAT,
  META_VERSION,
  rowSize,
  type ModelMeta,
  type TensorMeta,
  type FeatureMeta,
  type ImagePreprocessing,
  type Dim,
  type DType,
  type SymbolMeta,
} from './meta.js';
export { STATUS } from './abi.js';
