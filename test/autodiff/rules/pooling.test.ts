// Gradient rules of src/autodiff/rules/pooling.ts against finite differences and PyTorch goldens.

import { describeFamily } from './family.ts';

describeFamily('pooling');
