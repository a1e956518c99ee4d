"""Smoke run of the trainer benchmark: both loops train and are compared."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / \
    "trainer_vs_canonical.py"


def test_trainer_benchmark_runs_both_loops(tmp_path):
    env = {**os.environ, "TQDM_DISABLE": "1"}
    report = tmp_path / "report.md"
    proc = subprocess.run([sys.executable, str(SCRIPT), "--steps", "3",
                           "--repeats", "2", "--width", "8", "--workers", "0",
                           "--save", str(report)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "canonical loop" in out and "ganlib.train" in out
    assert "speed-up of ganlib.train over the canonical loop:" in out
    assert "median of 2 runs" in out
    # one verdict per loop: the canonical one, the trainer with its
    # ingredients added one by one, and bf16 autocast where the CPU has it
    amp = "ganlib.train, amp=True" in out
    assert out.count("generator works:") == 4 + amp
    # each speed-up is judged against its target in words
    verdicts = re.findall(r"\(target: at least [\d.]+x on [^)]*\): "
                          r"(reached|missed)", out)
    assert len(verdicts) == 1 + amp
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
                            "trainer_vs_canonical.py --steps 3 --repeats 2` "
                            "on ")
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


def test_semisup_validation_chooses_the_lowest_validation_error(tmp_path,
                                                                 monkeypatch):
    import json

    script = SCRIPT.parent / "semisup_validation.py"
    # the script must never read the test digits: make them unloadable
    guard = tmp_path / "sitecustomize.py"
    guard.write_text(
        "from ganlib import data\n"
        "_load = data.load_mnist\n"
        "def load_mnist(split='train', *a, **k):\n"
        "    assert split != 'test', 'the validation script read test data'\n"
        "    return _load(split, *a, **k)\n"
        "data.load_mnist = load_mnist\n")
    env = {**os.environ, "TQDM_DISABLE": "1",
           "PYTHONPATH": os.pathsep.join(
               [str(tmp_path), str(SCRIPT.parents[1]),
                os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, str(script), "--small", "--steps",
                           "3", "--out", str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    saved = json.loads((tmp_path / "semisup-validation.json").read_text())
    assert len(saved["table"]) == 4 and saved["validation_labels"] == 500
    best = min(saved["table"], key=lambda row: row["val_error"])
    assert (saved["input_noise"], saved["max_shift"]) == \
        (best["input_noise"], best["max_shift"])
    report = (tmp_path / "semisup-validation.md").read_text()
    assert "chosen on validation: input noise" in report
    assert "the test digits are not used" in report


def test_mode_collapse_table_saves_after_every_method_and_resumes(tmp_path):
    import json

    script = SCRIPT.parent / "mode_collapse.py"
    out, md = tmp_path / "table.json", tmp_path / "table.md"
    env = {**os.environ, "TQDM_DISABLE": "1"}
    cmd = [sys.executable, str(script), "--steps", "2", "--json", str(out),
           "--md", str(md), "--methods"]
    first = subprocess.run(cmd + ["vanilla", "PacGAN"], env=env,
                           capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr[-3000:]
    saved = json.loads(out.read_text())
    assert set(saved["methods"]) == {"vanilla", "PacGAN"}
    assert saved["protocol"]["steps"] == 2
    assert saved["methods"]["PacGAN"]["scores"]["ring-8"]["drs"] is None
    assert saved["methods"]["vanilla"]["scores"]["grid-25"]["drs"]
    assert set(saved["chosen"]) == {"ring-8", "grid-25"}
    report = md.read_text()
    assert "vanilla + DRS" in report and "Not yet run:" in report
    # a second call keeps what was saved and runs only the rest
    second = subprocess.run(cmd + ["vanilla", "label smoothing"], env=env,
                            capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "2 of 2 methods saved" not in second.stdout
    assert "1 of 2 methods saved" in second.stdout
    again = json.loads(out.read_text())
    assert again["methods"]["vanilla"] == saved["methods"]["vanilla"]
    assert set(again["methods"]) == {"vanilla", "PacGAN", "label smoothing"}
    bad = subprocess.run(cmd + ["no such trick"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "unknown methods" in bad.stderr


def test_dcgan_tricks_trains_both_arms_and_keeps_them(tmp_path):
    import json

    script = SCRIPT.parent / "dcgan_tricks.py"
    out, md = tmp_path / "dcgan.json", tmp_path / "dcgan.md"
    env = {**os.environ, "TQDM_DISABLE": "1"}
    cmd = [sys.executable, str(script), "--steps", "2", "--n-eval", "50",
           "--json", str(out), "--md", str(md)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    saved = json.loads(out.read_text())
    assert saved["recipe"]["steps"] == 2 and len(saved["arms"]) == 2
    for arm in saved["arms"].values():
        assert set(arm["prdc"]) == {"precision", "recall", "density",
                                    "coverage"}
        assert len(arm["samples"]) == 50 or len(arm["samples"]) == 64
        assert abs(sum(arm["class_share"]) - 1) < 1e-5
    assert "+ spectral norm + label smoothing: FD" in md.read_text()
    again = subprocess.run(cmd, env=env, capture_output=True, text=True,
                           timeout=600)
    assert again.returncode == 0 and again.stdout.count(": saved") == 2


def test_the_saved_dcgan_comparison_used_chapter_6s_full_recipe():
    import dataclasses

    from ganlib import recipes, tricks

    saved = tricks.load_report("dcgan_tricks")
    full = dataclasses.asdict(recipes.dcgan_recipe("full"))
    full["betas"] = list(full["betas"])
    assert saved["recipe"] == full, (
        "ganlib/reports/dcgan_tricks.json was trained with another recipe "
        "than chapter 6's: rerun python benchmarks/dcgan_tricks.py")
    assert len(saved["arms"]) == 2
    with pytest.raises(ValueError, match="unknown report"):
        tricks.load_report("nope")
