#!/usr/bin/env bash
# Check that the project runs on another torch / torchvision pair (Colab's, say): a throwaway
# virtual environment with that pair and the other requirements, then the unit tests, steps 4, 10
# and 12 executed by nbmake in smoke mode, and every committed .pt loaded. The pinned pair is what
# CI runs; this is by hand only: each run downloads several GB (torch's CUDA wheels).
#
#   benchmarks/check_torch.sh 2.6.0 0.21.0
#   TORCH_INDEX=https://download.pytorch.org/whl/cpu benchmarks/check_torch.sh 2.9.1 0.24.1  # CPU wheels, smaller
#
# A pair outside pyproject.toml's range that passes: widen the range there and in the README.
set -euo pipefail
if [ $# -ne 2 ]; then
    echo "usage: $0 TORCH_VERSION TORCHVISION_VERSION   (e.g. 2.6.0 0.21.0)" >&2
    exit 2
fi
torch=$1 vision=$2
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
py=$work/venv/bin/python
"$py" -m pip install -q ${TORCH_INDEX:+--index-url "$TORCH_INDEX"} "torch==$torch" "torchvision==$vision"
grep -v -E '^(torch|torchvision)==|^-e ' requirements.txt > "$work/requirements.txt"
"$py" -m pip install -q -r "$work/requirements.txt"
"$py" -m pip install -q --no-deps -e .  # the package as it is, whatever range it states
"$py" -c "import torch, torchvision; print('checking torch', torch.__version__, 'torchvision', torchvision.__version__)"
export ERA_MNIST_SMOKE=1 OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
"$py" -m pytest -p no:cacheprovider -o addopts="" -q tests
"$py" -m pytest -p no:cacheprovider -o addopts="" -q --nbmake --nbmake-timeout=600 \
    notebooks/Step04_BatchNorm.ipynb notebooks/Step10_OneCycle.ipynb notebooks/Step12_Margin.ipynb
"$py" - <<'PY'
from pathlib import Path
import torch
kept = sorted(Path("Data").rglob("*.pt"))
for path in kept:
    torch.load(path, weights_only=True, map_location="cpu")
print(f"{len(kept)} committed .pt files load")
PY
echo "torch $torch / torchvision $vision: passed"
