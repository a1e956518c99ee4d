r"""Game dynamics, divergences and distances behind GAN training (chapter 12).

* Gradient descent-ascent on a two-player game, simultaneous or
  alternating: the bilinear game :math:`\min_x \max_y xy` and the
  Dirac-GAN of Mescheder et al. (2018), with the R1 penalty and instance
  noise.
* The generator's gradient against the optimal discriminator when the
  two distributions barely overlap (Arjovsky and Bottou, 2017).
* The Wasserstein-1 distance in one dimension, from the CDFs and from
  samples, and small critics that estimate it through the
  Kantorovich-Rubinstein dual (clipping, gradient penalty, spectral norm).
* f-divergences, their Fenchel lower bound (Nowozin et al., 2016), and
  the optimal critics of the least-squares and hinge losses.
* The Frechet distance of two Gaussians, and FID with torchmetrics'
  Inception network when its weights are on disk (never downloaded).

Densities on a grid are float64 tensors; integrals use the trapezoidal
rule, as :mod:`ganlib.theory` does.
"""

from __future__ import annotations

import importlib.util
import math
import os
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ganlib import tricks

# torch-fidelity's Inception weights, as torch.hub names the download
INCEPTION_FILE = "weights-inception-2015-12-05-6726825d.pth"


# ------------------------------------------------------------- dynamics


def bilinear_losses(x: torch.Tensor, y: torch.Tensor
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The game :math:`\min_x \max_y xy` as (loss of y, loss of x).

    The maximiser y descends :math:`-xy`, the minimiser x descends
    :math:`xy`; the Nash equilibrium is (0, 0).
    """
    return -x * y, x * y


def simulate_gda(losses: Callable, theta: float, psi: float, lr: float,
                 steps: int, alternating: bool = False) -> torch.Tensor:
    r"""Iterates (steps + 1, 2) of gradient descent-ascent on (theta, psi).

    ``losses(theta, psi)`` returns (loss_D, loss_G); D descends loss_D in
    psi, G descends loss_G in theta, each with step ``lr``:

    .. math:: \psi_{t+1} = \psi_t - \eta \partial_\psi L_D, \qquad
              \theta_{t+1} = \theta_t - \eta \partial_\theta L_G

    Simultaneous: both gradients at :math:`(\theta_t, \psi_t)`.
    Alternating: D first, then G's gradient at
    :math:`(\theta_t, \psi_{t+1})`, as in Algorithm 1 with k = 1.
    """
    theta = torch.tensor(float(theta), dtype=torch.float64,
                         requires_grad=True)
    psi = torch.tensor(float(psi), dtype=torch.float64, requires_grad=True)
    path = [(theta.item(), psi.item())]
    for _ in range(steps):
        # (1) D's gradient at the current point
        loss_D, _ = losses(theta, psi)
        g_psi, = torch.autograd.grad(loss_D, psi)
        if alternating:  # D moves first; G answers the new D
            with torch.no_grad():
                psi -= lr * g_psi
        # (2) G's gradient, at the old psi unless alternating
        _, loss_G = losses(theta, psi)
        g_theta, = torch.autograd.grad(loss_G, theta)
        with torch.no_grad():
            theta -= lr * g_theta
            if not alternating:  # both gradients were taken at one point
                psi -= lr * g_psi
        path.append((theta.item(), psi.item()))
    return torch.tensor(path, dtype=torch.float64)


def normal_nodes(n: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Gauss-Hermite nodes and weights for :math:`\mathbb{E}_{z \sim
    N(0, 1)} f(z) \approx \sum_k w_k f(z_k)`, float64."""
    z, w = np.polynomial.hermite_e.hermegauss(n)
    return (torch.from_numpy(z),
            torch.from_numpy(w / math.sqrt(2 * math.pi)))


def dirac_gan_losses(theta: torch.Tensor, psi: torch.Tensor,
                     gamma: float = 0.0, noise_std: float = 0.0,
                     nonsaturating: bool = False
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    r"""loss_D and loss_G of the Dirac-GAN (Mescheder et al., 2018).

    Data :math:`\delta_0`, generator :math:`\delta_\theta`, discriminator
    logit :math:`\psi x`; with instance noise
    :math:`\varepsilon \sim N(0, \sigma^2)` added to every sample
    (expectations by Gauss-Hermite quadrature), and the R1 penalty
    :math:`\tfrac{\gamma}{2} \mathbb{E}_{real} |\partial_x (\psi x)|^2
    = \tfrac{\gamma}{2} \psi^2`:

    .. math:: L_D = \mathbb{E}\,\mathrm{softplus}(-\psi \varepsilon)
              + \mathbb{E}\,\mathrm{softplus}(\psi (\theta + \varepsilon))
              + \tfrac{\gamma}{2} \psi^2

    G minimises the game's own value, :math:`L_G = -\mathbb{E}\,
    \mathrm{softplus}(\psi(\theta + \varepsilon))`, or with
    ``nonsaturating`` :math:`\mathbb{E}\,\mathrm{softplus}(-\psi(\theta
    + \varepsilon))`.
    """
    if noise_std > 0:  # E over the noise, by quadrature
        eps, w = normal_nodes()
        eps = noise_std * eps
    else:  # one node: the samples themselves
        eps = torch.zeros(1, dtype=torch.float64)
        w = torch.ones(1, dtype=torch.float64)
    real_out, fake_out = psi * eps, psi * (theta + eps)  # D's logits
    loss_D = (w * (F.softplus(-real_out) + F.softplus(fake_out))).sum() \
        + 0.5 * gamma * psi ** 2
    if nonsaturating:  # -log D(G(z))
        loss_G = (w * F.softplus(-fake_out)).sum()
    else:  # log(1 - D(G(z))), the minimax game's own term
        loss_G = -(w * F.softplus(fake_out)).sum()
    return loss_D, loss_G


def dirac_gan_step(theta: float, psi: float, lr: float,
                   gamma: float = 0.0) -> tuple[float, float]:
    r"""One simultaneous step of the Dirac-GAN (minimax loss, R1 penalty).

    With :math:`s = \sigma(\psi\theta) = D(G(z))` and step :math:`\eta`:

    .. math:: \theta' = \theta + \eta\, s\, \psi, \qquad
              \psi' = \psi - \eta\,(s\,\theta + \gamma \psi)
    """
    s = torch.sigmoid(torch.tensor(psi * theta, dtype=torch.float64)).item()
    return theta + lr * s * psi, psi - lr * (s * theta + gamma * psi)


# ------------------------------------------------------ disjoint supports


def normal_logpdf(x: torch.Tensor, mu: float | torch.Tensor,
                  sigma: float) -> torch.Tensor:
    r""":math:`\log N(x; \mu, \sigma^2)`, exact far into the tails."""
    return -0.5 * ((x - mu) / sigma) ** 2 - math.log(sigma) \
        - 0.5 * math.log(2 * math.pi)


def g_grad_at_optimal_d(theta: float, sigma: float,
                        g_loss: Callable[[torch.Tensor], torch.Tensor],
                        z: torch.Tensor) -> float:
    r"""dL_G/dtheta for G(z) = theta + sigma z against the optimal D.

    The data are :math:`N(0, \sigma^2)`; D is :math:`D^*` for the current
    :math:`p_g = N(\theta, \sigma^2)`, held fixed while G moves; its logit
    is :math:`\log p_{data}(x) - \log p_g(x)`. ``g_loss(logit)`` is the
    per-sample generator loss; the expectation over z is a quadrature on
    the float64 grid ``z``.
    """
    theta = torch.tensor(float(theta), dtype=torch.float64,
                         requires_grad=True)
    x_fake = theta + sigma * z  # G(z) on the grid of z
    # D* for this p_g, frozen: its parameter theta is detached
    logit = normal_logpdf(x_fake, 0.0, sigma) \
        - normal_logpdf(x_fake, theta.detach(), sigma)
    p_z = normal_logpdf(z, 0.0, 1.0).exp()
    loss_G = torch.trapezoid(p_z * g_loss(logit), z)
    return torch.autograd.grad(loss_G, theta)[0].item()


def jsd_uniform(width: float, shift: torch.Tensor) -> torch.Tensor:
    r"""JSD in nats of U[0, w] and U[d, d + w], for each shift d.

    .. math:: \mathrm{JSD} = \log 2 \cdot \min(|d| / w, 1)
    """
    return math.log(2) * (shift.abs() / width).clamp(max=1.0)


# ------------------------------------------------------------ Wasserstein


def mixture_cdf(p, x: torch.Tensor) -> torch.Tensor:
    r"""CDF of a 1-D :class:`ganlib.data.GaussianMixture` at x, float64:
    :math:`F(x) = \sum_k w_k \Phi((x - \mu_k) / \sigma_k)`."""
    means = p.means[:, 0].double().cpu()
    stds, weights = p.stds.double().cpu(), p.weights.double().cpu()
    z = (x.double()[..., None] - means) / stds
    return (weights * torch.special.ndtr(z)).sum(-1)


def w1_cdf(cdf_p: torch.Tensor, cdf_q: torch.Tensor,
           x: torch.Tensor) -> torch.Tensor:
    r"""W1 in one dimension from the two CDFs on a grid x.

    .. math:: W_1(p, q) = \int |F_p(x) - F_q(x)|\, dx
    """
    return torch.trapezoid((cdf_p - cdf_q).abs(), x)


def w1_sorted(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    r"""W1 between the empirical distributions of two 1-D samples.

    Equal sizes: :math:`\frac1n \sum_i |a_{(i)} - b_{(i)}|`, the sorted
    samples matched in order. Any sizes: :math:`\int |F_a - F_b|\, dx`,
    exactly, between the consecutive points of the merged sample.
    """
    if a.ndim != 1 or b.ndim != 1 or not len(a) or not len(b):
        raise ValueError("w1_sorted needs two non-empty 1-D samples, got "
                         f"shapes {tuple(a.shape)} and {tuple(b.shape)}")
    a, b = a.sort().values, b.sort().values
    if len(a) == len(b):
        return (a - b).abs().mean()
    x = torch.cat([a, b]).sort().values
    # the empirical CDFs on each gap [x_i, x_{i+1}] between merged points
    cdf_a = torch.searchsorted(a, x[:-1], right=True).to(x.dtype) / len(a)
    cdf_b = torch.searchsorted(b, x[:-1], right=True).to(x.dtype) / len(b)
    return ((cdf_a - cdf_b).abs() * x.diff()).sum()


def make_critic(method: str, hidden: int = 32) -> nn.Module:
    """A critic f: R -> R, an MLP; with method "sn" every layer is
    spectrally normalised, so that f is at most 1-Lipschitz."""
    layers = [nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
              nn.ReLU(), nn.Linear(hidden, 1)]
    if method == "sn":  # W / sigma_max(W) per layer; ReLU is 1-Lipschitz
        spectral_norm = nn.utils.parametrizations.spectral_norm
        layers = [spectral_norm(m) if isinstance(m, nn.Linear) else m
                  for m in layers]
    return nn.Sequential(*layers)


def critic_step(critic: nn.Module, opt: torch.optim.Optimizer,
                x_p: torch.Tensor, x_q: torch.Tensor, method: str,
                clip: float = 0.05, gp_weight: float = 10.0) -> float:
    r"""One step of the critic up :math:`\mathbb{E}_p f - \mathbb{E}_q f`.

    ``method``: "clip" (every weight clamped to [-c, c] after the step,
    Arjovsky et al. 2017), "gp" (the gradient penalty
    :math:`\lambda\,\mathbb{E}(|f'(\hat x)| - 1)^2`, Gulrajani et al.
    2017) or "sn" (spectral norm, built into the critic by
    :func:`make_critic`). Returns the batch's estimate of the gap.
    """
    # the critic maximises E_p f - E_q f: it descends the negative
    gap = critic(x_p).mean() - critic(x_q).mean()
    loss = -gap
    if method == "gp":  # pull |f'| to 1 between the two samples
        loss = loss + gp_weight * tricks.gradient_penalty(critic, x_p, x_q)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    if method == "clip":  # a box on the weights bounds the slope
        with torch.no_grad():
            for w in critic.parameters():
                w.clamp_(-clip, clip)
    return gap.item()


def critic_slope(critic: nn.Module, x: torch.Tensor) -> float:
    """The largest :math:`|f'(x)|` of a 1-D critic over the points x
    (N, 1): its Lipschitz constant where the data are."""
    x = x.detach().clone().requires_grad_(True)
    grad, = torch.autograd.grad(critic(x).sum(), x)
    return grad.abs().max().item()


# ---------------------------------------------------------- f-divergences


def f_family() -> dict[str, tuple[Callable, Callable, Callable]]:
    r"""name -> (f, its conjugate f*, its derivative f'), after Table 1
    and Table 2 of Nowozin et al. (2016).

    :math:`D_f(P\|Q) = \int q\, f(p / q)`; the optimal critic is
    :math:`T^* = f'(p / q)`.
    """
    return {
        "KL": (lambda u: u * torch.log(u),
               lambda t: torch.exp(t - 1),
               lambda u: 1 + torch.log(u)),
        "reverse KL": (lambda u: -torch.log(u),
                       lambda t: -1 - torch.log(-t),
                       lambda u: -1 / u),
        "Pearson chi2": (lambda u: (u - 1) ** 2,
                         lambda t: t ** 2 / 4 + t,
                         lambda u: 2 * (u - 1)),
        "squared Hellinger": (lambda u: (torch.sqrt(u) - 1) ** 2,
                              lambda t: t / (1 - t),
                              lambda u: 1 - 1 / torch.sqrt(u)),
        # 2 JSD - log 4: the value of the original GAN at its optimal D
        "GAN": (lambda u: u * torch.log(u) - (u + 1) * torch.log(u + 1),
                lambda t: -torch.log(1 - torch.exp(t)),
                lambda u: torch.log(u / (u + 1))),
    }


def f_divergence(f: Callable, p: torch.Tensor, q: torch.Tensor,
                 x: torch.Tensor) -> torch.Tensor:
    r""":math:`D_f(P \| Q) = \int q(x)\, f\big(p(x) / q(x)\big)\, dx` by
    quadrature (q > 0 on the grid)."""
    return torch.trapezoid(q * f(p / q), x)


def fenchel_bound(f_conj: Callable, T: torch.Tensor, p: torch.Tensor,
                  q: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    r"""The variational lower bound of a critic T on the grid x.

    .. math:: D_f(P \| Q) \ge \int p\, T - q\, f^*(T)\, dx
    """
    return torch.trapezoid(p * T - q * f_conj(T), x)


def pointwise_argmax(objective: Callable, p: torch.Tensor, q: torch.Tensor,
                     t: torch.Tensor) -> torch.Tensor:
    """For each x, the value on the grid t that maximises
    objective(p(x), q(x), t): a critic chosen point by point."""
    values = objective(p[:, None], q[:, None], t[None, :])  # (n_x, n_t)
    return t[values.argmax(dim=1)]


def lsgan_optimal_d(p: torch.Tensor, q: torch.Tensor, a: float = -1.0,
                    b: float = 1.0) -> torch.Tensor:
    r"""The least-squares discriminator's optimum (Mao et al., 2017).

    D minimises :math:`\tfrac12 \mathbb{E}_{p}(D - b)^2
    + \tfrac12 \mathbb{E}_{q}(D - a)^2` (real label b, fake label a):

    .. math:: D^*(x) = \frac{b\, p(x) + a\, q(x)}{p(x) + q(x)}
    """
    return (b * p + a * q) / (p + q)


# -------------------------------------------------- Frechet distance, FID


def frechet_gaussians(mu_a: torch.Tensor, cov_a: torch.Tensor,
                      mu_b: torch.Tensor, cov_b: torch.Tensor
                      ) -> torch.Tensor:
    r"""Squared W2 distance between two Gaussians: the Frechet distance.

    .. math:: \lVert \mu_a - \mu_b \rVert^2 + \operatorname{tr}\big(
              \Sigma_a + \Sigma_b - 2 (\Sigma_a \Sigma_b)^{1/2}\big)
    """
    # tr (S_a S_b)^{1/2}: the square roots of the eigenvalues of S_a S_b,
    # real and non-negative for covariance matrices
    eig = torch.linalg.eigvals(cov_a @ cov_b).real.clamp(min=0)
    return (mu_a - mu_b).pow(2).sum() + cov_a.trace() + cov_b.trace() \
        - 2 * eig.sqrt().sum()


def inception_weights() -> tuple[Path | None, str]:
    """The local file of the Inception weights FID uses, or None and why.

    Looks at ``GANLIB_INCEPTION_WEIGHTS``, else torch.hub's checkpoint
    folder. Never downloads: a build without network must not hang.
    """
    if importlib.util.find_spec("torch_fidelity") is None:
        return None, ("torchmetrics needs the torch-fidelity package for "
                      "its Inception network, and it is not installed")
    path = Path(os.environ.get("GANLIB_INCEPTION_WEIGHTS") or
                Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_FILE)
    if not path.is_file():
        return None, (f"the weights file {path} is not on disk (the book "
                      "never downloads it; fetch it once and set "
                      "GANLIB_INCEPTION_WEIGHTS to its path)")
    return path, ""


def inception_fid(x_a: torch.Tensor, x_b: torch.Tensor,
                  weights: Path) -> float:
    """FID (Heusel et al., 2017) between two sets of digits (N, 1, 28, 28)
    in [-1, 1], with torchmetrics' Inception loaded from ``weights``."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    fid = FrechetInceptionDistance(
        feature=2048, normalize=True,
        feature_extractor_weights_path=str(weights))
    for x, real in ((x_a, True), (x_b, False)):
        # grey [-1, 1] -> RGB [0, 1]; the metric resizes to 299 x 299
        rgb = ((x.detach().cpu().float() + 1) / 2).repeat(1, 3, 1, 1)
        fid.update(rgb, real=real)
    return float(fid.compute())
