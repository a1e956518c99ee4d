"""Time the one-dimensional GAN of chapter 5 in float32 and under
bfloat16 autocast, on this machine's CPU.

``ganlib.oned.fit`` keeps a CPU in float32 (``device.use_bf16(device,
small_model=True)``) even where AMX makes bfloat16 the default for the
larger models; this script measures whether that is right here: the same
steps of chapter 5's MLP generator (1 -> 256 -> 256 -> 1) against its
discriminator (1 -> 32 -> 32 -> 1) through ``oned.fit`` and its recorder,
one CPU thread as in the chapter, in each precision (``GANLIB_AMP`` 0
and 1), alternating, best of the repeats. It prints the table
and writes ``benchmarks/oned-precision.md``.

    python benchmarks/oned_precision.py
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import torch

from ganlib import data, device, oned
from ganlib.models import MLPDiscriminator, MLPGenerator

HERE = Path(__file__).resolve().parent


def seconds(amp: bool, steps: int) -> float:
    """Wall time of ``oned.fit`` on chapter 5's MLP GAN and two modes
    (recorder included, as in the chapter), ``GANLIB_AMP`` set to
    ``amp``."""
    os.environ["GANLIB_AMP"] = "1" if amp else "0"
    torch.manual_seed(0)
    target = data.mixture_1d([-1.0, 4.0], [0.5, 0.5])
    G = MLPGenerator(latent_dim=1, out_dim=1, hidden=(256, 256))
    D = MLPDiscriminator(in_dim=1, hidden=(32, 32))
    start = time.perf_counter()
    oned.fit(G, D, target, steps=steps, every=50, device=torch.device("cpu"))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "oned-precision.md")
    args = parser.parse_args()
    if args.steps < 1 or args.repeats < 1:
        parser.error("--steps and --repeats must be at least 1")
    torch.set_num_threads(1)  # as chapter 5
    # what oned.fit picks under the caller's setting, before the runs
    # below force GANLIB_AMP one way and the other
    precision = device.precision(torch.device("cpu"), small_model=True)
    times: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(args.repeats):
        for amp in (False, True):
            times[amp].append(seconds(amp, args.steps))
    fp32, bf16 = min(times[False]), min(times[True])
    amx = torch.cpu._is_amx_tile_supported()
    lines = [
        f"Output of `python benchmarks/oned_precision.py` on "
        f"{device.cpu_name()} (AMX: {'yes' if amx else 'no'}), torch "
        f"{torch.__version__}, 1 CPU thread, {time.strftime('%Y-%m-%d')}.",
        "",
        f"Chapter 5's MLP GAN, {args.steps} steps, best of {args.repeats}:",
        "",
        "| precision | seconds | steps/s |",
        "| --- | --- | --- |",
        f"| float32 | {fp32:.2f} | {args.steps / fp32:.0f} |",
        f"| bfloat16 autocast | {bf16:.2f} | {args.steps / bf16:.0f} |",
        "",
        f"bfloat16 takes {bf16 / fp32:.2f}x the float32 time here; "
        f"oned.fit runs in {precision} on this CPU.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
