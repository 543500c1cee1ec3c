// Gradient rules of src/autodiff/rules/reduce.ts against finite differences and PyTorch goldens.

import { describeFamily } from './family.ts';

describeFamily('reduce');
