// Gradient rules of src/autodiff/rules/conv.ts against finite differences and PyTorch goldens.

import { describeFamily } from './family.ts';

describeFamily('conv');
