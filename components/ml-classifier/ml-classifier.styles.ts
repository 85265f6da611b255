import { baseStyles } from '../shared/styles.js';
import { predictionStyles } from '../shared/predictions.styles.js';

export const styles = [baseStyles, predictionStyles];
