"""Does torch.compile pay on this machine? Eager against compiled training.

For two of the book's steps, a chapter-6-like DCGAN (width 64, batch 64)
and a chapter-8-like toy GAN (MLPs of 128 units on the ring, batch 512),
it trains the same networks from the same seed with ``ganlib.train.train``
twice: once eager, once with both networks wrapped in ``torch.compile``.
It prints the compile time (the first steps, where Dynamo traces and
Inductor builds its kernels), the steady-state steps/s of each, and the
wall time each would need for the number of steps a chapter trains,
compile time included, so that "adopt it only where it pays in a
chapter's wall time" is decided by printed figures.

    python benchmarks/compile_check.py --save benchmarks/compile-report.md
"""

from __future__ import annotations

import argparse
import time

import torch

from ganlib import data, device, models, train

# (name, the chapter it stands for and the steps that chapter trains it)
CASES = {
    "dcgan": ("DCGAN width 64, batch 64 (chapter 6 trains 10,000 steps)",
              10_000),
    "toy": ("MLP GAN 128 units, ring-8, batch 512 (chapter 8 trains "
            "6,000 steps)", 6_000),
}


def networks(case: str):
    device.seed_everything(0)
    if case == "dcgan":
        return (models.DCGANGenerator(64, 64), models.DCGANDiscriminator(64),
                64)
    return (models.MLPGenerator(16, 2, hidden=(128, 128)),
            models.MLPDiscriminator(2, hidden=(128, 128)), 512)


def sampler(case: str, dev):
    if case == "dcgan":
        x, _ = data.load_mnist("train", "embedded", device=dev)
        return data.TensorSampler(x)
    return data.ring8(device=dev)


def run(case: str, steps: int, compiled: bool, dev) -> tuple[float, float]:
    """Seconds for the first ``warm`` steps and steps/s after them."""
    G, D, batch = networks(case)
    if compiled:
        G, D = torch.compile(G), torch.compile(D)
    sample = sampler(case, dev)
    options = dict(batch_size=batch, progress=False, device=dev, amp=False)
    start = time.perf_counter()
    # the first steps: tracing and kernel building happen here (the G and
    # D passes, with D frozen for the G step, each compile once)
    warm = 10
    train.train(G, D, sample, steps=warm, **options)
    first = time.perf_counter() - start
    start = time.perf_counter()
    train.train(G, D, sample, steps=steps, **options)
    return first, steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200,
                        help="steps timed after the first ten (default 200)")
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES),
                        default=sorted(CASES))
    parser.add_argument("--save", metavar="FILE",
                        help="also write the report to FILE as Markdown")
    args = parser.parse_args()
    lines: list[str] = []

    def say(*text) -> None:
        print(*text, flush=True)
        lines.extend(" ".join(map(str, text)).splitlines() or [""])

    dev = device.get_device()
    say(device.describe())
    say("(both arms in float32; compiled = torch.compile of G and D, "
        "Inductor's default mode)")
    verdicts = []
    for case in args.cases:
        title, chapter_steps = CASES[case]
        say(f"\n{title}:")
        results = {}
        for compiled in (False, True):
            try:
                results[compiled] = run(case, args.steps, compiled, dev)
            except Exception as err:  # no C++ compiler, unsupported op ...
                say(f"  compiled: failed ({type(err).__name__}: "
                    f"{str(err).splitlines()[0][:120]})")
                break
        eager_first, eager_rate = results[False]
        say(f"  {'':<10}{'first 10 steps (s)':>20}{'steps/s':>10}"
            f"{'wall for the chapter (s)':>28}")
        walls = {}
        for compiled, (first, rate) in results.items():
            name = "compiled" if compiled else "eager"
            walls[compiled] = first + (chapter_steps - 10) / rate
            say(f"  {name:<10}{first:>20.1f}{rate:>10.2f}"
                f"{walls[compiled]:>28.0f}")
        if True in walls:
            gain = walls[False] / walls[True]
            pays = gain > 1.05
            verdicts.append((case, pays))
            say(f"  compiled / eager wall time for the chapter's steps: "
                f"{walls[True] / walls[False]:.2f} "
                f"({'pays' if pays else 'does not pay'}: "
                f"{gain:.2f}x)")
    say("")
    for case, pays in verdicts:
        say(f"{case}: torch.compile {'pays' if pays else 'does not pay'} "
            "in a chapter's wall time here")
    if args.save:
        with open(args.save, "w") as f:
            f.write(f"Output of `python benchmarks/compile_check.py "
                    f"--steps {args.steps}` on {device.cpu_name()}, "
                    f"{time.strftime('%Y-%m-%d')}:\n\n```\n"
                    + "\n".join(lines) + "\n```\n")


if __name__ == "__main__":
    main()
