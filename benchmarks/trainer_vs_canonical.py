"""ganlib's trainer against the canonical PyTorch DCGAN loop, in one run.

Both train the same DCGAN (ganlib.models, same widths), with the same batch
size, optimiser and number of steps, on the embedded MNIST digits:

* canonical: the loop of the PyTorch DCGAN tutorial, i.e. a DataLoader over
  a dataset that converts each image with torchvision transforms, a
  sigmoid + BCELoss discriminator, host-to-device copies and ``.item()``
  calls every step;
* ganlib: ``ganlib.train.train`` with its defaults: batches drawn on the
  device, losses on logits, D frozen during the G step, no per-step host
  sync, fused Adam, and one G forward per step (the G step reuses the D
  step's fake batch).

To show what each ingredient contributes it also times the trainer with
them added one at a time, all in float32: the plain loop (Algorithm 1's
two halves, fresh noise for the G step, for-loop Adam), then fused Adam,
then the shared fake batch (the defaults); and, on a device with native
bfloat16 (AVX512-BF16 or AMX on a CPU, or a GPU), ``train(amp=True)``,
which is the default on GPUs and AMX CPUs. It prints steps/s of each,
their ratios, and checks that the generators work: their samples are far
closer to real digits, in the Frechet distance of the book's classifier,
than an untrained generator's.

    python benchmarks/trainer_vs_canonical.py --steps 300
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

from ganlib import classifier, data, device, metrics, models, train


class MNISTImages(Dataset):
    """MNIST digits served as PIL images, as torchvision's MNIST does."""

    def __init__(self, images: np.ndarray, transform) -> None:
        self.images, self.transform = images, transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i):
        img = Image.fromarray(self.images[i].reshape(28, 28), mode="L")
        return self.transform(img), 0


def canonical_loop(G, D, steps, batch_size, latent_dim, dev, workers):
    """The PyTorch DCGAN tutorial's loop, step for step."""
    images = ((data.load_mnist("train", "embedded")[0] + 1) * 127.5)
    images = images.round().byte().reshape(-1, 784).numpy()
    tf = transforms.Compose([transforms.ToTensor(),
                             transforms.Normalize((0.5,), (0.5,))])
    loader = DataLoader(MNISTImages(images, tf), batch_size=batch_size,
                        shuffle=True, drop_last=True, num_workers=workers)
    netD = nn.Sequential(D, nn.Sigmoid()).to(dev)  # D outputs probabilities
    netG = G.to(dev)
    criterion = nn.BCELoss()
    optD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    step = 0
    while step < steps:
        for real_cpu, _ in loader:
            # (1) Update D: maximize log(D(x)) + log(1 - D(G(z)))
            netD.zero_grad()
            real = real_cpu.to(dev)
            b = real.size(0)
            label = torch.full((b,), 1.0, device=dev)
            output = netD(real).view(-1)
            errD_real = criterion(output, label)
            errD_real.backward()
            D_x = output.mean().item()
            noise = torch.randn(b, latent_dim, device=dev)
            fake = netG(noise)
            label.fill_(0.0)
            output = netD(fake.detach()).view(-1)
            errD_fake = criterion(output, label)
            errD_fake.backward()
            D_G_z1 = output.mean().item()
            errD = errD_real + errD_fake
            optD.step()
            # (2) Update G: maximize log(D(G(z)))
            netG.zero_grad()
            label.fill_(1.0)
            output = netD(fake).view(-1)
            errG = criterion(output, label)
            errG.backward()
            D_G_z2 = output.mean().item()
            optG.step()
            _ = (errD.item(), errG.item(), D_x, D_G_z1, D_G_z2)
            step += 1
            if step == steps:
                break


def ganlib_loop(G, D, steps, batch_size, dev, fused=None, **options):
    """``train.train`` with its defaults, or with ``options`` changed;
    ``fused=False`` passes for-loop Adam optimisers."""
    x, _ = data.load_mnist("train", "embedded", device=dev)
    if fused is not None:
        for name, net in (("opt_G", G), ("opt_D", D)):
            options[name] = torch.optim.Adam(net.to(dev).parameters(),
                                             lr=2e-4, betas=(0.5, 0.999),
                                             fused=fused)
    train.train(G, D, data.TensorSampler(x), steps=steps,
                batch_size=batch_size, progress=False, device=dev, **options)


def step_flops(fn, *args, **kwargs) -> int:
    """Floating-point operations of ``fn(*args)`` (torch.utils.flop_counter:
    matrix products and convolutions, forward and backward)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn(*args, **kwargs)
    return counter.get_total_flops()


def matmul_gflops(dev: torch.device, dtype: torch.dtype, n: int = 2048,
                  reps: int = 10) -> float:
    """This device's rate on an n x n matrix product: the ceiling a
    training step of convolutions and products can approach."""
    a = torch.randn(n, n, device=dev, dtype=dtype)
    b = torch.randn(n, n, device=dev, dtype=dtype)
    a @ b  # warm up
    if dev.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    if dev.type == "cuda":
        torch.cuda.synchronize()
    return 2 * n ** 3 * reps / (time.perf_counter() - start) / 1e9


def timed(fn, *args, **kwargs) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--latent-dim", type=int, default=64)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed runs of each loop, taking turns; the "
                        "median counts (default 3)")
    parser.add_argument("--workers", type=int, default=2,
                        help="DataLoader workers of the canonical loop")
    parser.add_argument("--save", metavar="FILE",
                        help="also write the report to FILE as Markdown "
                        "(the book includes benchmarks/trainer-report.md)")
    args = parser.parse_args()
    lines: list[str] = []

    def say(*text) -> None:
        print(*text)
        lines.extend(" ".join(map(str, text)).splitlines() or [""])

    dev = device.get_device()
    say(device.describe())

    def pair():
        device.seed_everything(0)
        return (models.DCGANGenerator(args.latent_dim, args.width),
                models.DCGANDiscriminator(args.width))

    # the trainer with its ingredients added one at a time; the third
    # variant, "ganlib.train", is the trainer's defaults
    # (in float32, whatever the default precision here, so that the rows
    # compare like with like; bfloat16 autocast comes last, where the
    # device has it natively)
    variants = [
        ("plain ganlib loop", "the loop itself (data on the device, no "
         "workers, no per-step syncs)",
         dict(share_fake=False, fused=False, amp=False)),
        ("+ fused Adam", "fused Adam", dict(share_fake=False, amp=False)),
        ("ganlib.train", "one G forward per step (shared fake batch)",
         dict(amp=False)),
    ]
    if device.native_bf16(dev):
        variants.append(("ganlib.train, amp=True", "bfloat16 autocast",
                         dict(amp=True)))

    # warm up every path once (allocator, thread pools, worker start-up)
    warm = max(5, args.steps // 20)
    canonical_loop(*pair(), warm, args.batch_size, args.latent_dim, dev,
                   args.workers)
    for _, _, options in variants:
        ganlib_loop(*pair(), warm, args.batch_size, dev, **options)

    # each loop trains --repeats times, the loops taking turns, so that a
    # slow spell of a shared machine falls on all of them; the median time
    # counts (the generator of the last repeat is scored)
    times: dict[str, list[float]] = {}
    for _ in range(args.repeats):
        G_c, D_c = pair()
        times.setdefault("canonical loop", []).append(
            timed(canonical_loop, G_c, D_c, args.steps, args.batch_size,
                  args.latent_dim, dev, args.workers))
        runs = [("canonical loop", G_c)]
        for name, _, options in variants:
            G_v, D_v = pair()
            times.setdefault(name, []).append(
                timed(ganlib_loop, G_v, D_v, args.steps, args.batch_size,
                      dev, **options))
            runs.append((name, G_v))
    runs = [(name, G, float(np.median(times[name]))) for name, G in runs]

    clf = classifier.load_classifier(source="embedded", device=dev,
                                     verbose=False)
    x_test, _ = data.load_mnist("test", "embedded", device=dev)
    z = torch.randn(1000, args.latent_dim, device=dev)

    def fd(G) -> float:
        G.eval()
        with torch.no_grad():
            return metrics.classifier_fd(clf, G(z), x_test)

    fd_untrained = fd(pair()[0])
    rows = [(name, args.steps / t, fd(G)) for name, G, t in runs]
    # the work of one step of each loop, counted once (one G forward per
    # step in the canonical loop and with the shared fake batch, two
    # without it)
    flops = [step_flops(canonical_loop, *pair(), 1, args.batch_size,
                        args.latent_dim, dev, 0)]
    flops += [step_flops(ganlib_loop, *pair(), 1, args.batch_size, dev,
                         **options) for _, _, options in variants]
    say(f"\nDCGAN width {args.width}, batch {args.batch_size}, "
        f"{args.steps} steps each, Adam(2e-4, 0.5); median of "
        f"{args.repeats} runs, the loops taking turns:")
    say(f"{'loop':<24}{'steps/s':>10}{'GFLOP/step':>12}{'GFLOP/s':>10}"
        f"{'FD to test digits':>20}")
    for (name, speed, dist), n_flops in zip(rows, flops):
        say(f"{name:<24}{speed:>10.2f}{n_flops / 1e9:>12.2f}"
            f"{speed * n_flops / 1e9:>10.1f}{dist:>20.1f}")
    ceilings = {"float32": matmul_gflops(dev, torch.float32)}
    if device.native_bf16(dev):
        ceilings["bfloat16"] = matmul_gflops(dev, torch.bfloat16)
    say("\nthe ceiling: a 2048 x 2048 matrix product here runs at " +
        ", ".join(f"{rate:.0f} GFLOP/s in {name}"
                  for name, rate in ceilings.items()))
    for (name, speed, _), n_flops, (_, _, options) in zip(
            rows[1:], flops[1:], variants):
        precision = "bfloat16" if options["amp"] else "float32"
        if precision in ceilings:
            say(f"  {name}: {speed * n_flops / 1e9 / ceilings[precision]:.0%}"
                f" of the {precision} ceiling")
    # the targets: on a CPU, 1.3x in float32 and 2x under bfloat16
    # autocast where the CPU has it natively; on a GPU, 3x
    targets = ({"ganlib.train": 3.0, "ganlib.train, amp=True": 3.0}
               if dev.type == "cuda" else
               {"ganlib.train": 1.3, "ganlib.train, amp=True": 2.0})
    speed = {name: value for name, value, _ in rows}
    default = "ganlib.train, amp=True" if train._use_amp(dev) else \
        "ganlib.train"
    for name, target in targets.items():
        if name in speed:
            ratio = speed[name] / speed["canonical loop"]
            say(f"\nspeed-up of {name} over the canonical loop: "
                f"{ratio:.2f}x (target: at least {target}x on "
                f"{'a GPU' if dev.type == 'cuda' else '2 CPU cores'}): "
                f"{'reached' if ratio >= target else 'missed'}"
                + (" [the default precision here]" if name == default
                   else ""))
    say("\nwhat each ingredient contributes (ratio to the row above):")
    for (_, before, _), (name, after, _), (_, what, _) in zip(
            rows, rows[1:], variants):
        say(f"  {what}: {after / before:.2f}x")
    if "ganlib.train, amp=True" not in speed:
        say("  bfloat16 autocast: not measured, no native bfloat16 on this "
            "device")
    say(f"untrained generator: FD {fd_untrained:.1f}; a working generator "
        "is far below that")
    for name, _, dist in rows:
        ok = dist < 0.5 * fd_untrained
        say(f"{name}: generator works: {'yes' if ok else 'no'}")
    if args.save:
        with open(args.save, "w") as f:
            f.write(f"Output of `python benchmarks/trainer_vs_canonical.py "
                    f"--steps {args.steps} --repeats {args.repeats}` on "
                    f"{device.cpu_name()}, "
                    f"{time.strftime('%Y-%m-%d')}:\n\n```\n"
                    + "\n".join(lines) + "\n```\n")


if __name__ == "__main__":
    main()
