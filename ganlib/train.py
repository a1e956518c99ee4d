"""One training loop for every model of the book.

A model's update is a *step*: a small object that owns its networks and
optimisers and, called with no argument, draws its batch, updates every
network once and returns its logs (a dict of scalar tensors). :func:`fit`
is the loop around any step: progress bar, NaN stop, checkpoints that
resume bit for bit, and callbacks. :class:`GANStep` is Algorithm 1 of
Goodfellow et al. (2014), k steps of D then one step of G, built from the
two halves :func:`update_D` and :func:`update_G`; :func:`train` trains a
GAN through it. The other models' steps live with their models
(``autoencoders.AutoencoderStep``, ``bigan.BiGANStep``, ...).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import inspect
import math
import os
import signal
import threading
from typing import Callable, Sequence

import torch
from torch import nn
from tqdm.auto import tqdm

from ganlib import checkpoint as ckpt
from ganlib import budgets, losses
from ganlib.device import get_device, is_distributed, rank, use_bf16


class History:
    """The logs of a run: one list of values per name, and the steps.

    ``history["loss_D"]`` is the list of loss_D values, ``history.step``
    the steps at which the loop logged them. Callbacks that measure now
    and then (a test error every few hundred steps) add their values with
    :meth:`add`; ``history.steps_of(name)`` says when each was taken.
    """

    def __init__(self) -> None:
        self.step: list[int] = []
        self._values: dict[str, list[float]] = {}
        self._steps: dict[str, list[int]] = {}

    def append(self, step: int, logs: dict[str, float]) -> None:
        """Record the loop's logs of one step."""
        self.step.append(step)
        for name, value in logs.items():
            self.add(step, name, value)

    def add(self, step: int, name: str, value: float) -> None:
        """Record one value of ``name`` taken at ``step``."""
        self._values.setdefault(name, []).append(value)
        self._steps.setdefault(name, []).append(step)

    def __getitem__(self, name: str) -> list[float]:
        if name not in self._values:
            raise KeyError(f"the history has no {name!r}; it has "
                           f"{sorted(self._values) or 'nothing yet'}")
        return self._values[name]

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def keys(self) -> list[str]:
        return list(self._values)

    def steps_of(self, name: str) -> list[int]:
        """The steps at which the values of ``name`` were taken."""
        self[name]  # a clear error for an unknown name
        return self._steps[name]

    def last(self, n: int = 50) -> dict[str, float]:
        """Means of every logged value over its last n records."""
        if not self.step:
            raise ValueError("the history is empty: nothing was trained yet")
        return {name: sum(v[-n:]) / len(v[-n:])
                for name, v in self._values.items()}

    def state_dict(self) -> dict:
        return {"step": list(self.step), "values": dict(self._values),
                "steps": dict(self._steps)}

    def load_state_dict(self, state: dict) -> None:
        self.step = list(state["step"])
        self._values = {k: list(v) for k, v in state["values"].items()}
        self._steps = {k: list(v) for k, v in state["steps"].items()}


# ------------------------------------------------------------- the step


# how an optimiser computes, not what: free to differ on resume
_IMPLEMENTATION = {"foreach", "fused", "capturable", "differentiable"}


class Step:
    """What :func:`fit` trains: networks, optimisers and one update.

    Subclasses set ``networks`` and ``optimizers`` (dicts by name; also
    ``schedulers`` if any) and implement ``__call__() -> logs``. A
    checkpoint holds the state of all three; :meth:`settings` says what
    must not change between a run and its resumption.
    """

    networks: dict[str, nn.Module]
    optimizers: dict[str, torch.optim.Optimizer]
    schedulers: dict = {}
    batch_size: int

    def __call__(self) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    @property
    def device(self) -> torch.device:
        net = next(iter(self.networks.values()))
        return next(net.parameters()).device

    def parts(self) -> dict:
        """Everything whose state a checkpoint keeps, by name."""
        return {**self.networks, **{f"opt_{n}": o for n, o in
                                    self.optimizers.items()},
                **{f"sched_{n}": s for n, s in self.schedulers.items()}}

    def settings(self) -> dict:
        """The run's settings; a checkpoint saved under others won't load."""
        opts = {name: {"type": type(opt).__name__,
                       **{k: v for k, v in opt.defaults.items()
                          if k not in _IMPLEMENTATION}}
                for name, opt in self.optimizers.items()}
        return {"step": type(self).__name__, "batch_size": self.batch_size,
                "optimizers": opts}


def describe(fn) -> str:
    """A short, stable name for a loss or step function, for settings."""
    if isinstance(fn, functools.partial):
        args = [repr(a) for a in fn.args]
        args += [f"{k}={v!r}" for k, v in sorted(fn.keywords.items())]
        return f"{describe(fn.func)}({', '.join(args)})"
    name = getattr(fn, "__qualname__", None)  # a function or a class
    if name is not None:
        return f"{getattr(fn, '__module__', '')}.{name}"
    if type(fn).__repr__ is not object.__repr__:  # it says what it is
        return repr(fn)
    simple = {k: v for k, v in sorted(getattr(fn, "__dict__", {}).items())
              if isinstance(v, (int, float, str, bool))}
    return f"{type(fn).__name__}{simple}"


def split_batch(batch) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
    """A real batch is ``x`` or ``(x, *cond)``; cond (labels) feeds G and D."""
    if isinstance(batch, (tuple, list)):
        return batch[0], tuple(batch[1:])
    return batch, ()


@contextlib.contextmanager
def frozen(D: nn.Module):
    """D takes no gradient inside the block: the G step's gradients flow
    through D into G only. D is trainable again after the block, even when
    an error or Ctrl-C ends it."""
    D.requires_grad_(False)
    try:
        yield D
    finally:
        D.requires_grad_(True)


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
    with frozen(D):  # gradients flow through D to G, not into D
        if x_fake is None:
            x_fake = G(z, *cond)
        loss = loss_G(D(x_fake, *cond))
        opt_G.zero_grad(set_to_none=True)
        loss.backward()
        opt_G.step()
    return loss.detach()


def _takes_x_fake(half: Callable) -> bool:
    return "x_fake" in inspect.signature(half).parameters


class GANStep(Step):
    """Algorithm 1: k steps of D, then one step of G.

    ``share_fake=True`` lets the G step reuse the fake batch of the last D
    step, graph and all (the ``x_fake`` argument of both halves): one G
    forward per step instead of two, the same update as Algorithm 1
    except that both halves see the same z. ``share_fake=False`` draws
    fresh noise for the G step, as Algorithm 1 does. ``update_D`` and
    ``update_G`` may be replaced by trick steps of the same signature
    (``ganlib.tricks``); to share the fake batch they must take
    ``x_fake``.
    """

    def __init__(self, G: nn.Module, D: nn.Module, sample_real: Callable, *,
                 opt_G: torch.optim.Optimizer, opt_D: torch.optim.Optimizer,
                 batch_size: int = 64, k: int = 1,
                 loss_D: Callable = losses.d_loss,
                 loss_G: Callable = losses.g_loss_nonsaturating,
                 sample_z: Callable | None = None,
                 update_D: Callable = update_D, update_G: Callable = update_G,
                 share_fake: bool = True) -> None:
        if batch_size < 1 or k < 1:
            raise ValueError(f"need batch_size >= 1 and k >= 1, got "
                             f"batch_size={batch_size}, k={k}")
        if share_fake:
            for name, half in (("update_D", update_D),
                               ("update_G", update_G)):
                if not _takes_x_fake(half):
                    raise ValueError(
                        f"{name}={describe(half)} takes no x_fake argument, "
                        "so it cannot share the fake batch: pass "
                        "share_fake=False")
        if sample_z is None:
            latent_dim = getattr(G, "latent_dim", None)
            if latent_dim is None:
                raise ValueError("G has no `latent_dim` attribute: pass "
                                 "sample_z=lambda n: ... to draw its noise")
            device = next(G.parameters()).device
            sample_z = functools.partial(_randn, latent_dim, device)
        self.G, self.D, self.sample_real = G, D, sample_real
        self.opt_G, self.opt_D = opt_G, opt_D
        self.batch_size, self.k = batch_size, k
        self.loss_D, self.loss_G, self.sample_z = loss_D, loss_G, sample_z
        self.update_D, self.update_G = update_D, update_G
        self.share_fake = share_fake
        self.networks = {"G": G, "D": D}
        self.optimizers = {"G": opt_G, "D": opt_D}
        # under torchrun G's gradients are averaged in the G step, D's in
        # the D step; the other network is only read there and stays bare
        self._G, self._D = G, D
        if is_distributed():
            from torch.nn.parallel import DistributedDataParallel as DDP
            dev = next(G.parameters()).device
            ids = [dev.index or 0] if dev.type == "cuda" else None
            self._G, self._D = DDP(G, device_ids=ids), DDP(D, device_ids=ids)

    def __call__(self) -> dict[str, torch.Tensor]:
        shared = {}
        for i in range(self.k):  # (1) k discriminator steps
            x_real, cond = split_batch(self.sample_real(self.batch_size))
            z = self.sample_z(self.batch_size)
            if self.share_fake and i == self.k - 1:
                # the last D step and the G step share one G(z), graph kept
                shared = {"x_fake": self._G(z, *cond)}
            loss_D, D_real, D_fake = self.update_D(
                self.G, self._D, self.opt_D, self.loss_D, x_real, z, cond,
                **shared)
        # (2) one generator step, on the labels of the last real batch
        if not self.share_fake:
            z = self.sample_z(self.batch_size)  # fresh, as in Algorithm 1
        loss_G = self.update_G(self._G, self.D, self.opt_G, self.loss_G, z,
                               cond, **shared)
        return {"loss_D": loss_D, "loss_G": loss_G, "D_real": D_real,
                "D_fake": D_fake}

    def settings(self) -> dict:
        return {**super().settings(), "k": self.k,
                "share_fake": self.share_fake,
                **{name: describe(getattr(self, name)) for name in
                   ("loss_D", "loss_G", "update_D", "update_G")}}


def _randn(latent_dim: int, device: torch.device, n: int) -> torch.Tensor:
    return torch.randn(n, latent_dim, device=device)


# ------------------------------------------------------------- callbacks


class Callback:
    """Called as ``cb(step_number, step, history)`` every ``every`` steps.

    ``step`` is the model's step object: a GAN callback reads ``step.G``
    and ``step.D``.
    """

    every: int = 1

    def __call__(self, it: int, step: Step, history: History) -> None:
        raise NotImplementedError

    def due(self, it: int, steps: int) -> bool:
        """Whether to run after step ``it`` of ``steps``."""
        return it % self.every == 0

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
    def __call__(self, it, step, history) -> None:
        G = step.G
        was_training = G.training
        G.eval()
        self.frames.append(G(self.z, *self.cond).cpu())
        G.train(was_training)
        self.steps.append(it)

    def state_dict(self) -> dict:
        return {"steps": list(self.steps), "frames": list(self.frames)}

    def load_state_dict(self, state: dict) -> None:
        self.steps, self.frames = list(state["steps"]), list(state["frames"])


class EMA(Callback):
    """An exponential moving average of a network's weights (``G_ema``).

    Averaging the generator over its recent past smooths out the
    oscillation of adversarial training; samples are drawn from ``G_ema``.
    Any network can be averaged: ``EMA(model)`` follows ``model``.
    """

    def __init__(self, G: nn.Module, decay: float = 0.999) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must lie in (0, 1), got {decay}")
        self.decay, self.every, self.source = decay, 1, G
        self.G_ema = copy.deepcopy(G).eval().requires_grad_(False)

    @torch.no_grad()
    def __call__(self, it, step, history) -> None:
        for p_ema, p in zip(self.G_ema.parameters(),
                            self.source.parameters()):
            p_ema.lerp_(p, 1.0 - self.decay)
        for b_ema, b in zip(self.G_ema.buffers(), self.source.buffers()):
            b_ema.copy_(b)

    def state_dict(self) -> dict:
        return self.G_ema.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.G_ema.load_state_dict(state)


class Evaluate(Callback):
    """Every ``every`` steps (and at the last), adds ``fn(step)`` to the
    history as ``name``: a test error, a sample score."""

    def __init__(self, fn: Callable[[Step], float], every: int,
                 name: str) -> None:
        self.fn, self.every, self.name = fn, every, name

    def due(self, it: int, steps: int) -> bool:
        return it % self.every == 0 or it == steps

    def __call__(self, it, step, history) -> None:
        history.add(it, self.name, self.fn(step))


# -------------------------------------------------------------- the loop


def _use_amp(device: torch.device) -> bool:
    """Default for ``amp=None``: ``device.use_bf16`` (GANLIB_AMP)."""
    return use_bf16(device)


def _flush(pending: list[torch.Tensor], names: list[str], history: History,
           first_step: int) -> dict[str, float]:
    """Move buffered step logs into the history; stop at NaN or inf.

    Returns the last step's logs.
    """
    if not pending:
        return {}
    rows = torch.stack(pending).tolist()  # one device sync per flush
    pending.clear()
    for i, row in enumerate(rows):
        step = first_step + i + 1
        logs = dict(zip(names, row))
        bad = [f"{n}={v}" for n, v in logs.items() if not math.isfinite(v)]
        if bad:
            raise FloatingPointError(
                f"training diverged at step {step}: {', '.join(bad)}; "
                "lower the learning rate, check the input range, or "
                "resume from the last checkpoint")
        history.append(step, logs)
    return logs


class _DeferInterrupt:
    """Holds Ctrl-C until the current step is complete (main thread only).

    A step interrupted half way (D updated, G not) cannot be saved as any
    step; so the first Ctrl-C waits for the step to end, the loop then
    saves and stops. A second Ctrl-C stops at once, saving nothing.
    """

    def __init__(self) -> None:
        self.asked = False
        self.active = threading.current_thread() is threading.main_thread()

    def __enter__(self):
        if self.active:
            self.previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def _handler(self, signum, frame) -> None:
        if self.asked:  # second Ctrl-C: the user will not wait
            raise KeyboardInterrupt
        self.asked = True

    def __exit__(self, *exc) -> None:
        if self.active:
            signal.signal(signal.SIGINT, self.previous)


def _check_resume(state: dict, step: Step, callbacks, steps: int,
                  path) -> None:
    """Refuse to resume a run under other settings, with the fix."""
    if "settings" not in state:
        raise ValueError(f"checkpoint {path} was saved by an older ganlib "
                         "that did not record its settings: delete it to "
                         "start the run afresh")
    saved, now = state["settings"], step.settings()
    diffs = [f"{key}: saved {saved.get(key)!r}, now {now.get(key)!r}"
             for key in sorted(set(saved) | set(now))
             if saved.get(key) != now.get(key)]
    names = [type(cb).__name__ for cb in callbacks]
    if state["callbacks_names"] != names:
        diffs.append(f"callbacks: saved {state['callbacks_names']}, "
                     f"now {names}")
    if diffs:
        raise ValueError(
            f"checkpoint {path} was saved by a run with other settings ("
            + "; ".join(diffs) + "): pass the same settings to resume it, "
            "or another checkpoint path (or delete this one) to start afresh")
    if state["step"] > steps:
        raise ValueError(
            f"checkpoint {path} is at step {state['step']}, past the "
            f"{steps} steps asked for: ask for at least {state['step']} "
            "steps, or delete the checkpoint to start afresh")


def fit(step: Step, steps: int, *, callbacks: Sequence[Callback] = (),
        checkpoint: str | os.PathLike | None = None,
        checkpoint_every: int = 500, log_every: int = 25,
        progress: bool = True, desc: str = "train",
        amp: bool | None = None) -> History:
    """Call ``step()`` ``steps`` times; return the history of its logs.

    With ``checkpoint`` set, the run saves there every
    ``checkpoint_every`` steps, at the end and on Ctrl-C (after the step
    under way is complete), and a later call with the same path resumes
    where it stopped, with the same result as an uninterrupted run.
    ``amp=True`` runs the step under bfloat16 autocast (weights, optimiser
    state and losses stay float32); ``None`` leaves the choice to
    ``device.use_bf16`` (the ``GANLIB_AMP`` variable).
    """
    for name, value in (("steps", steps), ("log_every", log_every),
                        ("checkpoint_every", checkpoint_every)):
        if not isinstance(value, int) or value < (0 if name == "steps"
                                                  else 1):
            raise ValueError(f"{name} must be a whole number >= "
                             f"{0 if name == 'steps' else 1}, got {value!r}")
    for cb in callbacks:
        if not isinstance(cb.every, int) or cb.every < 1:
            raise ValueError(f"{type(cb).__name__}.every must be a whole "
                             f"number >= 1, got {cb.every!r}")
    device = step.device
    amp = _use_amp(device) if amp is None else amp
    autocast = torch.autocast(device.type, dtype=torch.bfloat16,
                              enabled=bool(amp))
    for net in step.networks.values():
        net.train()
    main_process = rank() == 0

    history, start = History(), 0
    if checkpoint is not None and os.path.exists(checkpoint):
        state = ckpt.load(checkpoint)
        _check_resume(state, step, callbacks, steps, checkpoint)
        for name, part in step.parts().items():
            ckpt.load_module(part, state[name], name, checkpoint)
        for cb, cb_state in zip(callbacks, state["callbacks"]):
            cb.load_state_dict(cb_state)
        history.load_state_dict(state["history"])
        ckpt.set_rng_state(state["rng"])
        start = state["step"]

    def save(at: int) -> None:
        if checkpoint is not None and main_process:
            ckpt.save(checkpoint, {
                "step": at, "history": history.state_dict(),
                "rng": ckpt.rng_state(), "settings": step.settings(),
                "callbacks": [cb.state_dict() for cb in callbacks],
                "callbacks_names": [type(cb).__name__ for cb in callbacks],
                **{name: part.state_dict()
                   for name, part in step.parts().items()}})

    pending: list[torch.Tensor] = []  # one row of logs per step
    names: list[str] = []
    flushed, last = start, {}
    bar = tqdm(total=steps, initial=start, desc=desc, unit="step",
               disable=not (budgets.show_progress(progress) and main_process))
    with _DeferInterrupt() as interrupt, bar:
        for it in range(start + 1, steps + 1):
            with autocast:
                logs = step()
            # a copy of the values only: a log may hold a large buffer
            pending.append(torch.stack([v.float() for v in logs.values()]))
            names = list(logs)
            for cb in callbacks:
                if cb.due(it, steps):
                    cb(it, step, history)
            save_now = it % checkpoint_every == 0 or interrupt.asked
            if it % log_every == 0 or it == steps or save_now:
                last = _flush(pending, names, history, flushed)
                flushed = it
                bar.set_postfix({n: f"{v:.3f}" for n, v in last.items()})
            if save_now:
                save(it)
            bar.update(1)
            if interrupt.asked:  # the step is complete and saved
                raise KeyboardInterrupt(f"training stopped after step {it}"
                                        + (f", saved to {checkpoint}"
                                           if checkpoint else ""))
    save(flushed)
    return history


def train(G: nn.Module, D: nn.Module, sample_real: Callable, *,
          steps: int, batch_size: int = 64, k: int = 1,
          loss_D: Callable = losses.d_loss,
          loss_G: Callable = losses.g_loss_nonsaturating,
          opt_G: torch.optim.Optimizer | None = None,
          opt_D: torch.optim.Optimizer | None = None,
          lr: float = 2e-4, betas: tuple[float, float] = (0.5, 0.999),
          sample_z: Callable | None = None,
          step_D: Callable = update_D, step_G: Callable = update_G,
          share_fake: bool = True, device: torch.device | str | None = None,
          **loop) -> History:
    """Train a GAN: :class:`GANStep` (Algorithm 1) through :func:`fit`.

    ``sample_real(n)`` returns a batch x (or ``(x, y)`` for a conditional
    GAN) already on the device. Without ``opt_G``/``opt_D`` both players
    get Adam(lr, betas), fused into one kernel per step. ``step_D`` and
    ``step_G`` replace the two halves; the other keyword arguments
    (``callbacks``, ``checkpoint``, ``log_every``, ``amp``, ...) go to
    :func:`fit`.

    Under ``torchrun`` (an initialised process group) the same call trains
    with DistributedDataParallel: gradients are averaged across processes,
    each process draws its own shard (see ``data.TensorSampler``), and only
    rank 0 shows progress and writes checkpoints.
    """
    device = torch.device(device) if device is not None else get_device()
    G.to(device)
    D.to(device)
    # one fused kernel per optimiser step (CUDA, and the CPU since torch 2.4)
    fused = device.type in ("cuda", "cpu")
    opt_G = opt_G or torch.optim.Adam(G.parameters(), lr=lr, betas=betas,
                                      fused=fused)
    opt_D = opt_D or torch.optim.Adam(D.parameters(), lr=lr, betas=betas,
                                      fused=fused)
    step = GANStep(G, D, sample_real, opt_G=opt_G, opt_D=opt_D,
                   batch_size=batch_size, k=k, loss_D=loss_D, loss_G=loss_G,
                   sample_z=sample_z, update_D=step_D, update_G=step_G,
                   share_fake=share_fake)
    return fit(step, steps, **loop)
