"""GANs in one dimension: train, record, measure and draw p_g against p_data.

A 1-D GAN can be looked at completely: the target density p_data, the
generator's density p_g (estimated from its samples) and the
discriminator's output D(x) all fit on one axis. This module records those
three curves during training (:class:`Recorder`, a ``train.Callback``),
draws them (:func:`plot_frame`, :func:`animate_training`,
:func:`plot_density_map`) and turns the outcome into numbers
(:func:`mu_sigma_error`, :func:`mass_per_mode`, :func:`near_mode_fraction`).
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import matplotlib.pyplot as plt
import torch
from torch import nn

from ganlib import losses, plot, train
from ganlib.data import GaussianMixture
from ganlib.device import get_device, use_bf16


def _as_samples(samples: torch.Tensor) -> torch.Tensor:
    """Samples of shape (n,) or (n, 1) as a flat float tensor on the CPU."""
    s = torch.as_tensor(samples).detach().float().cpu()
    if s.ndim == 2 and s.shape[1] == 1:
        s = s[:, 0]
    if s.ndim != 1 or len(s) == 0:
        raise ValueError(f"expected 1-D samples of shape (n,) or (n, 1) with "
                         f"n >= 1, got shape {tuple(s.shape)}")
    return s


# ----------------------------------------------------------- measurements


def kde(samples: torch.Tensor, grid: torch.Tensor,
        bandwidth: float | None = None) -> torch.Tensor:
    r"""Gaussian kernel density estimate of samples, evaluated on a grid.

    .. math:: \hat p(x) = \frac{1}{n h} \sum_i \varphi((x - x_i) / h)

    The default bandwidth h is Silverman's rule,
    :math:`0.9 \min(\hat\sigma, \mathrm{IQR}/1.34)\, n^{-1/5}`.
    """
    s = _as_samples(samples)
    grid = torch.as_tensor(grid, dtype=torch.float32).cpu()
    if bandwidth is None:
        std = s.std().item() if len(s) > 1 else 0.0
        q = torch.quantile(s, torch.tensor([0.25, 0.75]))
        spread = min(std, (q[1] - q[0]).item() / 1.34) or std
        bandwidth = 0.9 * spread * len(s) ** -0.2
        bandwidth = max(bandwidth, 1e-3)  # a collapsed G: a narrow spike
    if bandwidth <= 0:
        raise ValueError(f"bandwidth must be positive, got {bandwidth}")
    u = (grid[:, None] - s[None, :]) / bandwidth  # (len(grid), n)
    phi = torch.exp(-0.5 * u**2) / math.sqrt(2 * math.pi)
    return phi.mean(1) / bandwidth


def mu_sigma(samples: torch.Tensor) -> tuple[float, float]:
    """Sample mean and standard deviation."""
    s = _as_samples(samples).double()
    return s.mean().item(), s.std(unbiased=False).item()


def mu_sigma_error(samples: torch.Tensor, mu: float,
                   sigma: float) -> tuple[float, float]:
    """Relative errors of the mean and the standard deviation.

    They are ``|mu_g - mu| / |mu|`` and ``|sigma_g - sigma| / sigma``;
    the error of the mean is relative to sigma instead when mu is 0.
    """
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    mu_g, sigma_g = mu_sigma(samples)
    scale = abs(mu) if mu != 0 else sigma
    return abs(mu_g - mu) / scale, abs(sigma_g - sigma) / sigma


def mass_per_mode(samples: torch.Tensor, means: Sequence[float]
                  ) -> torch.Tensor:
    """Fraction of samples whose nearest mode centre is each of ``means``.

    Returns a tensor (K,) that sums to 1, in the order of ``means``.
    """
    s = _as_samples(samples)
    m = torch.as_tensor(means, dtype=torch.float32).flatten().cpu()
    if len(m) == 0:
        raise ValueError("mass_per_mode needs at least one mode centre")
    nearest = (s[:, None] - m[None, :]).abs().argmin(1)  # (n,)
    return torch.bincount(nearest, minlength=len(m)).float() / len(s)


def near_mode_fraction(samples: torch.Tensor, means: Sequence[float],
                       stds: Sequence[float] | float,
                       n_std: float = 3.0) -> float:
    """Fraction of samples within n_std standard deviations of some mode.

    What is left, 1 minus this, lies between or beyond the modes: the
    signature of mode averaging.
    """
    s = _as_samples(samples)
    m = torch.as_tensor(means, dtype=torch.float32).flatten().cpu()
    sd = torch.as_tensor(stds, dtype=torch.float32).flatten().cpu()
    sd = sd.expand(len(m))
    near = ((s[:, None] - m[None, :]).abs() <= n_std * sd[None, :]).any(1)
    return near.float().mean().item()


@torch.no_grad()
def generate(G: nn.Module, n: int, device: torch.device | None = None
             ) -> torch.Tensor:
    """n samples (n,) of G on the CPU, drawn in eval mode."""
    device = device or next(G.parameters()).device
    was_training = G.training
    G.eval()
    x = G(torch.randn(n, G.latent_dim, device=device))
    G.train(was_training)
    return x[:, 0].cpu()


# --------------------------------------------------------------- training


class Recorder(train.Callback):
    """Every ``every`` steps: G's samples from a fixed z, D(x) on a grid.

    Also keeps the sample mean and standard deviation for curves of mu and
    sigma over training. D is read in eval mode (dropout off).
    """

    def __init__(self, grid: torch.Tensor, n_samples: int = 2000,
                 every: int = 25, latent_dim: int = 1) -> None:
        if every < 1 or n_samples < 2:
            raise ValueError(f"need every >= 1 and n_samples >= 2, got "
                             f"every={every}, n_samples={n_samples}")
        self.grid = torch.as_tensor(grid, dtype=torch.float32).cpu()
        self.every = every
        # a fixed noise batch: frame-to-frame change is G's, not the noise's
        self.z = torch.randn(n_samples, latent_dim)
        self.steps: list[int] = []
        self.samples: list[torch.Tensor] = []  # each (n_samples,)
        self.d_values: list[torch.Tensor] = []  # each (len(grid),)
        self.mu: list[float] = []
        self.sigma: list[float] = []

    @torch.no_grad()
    def __call__(self, it, step, history) -> None:
        G, D = step.G, step.D
        device = next(G.parameters()).device
        modes = G.training, D.training
        G.eval()
        D.eval()
        x = G(self.z.to(device))[:, 0].cpu()
        d = torch.sigmoid(D(self.grid[:, None].to(device))).cpu()
        G.train(modes[0])
        D.train(modes[1])
        mu, sigma = mu_sigma(x)
        self.steps.append(it)
        self.samples.append(x)
        self.d_values.append(d)
        self.mu.append(mu)
        self.sigma.append(sigma)

    def state_dict(self) -> dict:
        return {name: list(getattr(self, name)) for name in
                ("steps", "samples", "d_values", "mu", "sigma")}

    def load_state_dict(self, state: dict) -> None:
        for name, value in state.items():
            setattr(self, name, list(value))


def optimizers(G: nn.Module, D: nn.Module, lr_G: float = 2e-3,
               lr_D: float = 2e-3, weight_decay: float = 0.0
               ) -> tuple[torch.optim.Adam, torch.optim.Adam]:
    r"""Adam for both players, each at its own learning rate.

    ``weight_decay`` :math:`\lambda` regularises D alone: Adam adds
    :math:`\lambda \theta_D` to D's gradient, the gradient of an L2
    penalty :math:`\frac{\lambda}{2} \lVert \theta_D \rVert^2` on D's loss.
    """
    betas = (0.5, 0.999)  # beta1 = 0.5, as in DCGAN
    opt_G = torch.optim.Adam(G.parameters(), lr=lr_G, betas=betas)
    opt_D = torch.optim.Adam(D.parameters(), lr=lr_D, betas=betas,
                             weight_decay=weight_decay)
    return opt_G, opt_D


def fit(G: nn.Module, D: nn.Module, target: GaussianMixture, *,
        steps: int, lr_G: float = 2e-3, lr_D: float = 2e-3, k: int = 1,
        weight_decay: float = 0.0, batch_size: int = 128,
        grid: torch.Tensor | None = None, every: int = 25,
        device: torch.device | None = None,
        make_optimizers: Callable = optimizers
        ) -> tuple[train.History, Recorder]:
    """Train a 1-D GAN with ``train.train`` and record it.

    The optimisers are ``make_optimizers(G, D, lr_G, lr_D, weight_decay)``
    (:func:`optimizers`: Adam, weight decay on D alone); the losses are
    ``losses.d_loss`` and the non-saturating ``g_loss_nonsaturating``.
    On a CPU the step runs in float32 unless ``GANLIB_AMP=1``
    (``device.use_bf16(device, small_model=True)``): these networks are
    too small for bfloat16 to pay. Returns the history and the recorder.
    """
    if target.dim != 1:
        raise ValueError(f"fit trains 1-D GANs; the target has dimension "
                         f"{target.dim}")
    device = device or get_device()
    target.to(device)
    if grid is None:
        grid = default_grid(target)
    rec = Recorder(grid, every=every, latent_dim=G.latent_dim)
    opt_G, opt_D = make_optimizers(G, D, lr_G, lr_D, weight_decay)
    history = train.train(G, D, target, steps=steps, batch_size=batch_size,
                          k=k, opt_G=opt_G, opt_D=opt_D,
                          loss_G=losses.g_loss_nonsaturating,
                          callbacks=[rec], progress=False, device=device,
                          amp=use_bf16(device, small_model=True))
    return history, rec


def default_grid(target: GaussianMixture, n: int = 300,
                 margin: float = 4.0) -> torch.Tensor:
    """Points covering the target's modes, margin * std beyond each end."""
    means = target.means[:, 0].cpu()
    stds = target.stds.cpu()
    lo = (means - margin * stds).min().item()
    hi = (means + margin * stds).max().item()
    lo, hi = min(lo, -1.5), max(hi, 1.5)  # G starts near N(0, 1)
    return torch.linspace(lo, hi, n)


# --------------------------------------------------------------- pictures


def plot_frame(ax: plt.Axes, grid: torch.Tensor, target: GaussianMixture,
               samples: torch.Tensor, d_values: torch.Tensor | None = None,
               title: str | None = None, ymax: float | None = None
               ) -> plt.Axes:
    """p_data (line), p_g (shaded estimate from samples) and D(x) (dashed)."""
    grid = torch.as_tensor(grid, dtype=torch.float32).cpu()
    p_data = target.pdf(grid.to(target.device)).cpu()
    p_g = kde(samples, grid)
    top = ymax or 1.1 * max(1.0, p_data.max().item(),
                            min(p_g.max().item(), 3.0))
    grid, p_data, p_g = grid.numpy(), p_data.numpy(), p_g.numpy()
    ax.plot(grid, p_data, color="k", lw=1.5, label="p_data")
    ax.fill_between(grid, p_g, color="C1", alpha=0.45, label="p_g")
    if d_values is not None:
        d_values = torch.as_tensor(d_values).cpu().numpy()
        ax.plot(grid, d_values, color="C0", lw=1.5,
                ls="--", label="D(x)")
        ax.axhline(0.5, color="gray", lw=0.6, ls=":")
    ax.set_ylim(0, top)
    ax.set_xlim(grid[0], grid[-1])
    ax.set_xlabel("x")
    ax.legend(loc="upper left", fontsize=7, frameon=False)
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def animate_training(rec: Recorder, target: GaussianMixture,
                     title: str = "", max_frames: int = 40,
                     interval: int = 150, figsize=(5.0, 3.0), dpi: int = 72,
                     *, alt: str | None = None):
    """An HTML animation of p_data, p_g and D(x) over training.

    ``alt`` describes it for screen readers; without it, a generic
    description built from ``title`` is used.
    """
    n = len(rec.steps)
    if n == 0:
        raise ValueError("the recorder is empty: train with it first")
    idx = sorted({round(i * (n - 1) / max(1, max_frames - 1))
                  for i in range(min(n, max_frames))})
    peak = target.pdf(rec.grid.to(target.device)).max().item()
    ymax = 1.15 * max(1.0, peak)

    def draw(ax, i):
        plot_frame(ax, rec.grid, target, rec.samples[i], rec.d_values[i],
                   title=f"{title} step {rec.steps[i]}".strip(), ymax=ymax)

    if alt is None:
        run = f" ({title.strip(' ,')})" if title.strip(" ,") else ""
        alt = (f"Animation of p_data, p_g and D(x) over training{run}, "
               f"from step {rec.steps[0]} to {rec.steps[-1]}.")
    with plt.rc_context({"figure.dpi": dpi}):
        return plot.animate(idx, draw, interval=interval, figsize=figsize,
                            alt=alt)


def plot_density_map(ax: plt.Axes, rec: Recorder,
                     title: str | None = None) -> plt.Axes:
    """p_g over training as an image: x across, training step downwards."""
    if not rec.steps:
        raise ValueError("the recorder is empty: train with it first")
    dens = torch.stack([kde(s, rec.grid) for s in rec.samples])  # (T, X)
    dens = dens.clamp(max=dens.quantile(0.99).item() + 1e-9)
    ax.imshow(dens.numpy(), aspect="auto", cmap="magma", origin="upper",
              extent=(rec.grid[0].item(), rec.grid[-1].item(),
                      rec.steps[-1], rec.steps[0]))
    ax.set_xlabel("x")
    ax.set_ylabel("step")
    if title:
        ax.set_title(title, fontsize=9)
    return ax
