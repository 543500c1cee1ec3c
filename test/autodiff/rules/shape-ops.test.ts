// Gradient rules of src/autodiff/rules/shape-ops.ts against finite differences and PyTorch goldens.

import { describeFamily } from './family.ts';

describeFamily('shape-ops');
