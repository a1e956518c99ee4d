"""Train the book's DCGAN on full MNIST or an image folder, on 1..N GPUs.

One process:          python examples/train_dcgan.py --data full
One machine, 4 GPUs:  torchrun --standalone --nproc_per_node=4 \\
                          examples/train_dcgan.py --data full
Two machines:         torchrun --nnodes=2 --nproc_per_node=8 \\
                          --rdzv_backend=c10d --rdzv_endpoint=HOST:29500 \\
                          examples/train_dcgan.py --data /path/to/images

The training code is the book's: ``ganlib.train.train`` wraps G and D in
DistributedDataParallel by itself when it runs under torchrun, each process
keeps its own shard of the data on its GPU, and rank 0 alone writes the
checkpoint (resumable: run the same command again) and the sample grid.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch
import torch.distributed as dist

from ganlib import data, device, models, train


def load_images(source: str, channels: int) -> torch.Tensor:
    """Images (N, C, 28, 28) in [-1, 1] from MNIST or an image folder."""
    if source in data.SOURCES:
        x, _ = data.load_mnist("train", source)
        return x if channels == 1 else x.expand(-1, channels, -1, -1)
    from torchvision import datasets, transforms

    folder = Path(source)
    if not folder.is_dir():
        raise FileNotFoundError(f"--data {source!r} is neither an MNIST "
                                f"source {data.SOURCES} nor a folder")
    tf = transforms.Compose([
        transforms.Grayscale() if channels == 1 else transforms.Lambda(
            lambda im: im.convert("RGB")),
        transforms.Resize(28), transforms.CenterCrop(28),
        transforms.ToTensor(), transforms.Normalize([0.5] * channels,
                                                    [0.5] * channels)])
    # an ImageFolder wants class subfolders; a flat folder is one class
    root = folder if any(p.is_dir() for p in folder.iterdir()) \
        else folder.parent
    ds = datasets.ImageFolder(str(root), transform=tf)
    return torch.stack([ds[i][0] for i in range(len(ds))])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="full",
                        help="embedded, full, auto, or an image folder")
    parser.add_argument("--channels", type=int, default=1)
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--batch-size", type=int, default=256,
                        help="global batch, split across processes")
    parser.add_argument("--out", type=Path, default=Path("runs/dcgan"))
    args = parser.parse_args()

    if "RANK" in os.environ:  # started by torchrun
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
    dev = device.get_device()
    device.seed_everything(0)  # identical initial weights on every rank
    G = models.DCGANGenerator(out_channels=args.channels)
    D = models.DCGANDiscriminator(in_channels=args.channels)
    device.seed_everything(1 + device.rank())  # own batches per rank
    x = load_images(args.data, args.channels)
    sampler = data.TensorSampler(x, device=dev)  # this rank's shard
    z = torch.randn(64, G.latent_dim, device=dev)
    snaps = train.Snapshots(z, every=max(1, args.steps // 10))
    batch = max(1, args.batch_size // device.world_size())
    train.train(G, D, sampler, steps=args.steps, batch_size=batch,
                callbacks=[snaps], checkpoint=args.out / "checkpoint.pt",
                device=dev)
    if device.rank() == 0:
        from torchvision.utils import save_image

        save_image(snaps.frames[-1], args.out / "samples.png",
                   normalize=True, value_range=(-1, 1))
        print(f"samples in {args.out / 'samples.png'}")
    if dist.is_initialized():
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
