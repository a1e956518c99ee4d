"""Algorithm 1 of Goodfellow et al. (2014): k steps of D, then one step of G.

``update_D`` and ``update_G`` are the two halves of a GAN step; ``train``
is the loop around them. Device, progress bar, snapshots, checkpoints and
NaN checks hook in through explicit arguments and callbacks.
"""

from __future__ import annotations

import copy
import math
import os
from dataclasses import asdict, dataclass, field
from typing import Callable, Sequence

import torch
from torch import nn
from tqdm.auto import tqdm

from ganlib import checkpoint as ckpt
from ganlib import budgets, losses
from ganlib.device import get_device, is_distributed, rank


@dataclass
class History:
    """What a run records at every step."""

    step: list[int] = field(default_factory=list)
    loss_D: list[float] = field(default_factory=list)
    loss_G: list[float] = field(default_factory=list)
    D_real: list[float] = field(default_factory=list)  # mean D(x_real)
    D_fake: list[float] = field(default_factory=list)  # mean D(G(z))

    def append(self, step: int, loss_D: float, loss_G: float,
               D_real: float, D_fake: float) -> None:
        for name, value in zip(self._fields(), (step, loss_D, loss_G,
                                               D_real, D_fake)):
            getattr(self, name).append(value)

    @staticmethod
    def _fields() -> tuple[str, ...]:
        return ("step", "loss_D", "loss_G", "D_real", "D_fake")

    def last(self, n: int = 50) -> dict[str, float]:
        """Means over the last n recorded steps."""
        if not self.step:
            raise ValueError("the history is empty: nothing was trained yet")
        return {name: sum(getattr(self, name)[-n:]) / len(self.step[-n:])
                for name in self._fields()[1:]}


# ------------------------------------------------------------ the GAN step


def update_D(G: nn.Module, D: nn.Module, opt_D: torch.optim.Optimizer,
             loss_D: Callable, x_real: torch.Tensor, z: torch.Tensor,
             cond: Sequence[torch.Tensor] = (),
             x_fake: torch.Tensor | None = None):
    """(1) Update D: maximise log D(x) + log(1 - D(G(z))).

    ``x_fake``, if given, is G(z) already computed (see ``update_G``).
    """
    if x_fake is None:
        with torch.no_grad():  # the D step needs no gradient through G
            x_fake = G(z, *cond)
    real_out, fake_out = D(x_real, *cond), D(x_fake.detach(), *cond)
    loss = loss_D(real_out, fake_out)
    opt_D.zero_grad(set_to_none=True)
    loss.backward()
    opt_D.step()
    return (loss.detach(), torch.sigmoid(real_out).mean().detach(),
            torch.sigmoid(fake_out).mean().detach())


def update_G(G: nn.Module, D: nn.Module, opt_G: torch.optim.Optimizer,
             loss_G: Callable, z: torch.Tensor,
             cond: Sequence[torch.Tensor] = (),
             x_fake: torch.Tensor | None = None) -> torch.Tensor:
    """(2) Update G: minimise loss_G(D(G(z))), with D held fixed.

    ``x_fake``, if given, is G(z) with its graph, computed before the D
    step and passed to both halves: G then runs forward once per step
    instead of twice, with the same result (G does not change in the D
    step), as the PyTorch DCGAN tutorial does.
    """
    D.requires_grad_(False)  # gradients flow through D to G, not into D
    if x_fake is None:
        x_fake = G(z, *cond)
    loss = loss_G(D(x_fake, *cond))
    opt_G.zero_grad(set_to_none=True)
    loss.backward()
    opt_G.step()
    D.requires_grad_(True)
    return loss.detach()


# -------------------------------------------------------------- callbacks


class Callback:
    """Called as ``cb(step, G, D, history)`` after every ``every`` steps."""

    every: int = 1

    def __call__(self, step: int, G: nn.Module, D: nn.Module,
                 history: History) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict:
        """What a checkpoint keeps of this callback."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned."""


class Snapshots(Callback):
    """Sample grids from a fixed noise batch, for pictures of training."""

    def __init__(self, z: torch.Tensor, every: int = 100,
                 cond: Sequence[torch.Tensor] = ()) -> None:
        self.z, self.cond, self.every = z, tuple(cond), every
        self.steps: list[int] = []
        self.frames: list[torch.Tensor] = []

    @torch.no_grad()
    def __call__(self, step, G, D, history) -> None:
        was_training = G.training
        G.eval()
        self.frames.append(G(self.z, *self.cond).cpu())
        G.train(was_training)
        self.steps.append(step)

    def state_dict(self) -> dict:
        return {"steps": list(self.steps), "frames": list(self.frames)}

    def load_state_dict(self, state: dict) -> None:
        self.steps, self.frames = list(state["steps"]), list(state["frames"])


class EMA(Callback):
    """An exponential moving average of G's weights (``G_ema``).

    Averaging the generator over its recent past smooths out the
    oscillation of adversarial training; samples are drawn from ``G_ema``.
    """

    def __init__(self, G: nn.Module, decay: float = 0.999) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must lie in (0, 1), got {decay}")
        self.decay, self.every = decay, 1
        self.G_ema = copy.deepcopy(G).eval().requires_grad_(False)

    @torch.no_grad()
    def __call__(self, step, G, D, history) -> None:
        for p_ema, p in zip(self.G_ema.parameters(), G.parameters()):
            p_ema.lerp_(p, 1.0 - self.decay)
        for b_ema, b in zip(self.G_ema.buffers(), G.buffers()):
            b_ema.copy_(b)

    def state_dict(self) -> dict:
        return self.G_ema.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.G_ema.load_state_dict(state)


# ------------------------------------------------------------------ train


def _split_batch(batch) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
    """A real batch is x or (x, *cond); cond (e.g. labels) feeds G and D."""
    if isinstance(batch, (tuple, list)):
        return batch[0], tuple(batch[1:])
    return batch, ()


def _flush(pending: list, history: History, first_step: int) -> None:
    """Move buffered step records into the history; stop at NaN or inf."""
    if not pending:
        return
    rows = torch.stack(pending).tolist()  # one device sync per flush
    pending.clear()
    for i, (l_D, l_G, d_real, d_fake) in enumerate(rows):
        step = first_step + i + 1
        if not (math.isfinite(l_D) and math.isfinite(l_G)):
            raise FloatingPointError(
                f"training diverged at step {step}: loss_D={l_D}, "
                f"loss_G={l_G}; lower the learning rate, check the input "
                "range, or resume from the last checkpoint"
            )
        history.append(step, l_D, l_G, d_real, d_fake)


def _use_amp(device: torch.device) -> bool:
    """Default for ``train(amp=None)``: bfloat16 on capable CUDA GPUs only."""
    return device.type == "cuda" and torch.cuda.is_bf16_supported()


def train(G: nn.Module, D: nn.Module, sample_real: Callable, *,
          steps: int, batch_size: int = 64, k: int = 1,
          loss_D: Callable = losses.d_loss,
          loss_G: Callable = losses.g_loss_nonsaturating,
          opt_G: torch.optim.Optimizer | None = None,
          opt_D: torch.optim.Optimizer | None = None,
          lr: float = 2e-4, betas: tuple[float, float] = (0.5, 0.999),
          sample_z: Callable | None = None,
          step_D: Callable = update_D, step_G: Callable = update_G,
          callbacks: Sequence[Callback] = (),
          checkpoint: str | os.PathLike | None = None,
          checkpoint_every: int = 500, log_every: int = 25,
          progress: bool = True, device: torch.device | None = None,
          amp: bool | None = None, share_fake: bool = True) -> History:
    """Train G and D for ``steps`` generator steps, each after k D steps.

    ``sample_real(n)`` returns a batch x (or ``(x, y)`` for a conditional
    GAN) already on the device. With ``checkpoint`` set, the run saves
    there every ``checkpoint_every`` steps and on interruption, and a later
    call with the same path resumes where it stopped, with the same result
    as an uninterrupted run.

    Under ``torchrun`` (an initialised process group) the same call trains
    with DistributedDataParallel: gradients are averaged across processes,
    each process draws its own shard (see ``data.TensorSampler``), and only
    rank 0 shows progress and writes checkpoints.

    ``amp=True`` runs the forward passes under bfloat16 autocast (weights,
    optimiser state and losses stay float32; bfloat16 needs no gradient
    scaler). The default, ``None``, turns it on for CUDA GPUs that support
    bfloat16 and off on the CPU, so that a chapter gives the same numbers
    on every CPU; on CPUs with native bfloat16 (AVX512-BF16 or AMX) pass
    ``amp=True`` for speed (see ``benchmarks/``).

    ``share_fake=True`` (with the default ``step_D`` and ``step_G``) lets
    the G step reuse the fake batch of the last D step, graph and all (the
    ``x_fake`` argument of both halves): one G forward per step instead of
    two, the same update as Algorithm 1 except that both halves see the
    same z. ``share_fake=False`` draws fresh noise for the G step, as
    Algorithm 1 does. Custom step functions always get their own z. In
    the book's DCGAN trials the shared batch trained about 1.2x faster per
    step and left the rarest digit a little rarer: too close to chapter
    6's 5% line with the plain DCGAN, well inside it with chapter 6's
    recipe (extra layers), which uses it. Chapter 8's toy
    benchmarks pass ``share_fake=False`` so that every method, custom
    steps included, draws fresh noise for its G step.
    """
    if steps < 0 or batch_size < 1 or k < 1:
        raise ValueError(f"need steps >= 0, batch_size >= 1 and k >= 1, got "
                         f"steps={steps}, batch_size={batch_size}, k={k}")
    device = device or get_device()
    amp = _use_amp(device) if amp is None else amp
    autocast = torch.autocast(device.type, dtype=torch.bfloat16,
                              enabled=bool(amp))
    G.to(device).train()
    D.to(device).train()
    # one fused kernel per optimiser step (CUDA, and the CPU since torch 2.4)
    fused = device.type in ("cuda", "cpu")
    opt_G = opt_G or torch.optim.Adam(G.parameters(), lr=lr, betas=betas,
                                      fused=fused)
    opt_D = opt_D or torch.optim.Adam(D.parameters(), lr=lr, betas=betas,
                                      fused=fused)
    latent_dim = getattr(G, "latent_dim", None)
    if sample_z is None:
        if latent_dim is None:
            raise ValueError("G has no `latent_dim` attribute: pass "
                             "sample_z=lambda n: ... to draw its noise")
        sample_z = lambda n: torch.randn(n, latent_dim, device=device)  # noqa

    share = share_fake and step_D is update_D and step_G is update_G
    G_step, D_step = G, D  # what each half of the step trains
    if is_distributed():
        from torch.nn.parallel import DistributedDataParallel as DDP
        ids = [device.index or 0] if device.type == "cuda" else None
        # G's gradients are synchronised in the G step, D's in the D step;
        # the other network is only read there and stays unwrapped
        G_step, D_step = DDP(G, device_ids=ids), DDP(D, device_ids=ids)
    main_process = rank() == 0

    history, start = History(), 0
    parts = {"G": G, "D": D, "opt_G": opt_G, "opt_D": opt_D}
    if checkpoint is not None and os.path.exists(checkpoint):
        state = ckpt.load(checkpoint)
        for name, part in parts.items():
            ckpt.load_module(part, state[name], name, checkpoint)
        for cb, cb_state in zip(callbacks, state["callbacks"]):
            cb.load_state_dict(cb_state)
        history = History(**state["history"])
        ckpt.set_rng_state(state["rng"])
        start = state["step"]

    def save(step: int) -> None:
        if checkpoint is not None and main_process:
            ckpt.save(checkpoint, {
                "step": step, "history": asdict(history),
                "rng": ckpt.rng_state(),
                "callbacks": [cb.state_dict() for cb in callbacks],
                **{name: part.state_dict() for name, part in parts.items()},
            })

    pending: list[torch.Tensor] = []
    step = flushed = start
    bar = tqdm(total=steps, initial=start,
               disable=not (budgets.show_progress(progress)
                            and main_process),
               desc="train", unit="step")
    try:
        for step in range(start + 1, steps + 1):
            for i in range(k):  # (1) k discriminator steps
                x_real, cond = _split_batch(sample_real(batch_size))
                z = sample_z(batch_size)
                with autocast:
                    # the last D step and the G step share one G(z)
                    shared = (dict(x_fake=G_step(z, *cond))
                              if share and i == k - 1 else {})
                    l_D, d_real, d_fake = step_D(G, D_step, opt_D, loss_D,
                                                 x_real, z, cond, **shared)
            # (2) one generator step, on the labels of the last real batch
            if not share:
                z = sample_z(batch_size)  # fresh noise, as in Algorithm 1
            with autocast:
                l_G = step_G(G_step, D, opt_G, loss_G, z, cond, **shared)
            pending.append(torch.stack([l_D, l_G, d_real, d_fake]).float())
            for cb in callbacks:
                if step % cb.every == 0:
                    cb(step, G, D, history)
            if step % log_every == 0 or step == steps:
                _flush(pending, history, flushed)
                flushed = step
                bar.set_postfix(loss_D=f"{history.loss_D[-1]:.3f}",
                                loss_G=f"{history.loss_G[-1]:.3f}")
            if step % checkpoint_every == 0:
                _flush(pending, history, flushed)
                flushed = step
                save(step)
            bar.update(1)
    except KeyboardInterrupt:
        # keep what was trained: the steps completed so far are resumable
        done = flushed + len(pending)
        _flush(pending, history, flushed)
        save(done)
        raise
    finally:
        bar.close()
    save(max(step, start))
    return history
