#!/usr/bin/env bash
# Prepares the PyTorch conformance test (test/conformance/torchvision.test.ts) on CI: installs the
# Debian PyTorch stack when /usr/bin/python3 lacks it, then exports the torchvision models and their
# float64 references into conformance/.cache/ unless that cache is complete and was made with the
# export script's current settings (sizes, architectures, dynamic axes, version: its SETTINGS). Run
# as root (apt-get), after `npm ci` (the export asks gradsight, through node, for each model's
# layers). Idempotent: a second run does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=/usr/bin/python3
if ! "$PY" -c 'import torch, torchvision, onnx, numpy' 2>/dev/null; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    python3-torch python3-torchvision python3-onnx python3-numpy
fi

CACHE=conformance/.cache
if ! "$PY" -W ignore conformance/export_models.py --is-current "$CACHE"; then
  # The stale index goes first (it must not outlive a failed re-export); models whose own settings
  # are current are kept by the script, the others re-exported.
  rm -f "$CACHE/manifest.json"
  start=$(date +%s)
  # PyTorch runs the export on one thread here: two parts of about equal cost at once (export_models.py
  # COST; each model has its own folder and manifest), then a pass over all of them that finds each
  # current and writes the index.
  "$PY" -W ignore conformance/export_models.py "$CACHE" --part 0/2 &
  first=$!
  "$PY" -W ignore conformance/export_models.py "$CACHE" --part 1/2 &
  second=$!
  wait "$first"
  wait "$second"
  "$PY" -W ignore conformance/export_models.py "$CACHE"
  echo "conformance: exported in $(($(date +%s) - start))s"
fi

# The float64 oracle for the shared-model references that disagree with autograd on the graph
# (test/methods/parity.test.ts); only when ../shared is present.
if [ -d ../shared/models ] && [ ! -f conformance/.oracle/manifest.json ]; then
  "$PY" -W ignore conformance/shared_oracle.py conformance/.oracle
fi

# torchvision ViT-B/16 and Swin-T (seeded) for the layer-view parity test
# (test/methods/transformer-parity.test.ts); only when ../shared holds their references.
if [ -d ../shared/reference/transformers ] && [ ! -f conformance/.cache-transformers/manifest.json ]; then
  "$PY" -W ignore conformance/export_transformers.py conformance/.cache-transformers
fi
