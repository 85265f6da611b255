// Importing this module defines every element (a guarded define: importing twice is harmless).
export { MlClassifier, type PredictResult, type MlLoadDetail, type MlProgressDetail, type MlPredictionDetail, type MlErrorDetail } from './ml-classifier/ml-classifier.js';
export type { Prediction } from './shared/scores.js';
export { MlRegressor, type RegressionResult, type MlRegressionDetail } from './ml-regressor/ml-regressor.js';
export { WidgetError, type WidgetErrorCode } from './shared/errors.js';
export { define } from './define.js';
export { ModelController, type ModelControllerOptions, type LoadedModel } from './controllers/model-controller.js';
export { VisibilityController, type VisibilityControllerOptions } from './controllers/visibility-controller.js';
export { FormBindingController, type FormBindingOptions } from './controllers/form-controller.js';
export { loadModel, clearModelCache, ModelError, type ModelErrorCode, type ModelMeta, type Outputs } from '../runtime/index.js';
