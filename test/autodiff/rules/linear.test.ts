// Gradient rules of src/autodiff/rules/linear.ts against finite differences and PyTorch goldens.

import { describeFamily } from './family.ts';

describeFamily('linear');
