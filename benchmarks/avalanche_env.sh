#!/usr/bin/env bash
# Create (once) the throwaway virtualenv in which benchmarks/torch_side.py runs Avalanche and plain PyTorch.
#
#     bash benchmarks/avalanche_env.sh [VENV_DIR]
#
# VENV_DIR defaults to $SLEEPJAX_AVALANCHE_VENV, else ~/.cache/sleepjax-bench/avalanche-venv; it must lie
# outside the repository. Running it again is a no-op once the venv imports the pinned versions. Neither
# torch nor Avalanche is a dependency of sleepjax: this script is for the speed comparison of
# benchmarks/bench_vs_avalanche.py only and refuses to run in CI (where $CI is set).
#
# What it installs, and why these versions (x86_64, CPython 3.11, pip's torch cap of this machine):
#   avalanche-lib==0.6.0   the newest Avalanche release; it requires torch AND torchvision.
#   torch==2.14.1, torchvision==0.29.1
#                          the pair pip resolves here (both wheels lie on this machine's disk). The on-disk
#                          CPU wheel torch==2.13.0+cpu cannot be used: every torchvision on PyPI links
#                          libtorch_cuda.so, fails to load its ops beside a CPU-only torch and then dies
#                          at import ("operator torchvision::nms does not exist"), and Avalanche imports
#                          torchvision unconditionally. torch 2.14.1 is a CUDA build (about 5.5 GB in the
#                          venv) that runs on the CPU with the same CPU kernels.
# Override with TORCH_SPEC / TORCHVISION_SPEC / AVALANCHE_SPEC (pip requirement strings) and PYTHON.
# The resolved set of packages is written to $VENV_DIR/pip-freeze.txt.
set -euo pipefail

if [[ -n "${CI:-}" ]]; then
    echo "avalanche_env.sh: refusing to run in CI (CI is set); Avalanche is never installed there" >&2
    exit 2
fi

REPO="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${1:-${SLEEPJAX_AVALANCHE_VENV:-$HOME/.cache/sleepjax-bench/avalanche-venv}}"
PYTHON="${PYTHON:-python3}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.14.1}"
TORCHVISION_SPEC="${TORCHVISION_SPEC:-torchvision==0.29.1}"
AVALANCHE_SPEC="${AVALANCHE_SPEC:-avalanche-lib==0.6.0}"

mkdir -p "$(dirname "$VENV")"
VENV="$(cd "$(dirname "$VENV")" && pwd)/$(basename "$VENV")"
case "$VENV/" in
    "$REPO"/*)
        echo "avalanche_env.sh: the venv must lie outside the repository, not at $VENV" >&2
        exit 2
        ;;
esac

# The check that makes the script idempotent: the venv exists and imports what was asked for.
check() {
    "$VENV/bin/python" - "$TORCH_SPEC" "$TORCHVISION_SPEC" "$AVALANCHE_SPEC" <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version

import avalanche  # noqa: F401  (imports torchvision too: the import that fails on a bad pair)
import torch

for spec, name in zip(sys.argv[1:], ["torch", "torchvision", "avalanche-lib"]):
    if "==" in spec and version(name).split("+")[0] != spec.split("==")[1]:
        sys.exit(f"{name} {version(name)} is not {spec}")
print(f"torch {torch.__version__}, torchvision {version('torchvision')}, avalanche-lib {version('avalanche-lib')}")
EOF
}

if [[ -x "$VENV/bin/python" ]] && check >/dev/null; then
    echo "avalanche venv ready at $VENV: $(check)"
    exit 0
fi

echo "creating the avalanche venv at $VENV ($TORCH_SPEC, $TORCHVISION_SPEC, $AVALANCHE_SPEC)"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
# torch first and alone, so that the resolver cannot swap in another build while solving Avalanche's deps.
"$VENV/bin/python" -m pip install --quiet "$TORCH_SPEC" "$TORCHVISION_SPEC"
"$VENV/bin/python" -m pip install --quiet "$AVALANCHE_SPEC" "$TORCH_SPEC" "$TORCHVISION_SPEC"
"$VENV/bin/python" -m pip freeze > "$VENV/pip-freeze.txt"
if ! check; then
    echo "avalanche_env.sh: the venv at $VENV was built but does not import torch + avalanche" >&2
    exit 1
fi
echo "avalanche venv ready at $VENV (package list in $VENV/pip-freeze.txt)"
