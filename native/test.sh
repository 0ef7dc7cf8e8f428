#!/usr/bin/env bash
# Builds libnexus_torch.so, exports the test models and runs test_nexus_torch.c against them.
#   native/test.sh [DEVICE [HALF [GRAPHS [CHANNELS_LAST]]]]      e.g. native/test.sh cuda:0 0 1 1
# Models are exported with EXPORT_PYTHON (default: the first of python3, /usr/bin/python3 that has torch and
# torchvision) into NEXUS_TEST_MODELS (default /tmp/nexus_torch_test). Prints PASS on success.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
models="${NEXUS_TEST_MODELS:-/tmp/nexus_torch_test}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

lib="$("$here/build.sh")"

python="${EXPORT_PYTHON:-}"
if [ -z "$python" ]; then
    for py in python3 /usr/bin/python3; do
        if command -v "$py" >/dev/null 2>&1 && "$py" -c "import torch, torchvision" 2>/dev/null; then
            python="$py"; break
        fi
    done
fi
if [ -z "$python" ]; then
    echo "test.sh: no Python with torch and torchvision to export the test models (Debian: python3-torchvision)" >&2
    exit 1
fi
"$python" "$here/export_test_models.py" "$models"

cc -O2 -Wall -std=c11 -I"$here" "$here/test_nexus_torch.c" -o "$work/test_nexus_torch" -ldl -lm
"$work/test_nexus_torch" "$lib" "$models" "$@"
