"""Run by tests/test_distributed.py: train a tiny GAN, save what came out.

Under torchrun (2 processes, gloo) or alone; writes <out>/rank<r>.pt with
the generator's parameters and the loss history.
"""

import sys
from pathlib import Path

import torch
import torch.distributed as dist

from ganlib import data, device, models, train

out = Path(sys.argv[1])
distributed = "RANK" in __import__("os").environ
if distributed:
    dist.init_process_group("gloo")
r = device.rank()
device.seed_everything(0)  # same initial weights everywhere
G = models.MLPGenerator(2, 2, (32, 32))
D = models.MLPDiscriminator(2, (32, 32))
device.seed_everything(100 + r)  # but each process draws its own batches
x = data.ring8()(4096)
sampler = data.TensorSampler(x)
batch = 64 // device.world_size()  # the same global batch in both runs
hist = train.train(G, D, sampler, steps=30, batch_size=batch,
                   checkpoint=out / "ckpt.pt", checkpoint_every=10,
                   progress=False, device=torch.device("cpu"))
torch.save({"G": [p.detach() for p in G.parameters()],
            "loss_D": hist["loss_D"], "shard": len(sampler)},
           out / f"rank{r}.pt")
if distributed:
    dist.destroy_process_group()
