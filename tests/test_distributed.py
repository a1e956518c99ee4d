"""The trainer under torchrun: 2 CPU processes with gloo."""

import os
import subprocess
import sys
from pathlib import Path

import torch

WORKER = Path(__file__).with_name("ddp_worker.py")


def run(cmd, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_two_process_training_keeps_replicas_identical(tmp_path):
    ddp, single = tmp_path / "ddp", tmp_path / "single"
    ddp.mkdir()
    single.mkdir()
    run([sys.executable, "-m", "torch.distributed.run", "--standalone",
         "--nproc_per_node=2", str(WORKER), str(ddp)], tmp_path)
    run([sys.executable, str(WORKER), str(single)], tmp_path)
    r0, r1 = (torch.load(ddp / f"rank{r}.pt") for r in (0, 1))
    one = torch.load(single / "rank0.pt")
    # each process trained on its own half of the data
    assert r0["shard"] == r1["shard"] == one["shard"] // 2
    # gradients were averaged: both replicas hold the same weights
    for a, b in zip(r0["G"], r1["G"]):
        assert torch.equal(a, b)
    # and they moved from the initial weights in step with a 1-process run
    mean = lambda v: sum(v) / len(v)  # noqa: E731
    assert abs(mean(r0["loss_D"]) - mean(one["loss_D"])) < 0.1
    # the checkpoint was written once, by rank 0
    assert sorted(p.name for p in ddp.iterdir()) == ["ckpt.pt", "rank0.pt",
                                                    "rank1.pt"]
