#!/usr/bin/env bash
# Prepares the PyTorch conformance test (test/conformance/torchvision.test.ts) on CI: installs the
# Debian PyTorch stack when /usr/bin/python3 lacks it, then exports the torchvision models and their
# float64 references into conformance/.cache/ unless that cache is already complete. Run as root
# (apt-get), after `npm ci` (the export asks gradsight, through node, for each model's layers).
# Idempotent: a second run does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=/usr/bin/python3
if ! "$PY" -c 'import torch, torchvision, onnx, numpy' 2>/dev/null; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    python3-torch python3-torchvision python3-onnx python3-numpy
fi

CACHE=conformance/.cache
if [ ! -f "$CACHE/manifest.json" ]; then
  start=$(date +%s)
  "$PY" -W ignore conformance/export_models.py "$CACHE"
  echo "conformance: exported in $(($(date +%s) - start))s"
fi

# The float64 oracle for the shared-model references that disagree with autograd on the graph
# (test/methods/parity.test.ts); only when ../shared is present.
if [ -d ../shared/models ] && [ ! -f conformance/.oracle/manifest.json ]; then
  "$PY" -W ignore conformance/shared_oracle.py conformance/.oracle
fi
