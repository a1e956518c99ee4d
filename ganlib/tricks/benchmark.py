"""The mode-collapse benchmark, method by method: the list of methods,
the models, optimizers and ``train`` arguments of each, and samples of
the trained toy generators."""

from __future__ import annotations

import json
import time
from importlib import resources
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch

from ganlib import device as _device, losses, modes, train
from ganlib.data import GaussianMixture
from ganlib.tricks.callbacks import LRDecay, SwapDiscriminators
from ganlib.tricks.losses import d_loss_one_sided, d_loss_wgan, g_loss_wgan
from ganlib.tricks.noise import AnnealNoise, InstanceNoise
from ganlib.tricks.rejection import toy_rejection_samples
from ganlib.tricks.steps import FeatureMatchingStep, UnrolledStep, WGANGPStep
from ganlib.tricks.toys import (BatchedSampler, ToyDiscriminator,
                                ToyGenerator, _as_targets)


METHODS = ("vanilla", "non-saturating", "label smoothing", "instance noise",
           "feature matching", "minibatch discrimination", "unrolled",
           "GAP", "WGAN-GP", "spectral norm", "PacGAN")


def build_toy(method: str,
              target: GaussianMixture | Sequence[GaussianMixture],
              n_seeds: int,
              steps: int, latent_dim: int = 16, hidden: Sequence[int] = (64,
              64), lr: float = 2e-3, n_pairs: int = 4, pack: int = 4,
              unroll: int = 5, device=None) -> dict:
    """Models, optimizers and ``train`` arguments of one method.

    Every method but the vanilla GAN starts from the non-saturating loss
    and changes one thing. ``n_seeds`` independent runs train at once;
    GAP trains ``n_pairs`` pairs per seed. ``target`` may be a sequence of
    benchmarks: then ``n_seeds`` runs of each train at once, benchmark by
    benchmark (``toy_samples`` returns the first benchmark's seeds first),
    for about the price of one when the models are tiny. Returns a dict
    with ``G``, ``D``, ``n_per_seed`` (models per seed) and ``kwargs`` for
    :func:`ganlib.train.train`.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of "
                         f"{METHODS}")
    targets = _as_targets(target)
    dim = targets[0].dim
    device = device or targets[0].device
    n_per_seed = n_pairs if method == "GAP" else 1
    n_groups = len(targets) * n_seeds  # independent runs
    M = n_groups * n_per_seed
    sample_real = BatchedSampler(targets, M)
    G = ToyGenerator(M, latent_dim, hidden, dim).to(device)
    D = ToyDiscriminator(
        M, dim, hidden, pack=pack if method == "PacGAN" else 1,
        # 8 kernels of 4 numbers: the layer's cost grows with B^2 K C, and
        # points in the plane need no more
        minibatch_kernels=8 if method == "minibatch discrimination" else 0,
        spectral_norm=method == "spectral norm").to(device)
    # share_fake=False: every method draws fresh noise for its G step, as
    # Algorithm 1 does; the custom steps of feature matching, unrolling and
    # WGAN-GP always do, so the table compares all methods on one protocol
    kwargs: dict = dict(loss_D=losses.d_loss,
                        loss_G=losses.g_loss_nonsaturating, k=1,
                        share_fake=False)
    betas, callbacks = (0.5, 0.999), []
    if method == "vanilla":
        kwargs["loss_G"] = losses.g_loss_minimax
    elif method == "label smoothing":
        kwargs["loss_D"] = d_loss_one_sided
    elif method == "instance noise":
        # std 0.2 (4 grid std) annealed to 0 over the whole run
        D = InstanceNoise(D, sigma=0.2)
        callbacks.append(AnnealNoise(0.2, steps))
    elif method == "feature matching":
        kwargs["step_G"] = FeatureMatchingStep(sample_real)
    elif method == "unrolled":
        kwargs["step_G"] = UnrolledStep(sample_real, k=unroll, lr=0.05)
    elif method == "WGAN-GP":
        kwargs.update(loss_D=d_loss_wgan, loss_G=g_loss_wgan, k=5,
                      step_D=WGANGPStep(lam=10.0))
        betas, lr = (0.5, 0.9), lr / 2
    opt_G = torch.optim.Adam(G.parameters(), lr=lr, betas=betas)
    opt_D = torch.optim.Adam(D.parameters(), lr=lr, betas=betas)
    if method == "GAP":
        callbacks.append(SwapDiscriminators(D, opt_D, n_groups, n_pairs))
    callbacks.append(LRDecay([opt_G, opt_D], steps))
    z_shape = (M, latent_dim)
    kwargs.update(
        opt_G=opt_G, opt_D=opt_D, callbacks=callbacks, steps=steps,
        sample_z=lambda n: torch.randn(z_shape[0], n, z_shape[1],
                                       device=device))
    return dict(G=G, D=D, sample_real=sample_real, n_per_seed=n_per_seed,
                kwargs=kwargs)


@torch.no_grad()
def toy_samples(G: ToyGenerator, n: int, n_per_seed: int = 1
                ) -> torch.Tensor:
    """n samples of the first generator of each seed: (n_seeds, n, 2)
    (all seeds of each benchmark, benchmark by benchmark)."""
    z = torch.randn(G.n_models, n, G.latent_dim,
                    device=next(G.parameters()).device)
    return G(z)[::n_per_seed].cpu()


@dataclass(frozen=True)
class Protocol:
    """One budget for every method of the mode-collapse table.

    The same steps, widths, batch, learning-rate schedule (linear decay
    to 0) and seeds for all methods, vanilla included; ``seed`` seeds the
    stacked initialisation of the ``seeds`` runs. ``benchmarks/
    mode_collapse.py`` runs the whole table with it; chapter 8 re-runs
    two methods at the same budget on fresh seeds.
    """

    steps: int = 4000
    batch: int = 256
    hidden: tuple[int, ...] = (128, 128)
    latent_dim: int = 16
    lr: float = 2e-3
    seeds: int = 3
    seed: int = 0
    n_eval: int = 2500
    drs_quantile: float = 0.95


PROTOCOL = Protocol()
# methods whose discriminator scores each sample on its own with a
# logistic loss, so that its logit estimates the log density ratio that
# rejection sampling needs (not packed, minibatch or WGAN critics)
DRS_METHODS = tuple(m for m in METHODS if m not in (
    "minibatch discrimination", "PacGAN", "WGAN-GP"))
GOALS = {"ring-8": (8, 0.90), "grid-25": (24, 0.80)}  # modes, HQ share


def run_method(method: str, targets: dict[str, GaussianMixture],
               protocol: Protocol = PROTOCOL, device=None,
               configure: Callable[[dict], None] | None = None) -> dict:
    """Train ``protocol.seeds`` runs of ``method`` on every benchmark of
    ``targets`` at once and score them.

    ``configure(run)``, if given, may change the built run (the dict of
    :func:`build_toy`) before training: chapter 8 swaps in the tricks its
    cells define.

    Returns ``{"seconds": s, "scores": {benchmark: {"plain": [ModeScore
    per seed], "drs": [...] or None}}, "samples": {benchmark: {"plain":
    (seeds, n, 2), "drs": ... or None}}, "kept": {benchmark: [share of
    draws DRS kept per seed]}, "run": the trained run of
    :func:`build_toy`}``.
    """
    names = list(targets)
    _device.seed_everything(protocol.seed)
    run = build_toy(method, [targets[n] for n in names], protocol.seeds,
                    protocol.steps, latent_dim=protocol.latent_dim,
                    hidden=protocol.hidden, lr=protocol.lr, device=device)
    if configure is not None:
        configure(run)
    t0 = time.perf_counter()
    train.train(run["G"], run["D"], run["sample_real"],
                batch_size=protocol.batch, progress=False, device=device,
                **run["kwargs"])
    seconds = time.perf_counter() - t0
    S = protocol.seeds
    out: dict = {"seconds": seconds, "scores": {}, "samples": {},
                 "kept": {}, "run": run}
    plain = toy_samples(run["G"], protocol.n_eval, run["n_per_seed"])
    drs, kept = None, None
    if method in DRS_METHODS:
        drs, kept = toy_rejection_samples(
            run["G"], run["D"], protocol.n_eval, run["n_per_seed"],
            protocol.drs_quantile)
    for i, name in enumerate(names):
        part = slice(i * S, (i + 1) * S)
        out["samples"][name] = {"plain": plain[part],
                                "drs": None if drs is None else drs[part]}
        out["scores"][name] = {
            how: None if x is None else [
                modes.mode_score(xs, targets[name]) for xs in x[part]]
            for how, x in (("plain", plain), ("drs", drs))}
        out["kept"][name] = None if kept is None else kept[part]
    return out


def rank_key(modes_mean: float, hq_mean: float, need: int
             ) -> tuple[float, float]:
    """The table's rule: most modes on average, counting at most ``need``
    (every row that reaches the target's mode count ties), then the
    highest high-quality share."""
    return min(modes_mean, need), hq_mean


def table_rows(report: dict):
    """(method, sampling, {benchmark: [score dicts per seed]}) for every
    row of a saved table (:func:`load_report`), in the order of METHODS."""
    for method in METHODS:
        entry = report["methods"].get(method)
        if entry is None:
            continue
        for how in ("plain", "drs"):
            if entry["scores"][next(iter(entry["scores"]))][how] is None:
                continue
            yield method, how, {b: entry["scores"][b][how]
                                for b in entry["scores"]}


def format_table(report: dict) -> list[str]:
    """The saved table as text: mean ± std over seeds of modes, HQ % and
    reverse KL per benchmark, one line per row."""
    names = list(GOALS)
    head = f"{'method':>34} |" + "|".join(
        f" {n + ' modes':>15} {'HQ %':>12} {'KL':>11} " for n in names)
    lines = [head, "-" * len(head)]
    for method, how, scores in table_rows(report):
        label = method + (" + DRS" if how == "drs" else "")
        cells = []
        for n in names:
            s = scores[n]
            m = np.array([r["modes"] for r in s], float)
            hq = 100 * np.array([r["high_quality"] for r in s])
            kl = np.array([r["kl"] for r in s])
            cells.append(f" {m.mean():7.1f} ± {m.std():5.1f} "
                         f"{hq.mean():5.1f} ± {hq.std():4.1f} "
                         f"{kl.mean():4.2f} ± {kl.std():4.2f} ")
        lines.append(f"{label:>34} |" + "|".join(cells))
    return lines


REPORTS = {"mode_collapse": "benchmarks/mode_collapse.py",
           "dcgan_tricks": "benchmarks/dcgan_tricks.py"}


def load_report(name: str = "mode_collapse") -> dict:
    """A saved benchmark report, shipped with ganlib so that chapter 8
    reads it on Colab too: ``"mode_collapse"`` (the table of
    ``benchmarks/mode_collapse.py``) or ``"dcgan_tricks"``
    (``benchmarks/dcgan_tricks.py``)."""
    if name not in REPORTS:
        raise ValueError(f"unknown report {name!r}; choose one of "
                         f"{sorted(REPORTS)}")
    path = resources.files("ganlib") / "reports" / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"no saved {name} report in ganlib/reports; run python "
            f"{REPORTS[name]} from the book's repository")
    return json.loads(path.read_text())
