// LSTM and GRU, differentiated through the recurrent lowering (src/autodiff/lower-recurrent.ts), against
// finite differences and float64 PyTorch goldens (conformance/op_goldens.py, whose ONNX-semantics loop
// it checks against torch.nn.LSTM / nn.GRU first). The forward output compared with the golden is
// ONNX Runtime's own LSTM / GRU op.

import { describeFamily } from './family.ts';

describeFamily('recurrent');
