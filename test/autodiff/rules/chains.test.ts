// Gradient rules of src/autodiff/rules/chains.ts against finite differences and PyTorch goldens.

import { describeFamily } from './family.ts';

describeFamily('chains');
