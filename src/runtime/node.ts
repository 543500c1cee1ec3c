// Runtime on onnxruntime-node (CPU execution provider).

import * as ort from 'onnxruntime-node';
import { createOrtSession } from './ort-session.ts';
import type { Runtime, Session, SessionOptions } from './runtime.ts';

export const nodeRuntime: Runtime = {
  name: 'onnxruntime-node',
  profile: 'cpu',
  createSession(model: Uint8Array, options: SessionOptions = {}): Promise<Session> {
    // ORT's own log lines (warnings, and errors it then also throws) would print before gradsight's
    // typed error: only fatal ones are let through, at the environment (read once, at the first
    // session), the session and each run.
    ort.env.logLevel = 'fatal';
    return createOrtSession(ort, model, options, {
      executionProviders: ['cpu'],
      ...(options.threads !== undefined && options.threads > 0 ? { intraOpNumThreads: options.threads } : {}),
      ...(options.spinning === false
        ? { extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } } }
        : {}),
    });
  },
};
