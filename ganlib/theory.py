r"""Numbers of GAN theory in one dimension, by quadrature on a grid.

For densities :math:`p_{data}` and :math:`p_g` on the real line:

* the optimal discriminator
  :math:`D^*_G(x) = p_{data}(x) / (p_{data}(x) + p_g(x))`;
* the Jensen-Shannon divergence
  :math:`\mathrm{JSD}(p\,\|\,q) = \tfrac12 \mathrm{KL}(p\,\|\,m)
  + \tfrac12 \mathrm{KL}(q\,\|\,m)`, :math:`m = (p + q) / 2`;
* the value of the game at the optimal discriminator,
  :math:`V(D^*_G, G) = \mathbb{E}_{p_{data}}[\log D^*_G]
  + \mathbb{E}_{p_g}[\log(1 - D^*_G)]`.

A density is an object with a ``pdf`` method (e.g.
:class:`ganlib.data.GaussianMixture`) or a plain function of x. Integrals
use the trapezoidal rule on a 1-D grid x, in float64, with
:math:`0 \log 0 = 0`.
"""

from __future__ import annotations

from typing import Callable, Union

import torch

Density = Union[Callable[[torch.Tensor], torch.Tensor], object]


def grid(lo: float = -12.0, hi: float = 12.0, n: int = 4001
         ) -> torch.Tensor:
    """An evenly spaced float64 grid of n points on [lo, hi]."""
    if not hi > lo or n < 2:
        raise ValueError(f"need hi > lo and n >= 2, got lo={lo}, hi={hi}, "
                         f"n={n}")
    return torch.linspace(lo, hi, n, dtype=torch.float64)


def density(p: Density, x: torch.Tensor) -> torch.Tensor:
    """p(x) in float64, for a p with a ``pdf`` method or a callable p."""
    pdf = getattr(p, "pdf", p)
    if not callable(pdf):
        raise TypeError(f"a density is a function of x or has a .pdf "
                        f"method; got {type(p).__name__}")
    values = torch.as_tensor(pdf(x)).detach().to("cpu", torch.float64)
    if values.shape != x.shape:
        raise ValueError(f"the density returned shape {tuple(values.shape)}"
                         f" on a grid of shape {tuple(x.shape)}")
    if (values < 0).any():
        raise ValueError("a density cannot be negative")
    return values


def _check_grid(x: torch.Tensor) -> torch.Tensor:
    if not torch.is_tensor(x) or x.ndim != 1 or len(x) < 2:
        raise ValueError("x must be a 1-D tensor grid of at least 2 points")
    x = x.detach().to("cpu", torch.float64)
    if not (x.diff() > 0).all():
        raise ValueError("the grid x must be strictly increasing")
    return x


def optimal_discriminator(p_data: Density, p_g: Density,
                          x: torch.Tensor) -> torch.Tensor:
    r"""D*(x) = p_data(x) / (p_data(x) + p_g(x)); 1/2 where both are 0."""
    p, q = density(p_data, x), density(p_g, x)
    total = p + q
    # where neither density has mass, any D is optimal; 1/2 is the neutral
    # choice (and the equilibrium value)
    return torch.where(total > 0, p / total.clamp_min(1e-300),
                       torch.full_like(total, 0.5))


def jsd(p: Density, q: Density, x: torch.Tensor) -> torch.Tensor:
    r"""Jensen-Shannon divergence in nats by quadrature on the grid x.

    .. math:: \mathrm{JSD}(p\,\|\,q) = \tfrac12 \int p \log\frac{p}{m}
              + \tfrac12 \int q \log\frac{q}{m}, \quad m = \frac{p + q}{2}

    It lies in [0, log 2]: 0 for p = q, log 2 for disjoint supports.
    """
    x = _check_grid(x)
    pv, qv = density(p, x), density(q, x)
    m = 0.5 * (pv + qv)
    # xlogy(a, b) = a log b with 0 log 0 = 0, so disjoint tails are exact
    integrand = 0.5 * (torch.xlogy(pv, pv) - torch.xlogy(pv, m)
                       + torch.xlogy(qv, qv) - torch.xlogy(qv, m))
    return torch.trapezoid(integrand, x)


def value_at_optimum(p_data: Density, p_g: Density,
                     x: torch.Tensor) -> torch.Tensor:
    r"""V(D*_G, G) by quadrature, evaluating the game's value at D*.

    .. math:: V = \int p_{data} \log D^* + \int p_g \log(1 - D^*)

    The theorem says this equals :math:`-\log 4 + 2\,\mathrm{JSD}`.
    """
    x = _check_grid(x)
    p, q = density(p_data, x), density(p_g, x)
    d_star = optimal_discriminator(p_data, p_g, x)
    # 1 - D* = p_g / (p_data + p_g), computed as such: 1.0 - d_star would
    # round to 0 in the tails of p_g and turn p_g log(1 - D*) into -inf
    d_fake = optimal_discriminator(p_g, p_data, x)
    integrand = torch.xlogy(p, d_star) + torch.xlogy(q, d_fake)
    return torch.trapezoid(integrand, x)


def mass(p: Density, x: torch.Tensor) -> torch.Tensor:
    """The integral of p over the grid (about 1 if the grid is wide enough)."""
    x = _check_grid(x)
    return torch.trapezoid(density(p, x), x)
