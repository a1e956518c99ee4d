"""Smoke run of the trainer benchmark: both loops train and are compared."""

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / \
    "trainer_vs_canonical.py"


def test_trainer_benchmark_runs_both_loops(tmp_path):
    env = {**os.environ, "TQDM_DISABLE": "1"}
    report = tmp_path / "report.md"
    proc = subprocess.run([sys.executable, str(SCRIPT), "--steps", "3",
                           "--width", "8", "--workers", "0",
                           "--save", str(report)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "canonical loop" in out and "ganlib.train" in out
    assert "speed-up of ganlib.train over the canonical loop:" in out
    # one verdict per loop: the canonical one, the trainer with its
    # ingredients added one by one, and bf16 autocast where the CPU has it
    amp = "ganlib.train, amp=True" in out
    assert out.count("generator works:") == 4 + amp
    for ingredient in ("the loop itself", "fused Adam",
                       "one G forward per step", "bfloat16 autocast"):
        assert f"  {ingredient}" in out
    assert ("bfloat16 autocast: not measured" in out) != amp
    # the work of a step and its rate, beside the machine's matmul ceiling
    assert "GFLOP/step" in out and "GFLOP/s in float32" in out
    assert "ganlib.train: " in out and "of the float32 ceiling" in out
    # the saved report is the printed one, in a Markdown code block
    saved = report.read_text()
    assert saved.startswith("Output of `python benchmarks/"
                            "trainer_vs_canonical.py --steps 3` on ")
    assert out.strip() in saved and saved.rstrip().endswith("```")


def test_gpu_check_refuses_clearly_without_cuda(tmp_path):
    # CI has no GPU: the one-command GPU check must say so and write
    # nothing, not fail half way
    import pytest
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is here: run the check itself instead")
    script = SCRIPT.parent / "gpu_check.sh"
    report = tmp_path / "gpu-report.md"
    proc = subprocess.run(["bash", str(script), str(report)],
                          env={**os.environ, "PYTHON": sys.executable},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "no CUDA device here" in proc.stderr
    assert not report.exists()
