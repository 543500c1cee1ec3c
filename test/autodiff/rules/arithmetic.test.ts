// Gradient rules of src/autodiff/rules/arithmetic.ts against finite differences and PyTorch goldens.

import { describeFamily } from './family.ts';

describeFamily('arithmetic');
