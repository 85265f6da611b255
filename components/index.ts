// Importing this module defines every element (a guarded define: importing twice is harmless).
export { MlClassifier, type PredictResult, type MlClassifierEventMap } from './ml-classifier/ml-classifier.js';
export type { Prediction } from './shared/scores.js';
export { MlRegressor, type RegressionResult, type MlRegressorEventMap } from './ml-regressor/ml-regressor.js';
export {
  MlImageClassifier,
  type ImageInput,
  type ImageSource,
  type MlImageClassifierEventMap,
} from './ml-image-classifier/ml-image-classifier.js';
export { MlSketchPad, type MlSketchPadEventMap } from './ml-sketch-pad/ml-sketch-pad.js';
export type {
  MlLoadDetail,
  MlLoadEvent,
  MlProgressDetail,
  MlProgressEvent,
  MlPredictionDetail,
  MlRegressionDetail,
  MlPredictionEvent,
  MlErrorDetail,
  MlErrorEvent,
  MlSketchDetail,
  MlSketchEvent,
  ModelElementEventMap,
} from './events/index.js';
export {
  ImagePreprocessor,
  resolvePreprocessing,
  inferPreprocessing,
  type PreprocessingOverrides,
  type Region,
} from './image/preprocess.js';
export {
  ImageSourceController,
  type ImageSourceOptions,
  type ImageOrigin,
  type CameraState,
} from './controllers/image-source-controller.js';
export { WidgetError, type WidgetErrorCode } from './shared/errors.js';
export { define } from './define.js';
export { ModelController, type ModelControllerOptions, type LoadedModel } from './controllers/model-controller.js';
export { VisibilityController, type VisibilityControllerOptions } from './controllers/visibility-controller.js';
export { FormBindingController, type FormBindingOptions } from './controllers/form-controller.js';
export {
  loadModel,
  clearModelCache,
  releaseModel,
  ModelError,
  type ModelErrorCode,
  type ModelMeta,
  type Outputs,
} from '../runtime/index.js';
