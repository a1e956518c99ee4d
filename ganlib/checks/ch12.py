"""Checks of chapter 12's exercises: dynamics, divergences, distances."""

from __future__ import annotations

import functools
from typing import Callable

import torch

from ganlib import divergences, metrics
from ganlib.checks.harness import CheckFailed, check_function, forbid


def _pair(step: Callable) -> Callable:
    """step(...) -> (theta, psi) as one float64 tensor, for comparing."""
    @functools.wraps(step)
    def as_tensor(*args):
        out = step(*args)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise CheckFailed(
                f"\nDirac-GAN step: return two numbers, (theta, psi); got "
                f"{type(out).__name__} {out!r}.\n  hint:      end with "
                f"'return theta_new, psi_new'")
        return torch.tensor([float(v) for v in out], dtype=torch.float64)
    return as_tensor


def check_dirac_gan_step(student: Callable, *, hidden: bool = False) -> None:
    """Exercise: one simultaneous gradient descent-ascent step of the
    Dirac-GAN, minimax loss, R1 penalty (chapter 12)."""
    if hidden:
        cases = [(0.3, -0.7, 0.15, 0.0), (-2.0, -1.5, 0.3, 0.25),
                 (6.0, 5.0, 0.1, 0.0),  # psi theta = 30: D(G) is 1
                 (-6.0, 5.0, 0.1, 2.0),  # psi theta = -30: D(G) is 0
                 (0.8, 0.0, 0.5, 3.0), (1e-3, 2.0, 1.0, 0.1)]
    else:
        cases = [(1.0, 1.0, 0.1, 0.0), (0.5, -2.0, 0.2, 0.0),
                 (-1.5, 0.8, 0.05, 1.0), (3.0, 2.0, 0.1, 0.5),
                 (0.0, 0.0, 0.2, 1.0)]
    described = [(f"theta = {t}, psi = {p}, lr = {lr}, gamma = {g}",
                  (t, p, lr, g)) for t, p, lr, g in cases]
    check_function(
        "Dirac-GAN step", _pair(student), _pair(divergences.dirac_gan_step),
        described,
        hint="with s = sigmoid(psi * theta) = D(G(z)): dL_G/dtheta = "
             "-s psi and dL_D/dpsi = s theta + gamma psi; both players "
             "descend their own loss, and both gradients are taken at the "
             "old (theta, psi): compute them before updating either",
        atol=1e-6, rtol=1e-5, hidden=hidden)


def check_jsd_uniform(student: Callable, *, hidden: bool = False) -> None:
    """Exercise: the JSD of U[0, w] and U[d, d + w] in closed form
    (chapter 12)."""
    f64 = torch.float64
    if hidden:
        cases = [
            (0.1, torch.linspace(-0.3, 0.3, 13, dtype=f64)),
            (3.0, torch.tensor([-5.0, -3.0, 2.999, 0.0], dtype=f64)),
            (0.25, torch.tensor([0.05, 0.2, 0.25, 0.3, 1e6])),  # float32
        ]
    else:
        cases = [
            (1.0, torch.linspace(-2.0, 2.0, 9, dtype=f64)),
            (0.5, torch.tensor([0.0, 0.1, 0.25, 0.5, 3.0], dtype=f64)),
            (2.0, torch.tensor([1.0], dtype=f64)),
        ]
    described = [(f"width = {w}, shift = {d.tolist()}", (w, d))
                 for w, d in cases]
    check_function(
        "JSD of two uniforms", student, divergences.jsd_uniform, described,
        hint="split the line into the part where only p is positive, the "
             "overlap (p = q = m there) and the part where only q is; "
             "where only p is positive, m = p / 2; the shift may be "
             "negative, and once |d| >= w the supports are disjoint; "
             "answer in nats (natural log), one value per shift",
        atol=1e-6, rtol=1e-5, hidden=hidden)


def _samples(hidden: bool) -> list[tuple[str, tuple]]:
    if hidden:
        g = torch.Generator().manual_seed(1212)
        return [
            ("a: 64 draws of N(0, 1), b: 64 draws of U[-3, 3]",
             (torch.randn(64, generator=g),
              6 * torch.rand(64, generator=g) - 3)),
            ("a: 100 draws of N(1, 2^2), b: 37 draws of N(0, 0.5^2) "
             "(different sizes)",
             (1 + 2 * torch.randn(100, generator=g),
              0.5 * torch.randn(37, generator=g))),
            ("a = [2.0] (one point), b: 6 points",
             (torch.tensor([2.0]), torch.randn(6, generator=g))),
            ("a, b: 9 points each, a = b shuffled (W1 = 0)",
             (torch.arange(9.0), torch.arange(9.0).flip(0))),
            ("a: 12 float64 points, b: 4 float64 points",
             (torch.randn(12, generator=g, dtype=torch.float64),
              torch.randn(4, generator=g, dtype=torch.float64))),
        ]
    g = torch.Generator().manual_seed(12)
    return [
        ("a: 8 draws of N(0, 1), b: 8 draws of N(0, 3^2) (same mean)",
         (torch.randn(8, generator=g), 3 * torch.randn(8, generator=g))),
        ("a = [0, 1, 2, 3], b = [3, 2, 1, 0] (W1 = 0: the same points)",
         (torch.tensor([0.0, 1.0, 2.0, 3.0]),
          torch.tensor([3.0, 2.0, 1.0, 0.0]))),
        ("a = [5.0], b = [1.0] (one point each)",
         (torch.tensor([5.0]), torch.tensor([1.0]))),
        ("a = [0, 1, 1, 4] (a tie), b = [0.5, 2, 2.5, -1]",
         (torch.tensor([0.0, 1.0, 1.0, 4.0]),
          torch.tensor([0.5, 2.0, 2.5, -1.0]))),
        ("a: 3 points, b: 5 points (different sizes)",
         (torch.tensor([0.0, 2.0, 1.0]),
          torch.tensor([0.5, 3.0, -1.0, 1.5, 0.2]))),
    ]


def check_w1_sorted(student: Callable, *, hidden: bool = False) -> None:
    """Exercise: W1 between two 1-D samples, by sorting (chapter 12)."""
    name = "W1 by sorting"
    hint = ("sort both samples; for equal sizes, average |a_(i) - b_(i)| "
            "over the sorted pairs; for different sizes, merge the two "
            "samples, and on each gap between consecutive merged points "
            "add |F_a - F_b| times the gap's length, where F_a(x) is the "
            "share of a that is <= x (torch.searchsorted(a_sorted, x, "
            "right=True) / len(a)); return a 0-d tensor")
    reference = divergences.w1_sorted  # taken now: refused while theirs runs
    refused = [(divergences, "w1_sorted", "divergences.w1_sorted")]
    try:  # scipy comes with scikit-learn; without it there is none to refuse
        import scipy.stats
        refused.append((scipy.stats, "wasserstein_distance",
                        "scipy.stats.wasserstein_distance"))
    except ImportError:
        pass

    @functools.wraps(student)
    def guarded(*args):
        with forbid(name, refused, hint):
            return student(*args)

    check_function(name, guarded, reference, _samples(hidden), hint=hint,
                   atol=1e-5, rtol=1e-4, hidden=hidden)


def _normal_pdf(x: torch.Tensor, mu: float, sigma: float) -> torch.Tensor:
    """The N(mu, sigma^2) density at x, float64."""
    return divergences.normal_logpdf(x, mu, sigma).exp()


def check_lsgan_optimal_d(student: Callable, *,
                          hidden: bool = False) -> None:
    """Exercise: the optimal least-squares discriminator (chapter 12)."""
    f64 = torch.float64
    if hidden:
        g = torch.Generator().manual_seed(1213)
        cases = [
            ("p, q: 7 random positive densities, a = -1, b = 1",
             (torch.rand(7, generator=g, dtype=f64) + 0.01,
              torch.rand(7, generator=g, dtype=f64) + 0.01, -1.0, 1.0)),
            ("p = [0, 0.2, 1], q = [0.5, 0.2, 0] (one density 0), a = 2, "
             "b = 5", (torch.tensor([0.0, 0.2, 1.0], dtype=f64),
                       torch.tensor([0.5, 0.2, 0.0], dtype=f64), 2.0, 5.0)),
            ("p, q: (3, 4) grids of densities, a = 1, b = -1 (labels "
             "swapped)", (torch.rand(3, 4, generator=g, dtype=f64) + 0.1,
                          torch.rand(3, 4, generator=g, dtype=f64) + 0.1,
                          1.0, -1.0)),
        ]
    else:
        x = torch.linspace(-2.0, 3.0, 11, dtype=f64)
        p = _normal_pdf(x, 0.0, 1.0)
        q = _normal_pdf(x, 1.0, 1.5)
        cases = [
            ("p = N(0, 1), q = N(1, 1.5^2) on linspace(-2, 3, 11), a = -1, "
             "b = 1", (p, q, -1.0, 1.0)),
            ("the same densities, a = 0, b = 1", (p, q, 0.0, 1.0)),
            ("p = q = [0.3, 1.2], a = -1, b = 1 (D* is the midpoint)",
             (torch.tensor([0.3, 1.2], dtype=f64),
              torch.tensor([0.3, 1.2], dtype=f64), -1.0, 1.0)),
            ("p = [1.0], q = [3.0], a = 0.5, b = 2",
             (torch.tensor([1.0], dtype=f64),
              torch.tensor([3.0], dtype=f64), 0.5, 2.0)),
        ]
    check_function(
        "optimal least-squares D", student, divergences.lsgan_optimal_d,
        cases,
        hint="point by point, D minimises p (D - b)^2 / 2 + q (D - a)^2 / 2 "
             "(b: the real label, a: the fake label); set its derivative "
             "in D to 0",
        atol=1e-6, rtol=1e-5, hidden=hidden)


def _spd(d: int, g: torch.Generator, floor: float = 0.1) -> torch.Tensor:
    """A random symmetric positive definite (d, d) matrix, float64."""
    a = torch.randn(d, d, generator=g, dtype=torch.float64)
    return a @ a.T + floor * torch.eye(d, dtype=torch.float64)


def check_frechet_gaussians(student: Callable, *,
                            hidden: bool = False) -> None:
    """Exercise: the Frechet distance (squared W2) of two Gaussians
    (chapter 12)."""
    f64 = torch.float64
    if hidden:
        g = torch.Generator().manual_seed(1214)
        low_rank = torch.randn(6, 2, generator=g, dtype=f64)
        cov_4 = _spd(4, g, 1.0)
        cases = [
            ("d = 5, random means and covariances",
             (torch.randn(5, generator=g, dtype=f64), _spd(5, g),
              torch.randn(5, generator=g, dtype=f64), _spd(5, g))),
            ("d = 6, cov_a of rank 2 (singular), cov_b random",
             (torch.zeros(6, dtype=f64), low_rank @ low_rank.T,
              torch.ones(6, dtype=f64), _spd(6, g))),
            ("d = 4, the same Gaussian twice (distance 0)",
             (torch.arange(4.0, dtype=f64), cov_4,
              torch.arange(4.0, dtype=f64), cov_4.clone())),
        ]
    else:
        g = torch.Generator().manual_seed(121)
        cases = [
            ("d = 1: N(1, 2^2) and N(-0.5, 0.5^2)",
             (torch.tensor([1.0], dtype=f64), torch.tensor([[4.0]],
                                                           dtype=f64),
              torch.tensor([-0.5], dtype=f64),
              torch.tensor([[0.25]], dtype=f64))),
            ("d = 2, diagonal covariances",
             (torch.tensor([0.0, 1.0], dtype=f64),
              torch.diag(torch.tensor([1.0, 4.0], dtype=f64)),
              torch.tensor([1.0, 1.0], dtype=f64),
              torch.diag(torch.tensor([9.0, 1.0], dtype=f64)))),
            ("d = 3, covariances that do not commute",
             (torch.randn(3, generator=g, dtype=f64), _spd(3, g),
              torch.randn(3, generator=g, dtype=f64), _spd(3, g))),
        ]
    name = "Frechet distance of two Gaussians"
    hint = ("||mu_a - mu_b||^2 + tr(cov_a) + tr(cov_b) - 2 tr((cov_a "
            "cov_b)^(1/2)); the last trace is the sum of the square roots "
            "of the eigenvalues of the matrix product cov_a @ cov_b "
            "(torch.linalg.eigvals returns them as complex numbers: take "
            ".real, and clamp tiny negative rounding errors to 0), not of "
            "its entries; return a 0-d tensor")
    reference = divergences.frechet_gaussians

    @functools.wraps(student)
    def guarded(*args):
        with forbid(name, [(metrics, "frechet_distance",
                            "metrics.frechet_distance"),
                           (divergences, "frechet_gaussians",
                            "divergences.frechet_gaussians")], hint):
            return student(*args)

    check_function(name, guarded, reference, cases, hint=hint, atol=1e-6,
                   rtol=1e-5, hidden=hidden)
