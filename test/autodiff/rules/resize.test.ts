// Gradient rules of src/autodiff/rules/resize.ts against finite differences and PyTorch goldens.

import { describeFamily } from './family.ts';

describeFamily('resize');
