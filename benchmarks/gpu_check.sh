#!/usr/bin/env bash
# The GPU check in one command: on a CUDA machine, the trainer benchmark
# and chapter 6 in full mode, with one report of both.
#
#   bash benchmarks/gpu_check.sh [REPORT]    (default benchmarks/gpu-report.md)
#
# PYTHON names the interpreter (default: .venv/bin/python if present, else
# python3); it needs torch with CUDA and ganlib's runtime dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${PYTHON:-}" ]; then
  PYTHON=python3
  [ -x .venv/bin/python ] && PYTHON=.venv/bin/python
fi
REPORT=${1:-benchmarks/gpu-report.md}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" TQDM_DISABLE=1
if ! "$PYTHON" -c "import torch, sys; sys.exit(not torch.cuda.is_available())"
then
  echo "gpu_check: no CUDA device here (torch.cuda.is_available() is False);" \
       "run it on a machine with an NVIDIA GPU" >&2
  exit 2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gpu=$("$PYTHON" -c "import torch; print(torch.cuda.get_device_name(0))")
"$PYTHON" benchmarks/trainer_vs_canonical.py --steps 1000 \
  --save "$tmp/trainer.md"
GANLIB_DEVICE=cuda "$PYTHON" benchmarks/book_report.py --mode full \
  --report "$tmp/chapter6.md" chapters/06_dcgan.ipynb
{
  echo "# GPU check on $gpu, $(date +%Y-%m-%d)"
  echo
  echo "Written by \`bash benchmarks/gpu_check.sh\`."
  echo
  echo "## The trainer against the canonical loop"
  echo
  cat "$tmp/trainer.md"
  echo
  echo "## Chapter 6 in full mode"
  echo
  cat "$tmp/chapter6.md"
} > "$REPORT"
echo "gpu_check: report written to $REPORT"
