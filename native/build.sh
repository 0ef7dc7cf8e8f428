#!/usr/bin/env bash
# Builds libnexus_torch.so (the C ABI of nexus_torch.h over libtorch) and prints the path it wrote.
#   native/build.sh [--out PATH]
# libtorch is found by itself: Debian's libtorch-dev, or the `torch` of a Python (LIBTORCH_PYTHON, python3,
# /usr/bin/python3). CUDA support is compiled in when that torch has CUDA and the CUDA headers are found.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/build/libnexus_torch.so"
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out="$2"; shift 2 ;;
        --out=*) out="${1#--out=}"; shift ;;
        -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
        *) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
mkdir -p "$(dirname "$out")"
out="$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"

# Prints "dir<TAB>cxx11_abi<TAB>cuda_version_or_None<TAB>version" for the torch a Python imports.
torch_info() {
    "$1" - <<'EOF' 2>/dev/null
import os, torch
print("\t".join([os.path.dirname(torch.__file__), str(int(torch.compiled_with_cxx11_abi())),
                 str(torch.version.cuda), torch.__version__]))
EOF
}

python_info=""
python_used=""
if [ -n "${LIBTORCH_PYTHON:-}" ]; then
    candidates=("$LIBTORCH_PYTHON")
else
    candidates=(python3 /usr/bin/python3)
fi
for py in "${candidates[@]}"; do
    if command -v "$py" >/dev/null 2>&1 && info="$(torch_info "$py")" && [ -n "$info" ]; then
        python_info="$info"; python_used="$py"; break
    fi
done
if [ -n "${LIBTORCH_PYTHON:-}" ] && [ -z "$python_info" ]; then
    echo "build.sh: LIBTORCH_PYTHON=$LIBTORCH_PYTHON cannot import torch" >&2
    exit 1
fi

torch_dir=""; abi=""; torch_cuda=""; torch_version=""
if [ -n "$python_info" ]; then
    IFS=$'\t' read -r torch_dir abi torch_cuda torch_version <<<"$python_info"
fi

# Debian's python3-torch is the libtorch-dev build: use its system layout unless LIBTORCH_PYTHON asks otherwise.
use_debian=0
if [ -f /usr/include/torch/script.h ] && [ -z "${LIBTORCH_PYTHON:-}" ]; then
    case "$torch_dir" in
        ""|/usr/lib/python3/dist-packages/*) use_debian=1 ;;
    esac
fi

cxxflags=(-O2 -std=c++17 -fPIC -shared -Wall -Wno-unused-parameter)
ldflags=()
if [ "$use_debian" = 1 ]; then
    echo "build.sh: using Debian libtorch-dev (/usr/include, $(dpkg-query -W -f='${Version}' libtorch-dev 2>/dev/null || echo 'version unknown'))" >&2
    cxxflags+=(-I/usr/include/torch/csrc/api/include)
    ldflags+=(-ltorch -ltorch_cpu -lc10)
elif [ -n "$torch_dir" ] && [ -f "$torch_dir/include/torch/script.h" ]; then
    echo "build.sh: using PyTorch $torch_version from $torch_dir (via $python_used)" >&2
    cxxflags+=(-isystem "$torch_dir/include" -isystem "$torch_dir/include/torch/csrc/api/include" -D_GLIBCXX_USE_CXX11_ABI="$abi")
    ldflags+=(-L"$torch_dir/lib" -Wl,-rpath,"$torch_dir/lib" -ltorch -ltorch_cpu -lc10)
    if [ "$torch_cuda" != "None" ]; then
        # CUDA headers: a toolkit (CUDA_HOME, nvcc's, /usr/local/cuda), else the pip wheels next to torch
        # (nvidia/cu13/include for CUDA 13, nvidia/cuda_runtime/include for CUDA 12). c10's CUDA headers include
        # cuda_runtime.h, which needs crt/host_config.h: torch's own wheels lack it (pip nvidia-cuda-crt has it).
        nvcc_include=""
        if command -v nvcc >/dev/null 2>&1; then nvcc_include="$(dirname "$(command -v nvcc)")/../include"; fi
        cuda_includes=()
        for dir in "${CUDA_HOME:-/nonexistent}/include" "$nvcc_include" /usr/local/cuda/include "$torch_dir"/../nvidia/*/include; do
            if [ -f "$dir/cuda_runtime_api.h" ] && [ -f "$dir/crt/host_config.h" ]; then
                cuda_includes+=(-isystem "$(cd "$dir" && pwd)"); break
            fi
        done
        if [ ${#cuda_includes[@]} -gt 0 ]; then
            echo "build.sh: CUDA $torch_cuda enabled (headers ${cuda_includes[1]})" >&2
            cxxflags+=(-DNEXUS_WITH_CUDA "${cuda_includes[@]}")
            # no-as-needed: libtorch_cuda must load (it registers CUDA) even where no symbol of it is used. The
            # cuda* runtime calls resolve through its libcudart, which pip ships without an unversioned .so.
            ldflags+=(-Wl,--push-state,--no-as-needed -ltorch_cuda -lc10_cuda -Wl,--pop-state)
        else
            echo "build.sh: warning: torch has CUDA $torch_cuda but no CUDA headers (cuda_runtime_api.h with crt/host_config.h) were found; set CUDA_HOME to a CUDA toolkit or pip install nvidia-cuda-crt; building CPU-only" >&2
        fi
    fi
else
    echo "build.sh: libtorch not found: install libtorch-dev (Debian) or PyTorch (pip)" >&2
    exit 1
fi

g++ "${cxxflags[@]}" -I"$here" "$here/nexus_torch.cpp" -o "$out" "${ldflags[@]}"
echo "$out"
