// Gradient rules of src/autodiff/rules/activations.ts against finite differences and PyTorch goldens.

import { describeFamily } from './family.ts';

describeFamily('activations');
