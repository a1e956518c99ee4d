"""Automatic checks for the book's exercises.

Each check runs a student's function against the reference on random and
edge-case inputs and, on a mismatch, explains in plain words what was
expected, what came back, and gives a hint. A check prints one line when
it passes and raises :class:`CheckFailed` (an ``AssertionError``, so
nbgrader and pytest count it as a failed test) when it does not.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import torch

from ganlib import data, losses


class CheckFailed(AssertionError):
    """An exercise check failed; the message says why and how to fix it."""


def _describe(value: Any) -> str:
    if torch.is_tensor(value):
        if value.numel() <= 6:
            return f"tensor {value.detach().cpu().tolist()} " \
                   f"(shape {tuple(value.shape)})"
        return f"a tensor of shape {tuple(value.shape)}, dtype {value.dtype}"
    return repr(value)


def fail(name: str, case: str, expected: Any, got: Any, hint: str) -> None:
    """Raise :class:`CheckFailed` with the book's standard explanation."""
    raise CheckFailed(
        f"\n{name}: not yet right.\n"
        f"  on input:  {case}\n"
        f"  expected:  {_describe(expected)}\n"
        f"  got:       {_describe(got)}\n"
        f"  hint:      {hint}"
    )


def close(got: Any, expected: Any, atol: float = 1e-5,
          rtol: float = 1e-4) -> bool:
    """True when got matches expected in type, shape and value."""
    if torch.is_tensor(expected):
        if not torch.is_tensor(got) or got.shape != expected.shape:
            return False
        return bool(torch.allclose(got.detach().double().cpu(),
                                   expected.detach().double().cpu(),
                                   atol=atol, rtol=rtol, equal_nan=True))
    try:
        return math.isclose(float(got), float(expected), abs_tol=atol,
                            rel_tol=rtol)
    except (TypeError, ValueError):
        return got == expected


def check_function(name: str, student: Callable, reference: Callable,
                   cases: Sequence[tuple[str, tuple]], hint: str,
                   atol: float = 1e-5, rtol: float = 1e-4) -> None:
    """Compare ``student(*args)`` with ``reference(*args)`` on every case.

    ``cases`` are ``(description, args)`` pairs; the description is what
    a failure message shows as the input.
    """
    for description, args in cases:
        expected = reference(*args)
        try:
            got = student(*args)
        except NotImplementedError:
            raise CheckFailed(f"\n{name}: the exercise is not done yet "
                              "(it still raises NotImplementedError). "
                              f"Hint: {hint}") from None
        except Exception as err:  # show the student's error in context
            raise CheckFailed(f"\n{name}: your function raised "
                              f"{type(err).__name__}: {err}\n"
                              f"  on input:  {description}\n"
                              f"  hint:      {hint}") from None
        if not close(got, expected, atol, rtol):
            fail(name, description, expected, got, hint)
    print(f"{name}: all {len(cases)} checks passed.")


# ------------------------------------------------------- chapter 4: theory

from ganlib import theory as _theory  # noqa: E402


def _logit_cases() -> list[tuple[str, tuple]]:
    g = torch.Generator().manual_seed(4)
    return [
        ("real_out = fake_out = zeros(4) (D = 1/2 everywhere)",
         (torch.zeros(4), torch.zeros(4))),
        ("random logits, batch of 8",
         (torch.randn(8, generator=g), torch.randn(8, generator=g))),
        ("confident logits +-30 (D close to 0 or 1)",
         (torch.tensor([30.0, -30.0]), torch.tensor([-30.0, 30.0]))),
        ("a batch of one", (torch.tensor([1.5]), torch.tensor([-0.5]))),
        ("3 real and 5 fake logits (batches of different sizes)",
         (torch.randn(3, generator=g), torch.randn(5, generator=g))),
    ]


def check_d_loss(student: Callable) -> None:
    """Exercise: the discriminator loss on logits (chapter 4)."""
    check_function(
        "discriminator loss", student, losses.d_loss, _logit_cases(),
        hint="L_D = -mean(log D(x_real)) - mean(log(1 - D(x_fake))) with "
             "D = sigmoid(logit); use F.softplus so that logits of +-30 do "
             "not give log(0), and average each term over its own batch")


def _density_pairs() -> list[tuple[str, Any, Any]]:
    normal = data.gaussian_1d(0.0, 1.0)
    return [
        ("p_data = N(0, 1), p_g = N(2, 0.5^2)", normal,
         data.gaussian_1d(2.0, 0.5)),
        ("p_g = p_data = N(0, 1) (the equilibrium)", normal, normal),
        ("p_data = mixture of N(-2, 0.5^2) and N(2, 0.5^2), p_g = N(0, 1.5^2)",
         data.mixture_1d([-2.0, 2.0], [0.5, 0.5]),
         data.gaussian_1d(0.0, 1.5)),
    ]


def check_optimal_discriminator(student: Callable) -> None:
    """Exercise: D*(x) = p_data(x) / (p_data(x) + p_g(x)) (chapter 4)."""
    x = torch.linspace(-3, 4, 15)
    cases = [(f"{name}, x = linspace(-3, 4, 15)", (p, q, x))
             for name, p, q in _density_pairs()]
    reference = lambda p, q, x: p.pdf(x) / (p.pdf(x) + q.pdf(x))  # noqa
    check_function("optimal discriminator", student, reference, cases,
                   hint="use the densities p_data.pdf(x) and p_g.pdf(x); "
                        "D* weighs how much of the density at x is real",
                   atol=1e-5)


def check_jsd(student: Callable) -> None:
    """Exercise: the Jensen-Shannon divergence by quadrature (chapter 4)."""
    x = _theory.grid(-15.0, 15.0, 3001)
    pairs = _density_pairs() + [
        ("p = N(-8, 0.5^2), q = N(8, 0.5^2) (no overlap: JSD = log 2)",
         data.gaussian_1d(-8.0, 0.5), data.gaussian_1d(8.0, 0.5))]
    cases = [(f"{name}, x = grid(-15, 15, 3001)", (p, q, x))
             for name, p, q in pairs]
    check_function("Jensen-Shannon divergence", student, _theory.jsd, cases,
                   hint="with m = (p + q) / 2, integrate "
                        "(p log(p / m) + q log(q / m)) / 2 over x with "
                        "torch.trapezoid, in nats (natural log); a term "
                        "with p = 0 is 0, and where p = m = 0 the ratio "
                        "p / m is 0/0 = nan, so write p log(p / m) as "
                        "torch.xlogy(p, p) - torch.xlogy(p, m); work in "
                        "float64 (p.pdf(x).double()): in float32 m = "
                        "(p + q) / 2 can round to 0 where p is tiny",
                   atol=1e-4, rtol=1e-3)


# ---- chapter 3: deep reconstructions

from ganlib import inversion as _inversion  # noqa: E402


def _tv_cases() -> list[tuple[str, tuple]]:
    g = torch.Generator().manual_seed(3)
    tiny = torch.tensor([[[[0.0, 1.0], [2.0, 4.0]]]])  # (1, 1, 2, 2)
    small = torch.tensor([[[[0.0, 1.0, 3.0], [1.0, 1.0, 1.0],
                            [0.0, 0.0, 2.0]]]])  # (1, 1, 3, 3)
    return [
        ("the 2x2 image [[0, 1], [2, 4]], beta = 2", (tiny, 2.0)),
        ("the 3x3 image [[0, 1, 3], [1, 1, 1], [0, 0, 2]], beta = 2",
         (small, 2.0)),
        ("a constant image (no edges at all), beta = 2",
         (torch.full((2, 1, 5, 5), 0.3), 2.0)),
        ("random batch (4, 1, 8, 8), beta = 2",
         (torch.randn(4, 1, 8, 8, generator=g), 2.0)),
        ("random non-square, 3 channels (2, 3, 5, 7), beta = 2",
         (torch.randn(2, 3, 5, 7, generator=g), 2.0)),
        ("random batch (3, 1, 6, 6), beta = 1",
         (torch.randn(3, 1, 6, 6, generator=g), 1.0)),
    ]


def check_tv_loss(student: Callable) -> None:
    """Exercise: the total-variation regulariser (chapter 3)."""
    check_function(
        "total variation", student,
        lambda x, beta: _inversion.tv_loss(x, beta), _tv_cases(),
        hint="take dx = x[..., :-1, 1:] - x[..., :-1, :-1] and dy = "
             "x[..., 1:, :-1] - x[..., :-1, :-1] (the pixels that have both "
             "neighbours), raise dx^2 + dy^2 to the power beta/2, average "
             "over channels and pixels, then over the batch", atol=1e-5)


def _masked_cases() -> list[tuple[str, tuple]]:
    g = torch.Generator().manual_seed(33)

    def pair(*shape):
        return (torch.randn(*shape, generator=g),
                torch.randn(*shape, generator=g))

    f, f0 = pair(2, 4, 9, 9)
    loud = f0.clone()
    loud[..., 0, 0] = 50.0  # a loud neuron outside the window
    return [
        ("random features (2, 4, 9, 9), a 5x5 window", (*pair(2, 4, 9, 9), 5)),
        ("an even map (2, 3, 8, 8), a 5x5 window (rows and columns 1..5)",
         (*pair(2, 3, 8, 8), 5)),
        ("a window as large as the map (1, 2, 5, 5), size 5",
         (*pair(1, 2, 5, 5), 5)),
        ("a single neuron: (3, 2, 7, 7), size 1", (*pair(3, 2, 7, 7), 1)),
        ("a target with a loud neuron outside the window: (2, 4, 9, 9), 5",
         (f, loud, 5)),
    ]


def check_masked_feature_loss(student: Callable) -> None:
    """Exercise: the feature loss on a central window of neurons (ch. 3)."""
    def reference(f, f0, size):
        mask = _inversion.center_mask(f.shape, size)
        return _inversion.feature_loss(f, f0, mask)

    check_function(
        "masked feature loss", student, reference, _masked_cases(),
        hint="the window covers rows top = (H - size) // 2 to top + size "
             "(columns alike) of every channel; sum (f - f0)^2 and f0^2 over "
             "the window only, divide per image, then average over the batch",
        atol=1e-5)


# ---- chapter 6: DCGAN and the latent space


def check_slerp(student: Callable) -> None:
    """Exercise: spherical interpolation between two codes (chapter 6)."""
    from ganlib import latent

    g = torch.Generator().manual_seed(6)
    z0, z1 = torch.randn(16, generator=g), torch.randn(16, generator=g)
    e1, e2 = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    cases = [
        ("z0 = (1, 0), z1 = (0, 1), t = linspace(0, 1, 5)",
         (e1, e2, torch.linspace(0, 1, 5))),
        ("random codes in 16-d, t = linspace(0, 1, 7)",
         (z0, z1, torch.linspace(0, 1, 7))),
        ("codes of different norms (z1 three times longer), t = [0.3]",
         (z0, 3 * z1, torch.tensor([0.3]))),
        ("t = [0, 1] (the path must start at z0 and end at z1)",
         (z0, z1, torch.tensor([0.0, 1.0]))),
        ("z1 = 2 * z0 (parallel codes: the angle is 0)",
         (z0, 2 * z0, torch.tensor([0.0, 0.5, 1.0]))),
    ]
    check_function(
        "slerp", student, lambda a, b, t: latent.slerp(a, b, t), cases,
        hint="Omega = arccos(z0.z1 / (|z0| |z1|)) (clamp the cosine to "
             "[-1, 1]); weights sin((1-t) Omega) / sin Omega and "
             "sin(t Omega) / sin Omega; return shape (T, d) with "
             "t[:, None]; where sin Omega is ~0 fall back to lerp",
        atol=1e-4)


def check_attribute_direction(student: Callable) -> None:
    """Exercise: an attribute direction from scored codes (chapter 6)."""
    from ganlib import latent

    g = torch.Generator().manual_seed(66)
    z = torch.tensor([[0.0, 1.0], [2.0, 0.0], [4.0, 1.0], [6.0, 3.0]])
    s = torch.tensor([3.0, 1.0, 0.0, 2.0])
    z_big = torch.randn(100, 8, generator=g)
    cases = [
        ("4 codes in 2-d, scores [3, 1, 0, 2], frac = 0.5", (z, s, 0.5)),
        ("the same, frac = 0.1 (n = max(1, int(0.4)) = 1)", (z, s, 0.1)),
        ("100 random codes in 8-d, scores = z[:, 0] + noise, frac = 0.1",
         (z_big, z_big[:, 0] + 0.1 * torch.randn(100, generator=g), 0.1)),
        ("7 random codes, frac = 0.5 (n = int(3.5) = 3)",
         (z_big[:7], torch.randn(7, generator=g), 0.5)),
    ]
    check_function(
        "attribute direction", student, latent.attribute_direction, cases,
        hint="sort the samples by score (argsort); take n = max(1, "
             "int(frac * N)); return mean(z of the n highest) minus "
             "mean(z of the n lowest), a vector of shape (d,)")


# ---- chapter 7: conditional GAN


def _confusion_matrix_ref(requested: torch.Tensor, predicted: torch.Tensor,
                          n_classes: int = 10) -> torch.Tensor:
    counts = torch.bincount(requested * n_classes + predicted,
                            minlength=n_classes * n_classes).float()
    counts = counts.view(n_classes, n_classes)  # (requested, predicted)
    return counts / counts.sum(1, keepdim=True).clamp(min=1)


def check_confusion_matrix(student: Callable) -> None:
    """Exercise: the row-normalised confusion matrix of a cGAN (chapter 7)."""
    g = torch.Generator().manual_seed(7)
    req = torch.randint(0, 10, (200,), generator=g)
    noisy = torch.where(torch.rand(200, generator=g) < 0.8, req,
                        torch.randint(0, 10, (200,), generator=g))
    cases = [
        ("3 classes, requested [0, 0, 1, 2], predicted [0, 1, 1, 1]",
         (torch.tensor([0, 0, 1, 2]), torch.tensor([0, 1, 1, 1]), 3)),
        ("200 samples, 10 classes, about 80% classified as requested",
         (req, noisy, 10)),
        ("class 2 never requested (its row must be zeros)",
         (torch.tensor([0, 1, 1]), torch.tensor([1, 1, 2]), 3)),
    ]
    check_function(
        "confusion matrix", student, _confusion_matrix_ref, cases,
        hint="entry [i, j] = (number of samples requested as class i and "
             "classified as j) / (number of samples requested as i); rows "
             "are requested classes, a row with no samples stays zero")


def _label_maps_ref(x: torch.Tensor, y: torch.Tensor,
                    n_classes: int) -> torch.Tensor:
    maps = torch.nn.functional.one_hot(y, n_classes).to(x.dtype)  # (B, K)
    maps = maps[:, :, None, None].expand(-1, -1, *x.shape[2:])
    return torch.cat([x, maps], dim=1)  # (B, C + K, H, W)


def check_label_maps(student: Callable) -> None:
    """Exercise: conditioning D on one-hot label planes (chapter 7)."""
    g = torch.Generator().manual_seed(77)
    cases = [
        ("x of shape (2, 1, 3, 3), y = [0, 2], 3 classes",
         (torch.randn(2, 1, 3, 3, generator=g), torch.tensor([0, 2]), 3)),
        ("x of shape (5, 1, 28, 28), random labels, 10 classes",
         (torch.randn(5, 1, 28, 28, generator=g),
          torch.randint(0, 10, (5,), generator=g), 10)),
        ("two-channel x of shape (3, 2, 4, 4), y = [1, 1, 0], 2 classes",
         (torch.randn(3, 2, 4, 4, generator=g), torch.tensor([1, 1, 0]), 2)),
    ]
    check_function(
        "label maps", student, _label_maps_ref, cases,
        hint="make one plane per class, all ones for the sample's own class "
             "and zeros otherwise (F.one_hot, then expand to H x W), and "
             "concatenate them AFTER the image channels along dim=1")


# ------------------------------------------- chapter 5: GANs in one dimension


def _mixture_samples(means, stds, weights, n, seed):
    """Samples of a 1-D mixture drawn with a private generator, shape (n,)."""
    g = torch.Generator().manual_seed(seed)
    comp = torch.multinomial(torch.tensor(weights), n, replacement=True,
                             generator=g)
    noise = torch.randn(n, generator=g)
    return torch.tensor(means)[comp] + torch.tensor(stds)[comp] * noise


def check_mass_per_mode(student: Callable) -> None:
    """Exercise: the fraction of samples nearest to each mode (chapter 5)."""
    from ganlib import oned

    balanced = _mixture_samples([-1.0, 4.0], [0.5, 0.5], [0.5, 0.5], 2000, 5)
    skewed = _mixture_samples([-1.0, 4.0], [1.0, 1.0], [0.8, 0.2], 2000, 6)
    three = _mixture_samples([5.0, -3.0, 0.0], [0.7, 0.7, 0.7],
                             [0.2, 0.5, 0.3], 3000, 7)
    cases = [
        ("2,000 samples, 50/50 mixture, modes at -1 and 4",
         (balanced, [-1.0, 4.0])),
        ("2,000 samples, 80/20 mixture, wide modes at -1 and 4 (their "
         "midpoint is 1.5, not 0)", (skewed, [-1.0, 4.0])),
        ("three modes given in unsorted order [5, -3, 0]",
         (three, [5.0, -3.0, 0.0])),
        ("every sample near 3.9 (a collapsed G: the mode at -1 gets 0)",
         (torch.full((50,), 3.9), [-1.0, 4.0])),
        ("samples of shape (n, 1), as a generator returns them",
         (balanced[:, None], [-1.0, 4.0])),
    ]
    check_function(
        "mass per mode", student, oned.mass_per_mode, cases,
        hint="give each sample to the mode centre it is closest to "
             "(argmin of |x - mean|), count per mode with torch.bincount("
             "..., minlength=K) and divide by the number of samples; return "
             "a float tensor of shape (K,) in the order of `means`")


def check_linear_g_params(student: Callable) -> None:
    """Exercise: mu and sigma of a linear generator's output (chapter 5)."""
    from ganlib import models

    def make(weights, bias):
        G = models.MLPGenerator(len(weights), 1, hidden=())
        with torch.no_grad():
            G.net[0].weight.copy_(torch.tensor([weights]))
            G.net[0].bias.fill_(bias)
        return G

    def reference(G):
        layer = G.net[0]
        return torch.tensor([layer.bias.item(), layer.weight.norm().item()])

    def as_tensor(G):
        mu, sigma = student(G)
        return torch.tensor([float(mu), float(sigma)])

    cases = [
        ("x = 0.5 z + 4 (latent_dim 1)", (make([0.5], 4.0),)),
        ("x = -0.7 z + 2 (a negative weight)", (make([-0.7], 2.0),)),
        ("x = 0.3 z1 - 0.4 z2 + 1.2 z3 - 1 (latent_dim 3)",
         (make([0.3, -0.4, 1.2], -1.0),)),
        ("x = 0 z + 3 (all weights zero: a point mass)", (make([0.0], 3.0),)),
    ]
    check_function(
        "linear generator mu and sigma", as_tensor, reference, cases,
        hint="x = w . z + b with z ~ N(0, I): the mean is b and the variance "
             "is sum_i w_i^2 (independent z_i), so sigma = the Euclidean "
             "norm of w, never negative; read w and b from G.net[0]")


# ---- chapter 9: ALI / BiGAN


class _PairProbe(torch.nn.Module):
    """A fixed toy D(x, z) whose output depends on how x and z are paired."""

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        d = z.shape[1]
        return (x.flatten(1)[:, :d] * z).sum(1) + 0.3 * z[:, 0] - \
            0.2 * x.flatten(1).mean(1)


def _pair_cases() -> list[tuple[str, tuple]]:
    g = torch.Generator().manual_seed(9)
    D = _PairProbe()
    cases = []
    for b, d in ((4, 3), (1, 2), (16, 8)):
        x_real = torch.randn(b, 1, 28, 28, generator=g)
        x_fake = torch.randn(b, 1, 28, 28, generator=g)
        z_enc = torch.randn(b, d, generator=g)
        z = torch.randn(b, d, generator=g)
        cases.append((f"batch of {b}, latent_dim {d}, a toy D(x, z)",
                      (D, x_real, z_enc, x_fake, z)))
    big = torch.full((2, 1, 28, 28), 3.0)
    cases.append(("confident D (logits near +-30)",
                  (D, big, torch.full((2, 4), 2.5), -big,
                   torch.full((2, 4), 2.5))))
    cases.append(("confidently wrong D (logits near -+50)",
                  (D, -big * 5 / 3, torch.full((2, 4), 2.5), big * 5 / 3,
                   torch.full((2, 4), 2.5))))
    return cases


def check_bigan_d_loss(student: Callable) -> None:
    """Exercise: the BiGAN discriminator loss on (x, z) pairs (chapter 9)."""
    from ganlib import bigan

    check_function(
        "BiGAN discriminator loss", student, bigan.d_loss_pairs,
        _pair_cases(),
        hint="real pairs are (x_real, z_enc) with label 1, fake pairs are "
             "(x_fake, z) with label 0: never pair data with the prior "
             "noise; L_D = mean(softplus(-D(x_real, z_enc))) + "
             "mean(softplus(D(x_fake, z)))")


def check_bigan_eg_loss(student: Callable) -> None:
    """Exercise: the non-saturating loss of E and G (chapter 9)."""
    from ganlib import bigan

    check_function(
        "BiGAN encoder-generator loss", student, bigan.eg_loss_pairs,
        _pair_cases(),
        hint="E and G want D to call (x_real, E(x_real)) fake and "
             "(G(z), z) real: swap the labels of the D loss, "
             "mean(softplus(D(x_real, z_enc))) + "
             "mean(softplus(-D(x_fake, z)))")


# ---- chapter 10: semi-supervised learning


def _semisup_cases() -> list[tuple[str, tuple]]:
    g = torch.Generator().manual_seed(10)
    cases = []
    for b, k in ((5, 10), (1, 3), (32, 10)):
        cases.append((f"random logits, batch {b}, K = {k}",
                      (torch.randn(b, k, generator=g) * 2,
                       torch.randint(k, (b,), generator=g),
                       torch.randn(b, k, generator=g) * 2,
                       torch.randn(b, k, generator=g) * 2)))
    big = torch.tensor([[100.0, 0.0, -100.0], [-100.0, 100.0, 0.0]])
    cases.append(("huge logits +-100 (exp overflows in float32)",
                  (big, torch.tensor([0, 1]), big, -big)))
    return cases


def check_d_prob_real(student: Callable) -> None:
    """Exercise: D(x) = Z / (Z + 1) from K class logits (chapter 10)."""
    from ganlib import semisup

    cases = [(d, (a[0],)) for d, a in _semisup_cases()]
    cases.append(("all logits -100 (Z tiny: D close to 0)",
                  (torch.full((2, 10), -100.0),)))
    check_function(
        "D(x) from K logits", student, semisup.d_prob_real, cases,
        hint="Z = sum_k exp(l_k) and D = Z / (Z + 1) = sigmoid(log Z); "
             "compute log Z with torch.logsumexp(logits, dim=1) so that "
             "large logits do not overflow")


def check_semisup_d_loss(student: Callable) -> None:
    """Exercise: the (K+1)-class discriminator loss (chapter 10)."""
    from ganlib import semisup

    check_function(
        "K+1-class discriminator loss", student, semisup.d_loss_semisup,
        _semisup_cases(),
        hint="supervised: cross-entropy of the labelled logits; "
             "unsupervised: 0.5 * (-mean(log D(x_unl)) - mean(log(1 - "
             "D(G(z))))) with log D = lse - softplus(lse), log(1 - D) = "
             "-softplus(lse), lse = logsumexp over the K logits; add the two")


# ---- chapter 11: applications


def _patch_cases() -> list[tuple[str, tuple]]:
    g = torch.Generator().manual_seed(11)
    return [
        ("random 7x7 logit maps, batch 3",
         (torch.randn(3, 1, 7, 7, generator=g),
          torch.randn(3, 1, 7, 7, generator=g))),
        ("a batch of one 1x1 map (an image-level D)",
         (torch.tensor([[[[2.0]]]]), torch.tensor([[[[-1.0]]]]))),
        ("confident maps +-30",
         (torch.full((2, 1, 4, 4), 30.0), torch.full((2, 1, 4, 4), -30.0))),
        ("non-square maps 3x5 with one wrong patch",
         (torch.cat([torch.full((1, 1, 3, 5), 4.0)]),
          torch.zeros(1, 1, 3, 5).index_fill_(3, torch.tensor([2]), 5.0))),
    ]


def check_patch_d_loss(student: Callable) -> None:
    """Exercise: the PatchGAN discriminator loss (chapter 11)."""
    from ganlib import pix2pix

    check_function(
        "PatchGAN discriminator loss", student, pix2pix.patch_d_loss,
        _patch_cases(),
        hint="every patch logit is its own real/fake decision: apply "
             "binary cross-entropy to each entry of the (B, 1, H, W) maps "
             "and average over all of them (batch and patches), e.g. "
             "softplus(-real_map).mean() + softplus(fake_map).mean()")


def check_pix2pix_g_loss(student: Callable) -> None:
    """Exercise: the pix2pix generator loss, adversarial + L1 (chapter 11)."""
    from ganlib import pix2pix

    g = torch.Generator().manual_seed(111)
    cases = []
    for b, w in ((2, 100.0), (1, 1.0), (4, 0.0)):
        cases.append((f"batch {b}, l1_weight = {w}",
                      (torch.randn(b, 1, 7, 7, generator=g),
                       torch.rand(b, 1, 28, 28, generator=g) * 2 - 1,
                       torch.rand(b, 1, 28, 28, generator=g) * 2 - 1, w)))
    b_real = torch.zeros(1, 1, 28, 28)
    b_fake = b_real.clone()
    b_fake[0, 0, 0, 0] = 2.0  # one pixel off by 2: L1 and MSE differ
    cases.append(("one pixel off by 2, l1_weight = 10",
                  (torch.zeros(1, 1, 7, 7), b_fake, b_real, 10.0)))
    check_function(
        "pix2pix generator loss", student, pix2pix.pix2pix_g_loss, cases,
        hint="non-saturating adversarial term softplus(-fake_map).mean() "
             "plus l1_weight times the MEAN ABSOLUTE error "
             "(b_fake - b_real).abs().mean(), not the squared error")


# ---- chapters 1 and 2: generative modelling and autoencoders


def _reference_posterior(joint: torch.Tensor) -> torch.Tensor:
    return joint / joint.sum(dim=1, keepdim=True)


def check_posterior(student: Callable) -> None:
    """Exercise: P(y | x) from a joint table or counts by Bayes' rule (ch. 1)."""
    g = torch.Generator().manual_seed(1)
    table = torch.rand(4, 3, generator=g)
    cases = [
        ("a 4x3 joint table that sums to 1", (table / table.sum(),)),
        ("raw counts [[30, 10], [5, 55]] (not normalised)",
         (torch.tensor([[30.0, 10.0], [5.0, 55.0]]),)),
        ("a row with a single non-zero entry [[0, 2, 0], [1, 1, 2]]",
         (torch.tensor([[0.0, 2.0, 0.0], [1.0, 1.0, 2.0]]),)),
        ("one feature value, five labels (a 1x5 table)",
         (torch.tensor([[1.0, 2.0, 3.0, 4.0, 0.0]]),)),
    ]
    check_function(
        "posterior P(y | x)", student, _reference_posterior, cases,
        hint="P(y | x) = P(x, y) / P(x), and P(x) is the sum of the joint "
             "over the labels, i.e. over each row (dim=1, keepdim=True); "
             "dividing by the column sums gives P(x | y) instead")


def _affine_theta(angle: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """The chapter 1 transform: (1/s) [[cos, sin, 0], [-sin, cos, 0]]."""
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    zero = torch.zeros_like(angle)
    return torch.stack([torch.stack([cos, sin, zero], dim=-1),
                        torch.stack([-sin, cos, zero], dim=-1)], dim=-2)


def check_transform_params(student: Callable) -> None:
    """Exercise: recover (angle, scale) from affine_theta's matrix (ch. 1)."""
    def stacked(fn):
        def run(theta):
            out = fn(theta)
            if not (isinstance(out, (tuple, list)) and len(out) == 2):
                raise TypeError("return a pair (angle, scale), got "
                                f"{type(out).__name__}")
            return torch.stack([torch.as_tensor(v) for v in out])
        return run

    def reference(theta):
        a, b = theta[:, 0, 0], theta[:, 0, 1]
        return torch.atan2(b, a), 1 / torch.sqrt(a**2 + b**2)

    g = torch.Generator().manual_seed(2)
    angle = (torch.rand(6, generator=g) * 2 - 1) * math.pi * 0.95
    scale = 0.5 + 1.5 * torch.rand(6, generator=g)
    deg = torch.deg2rad
    cases = [
        ("the identity (angle 0, scale 1)",
         (_affine_theta(torch.zeros(1), torch.ones(1)),)),
        ("angles 30 and -30 degrees at scales 0.8 and 1.25",
         (_affine_theta(deg(torch.tensor([30.0, -30.0])),
                        torch.tensor([0.8, 1.25])),)),
        ("turns past 90 degrees: 120, -150, 179 degrees at scale 2",
         (_affine_theta(deg(torch.tensor([120.0, -150.0, 179.0])),
                        torch.full((3,), 2.0)),)),
        ("six random angles in (-171, 171) degrees, scales in [0.5, 2]",
         (_affine_theta(angle, scale),)),
    ]
    check_function(
        "transform parameters", stacked(student), stacked(reference), cases,
        hint="theta[:, 0, 0] = cos(a)/s and theta[:, 0, 1] = sin(a)/s; the "
             "scale is 1 / sqrt(theta00^2 + theta01^2) (theta shrinks when "
             "the digit grows) and the angle is atan2(theta01, theta00), "
             "which, unlike atan, keeps turns beyond 90 degrees")


def _reference_pca_reconstruct(x: torch.Tensor, mean: torch.Tensor,
                               components: torch.Tensor) -> torch.Tensor:
    return mean + (x - mean) @ components.T @ components


def check_pca_reconstruct(student: Callable) -> None:
    """Exercise: project onto k principal components and back (ch. 2)."""
    g = torch.Generator().manual_seed(3)
    x = torch.randn(20, 6, generator=g) * 2 + 3
    mean = x.mean(0)
    _, _, vt = torch.linalg.svd(x - mean, full_matrices=False)
    cases = [
        ("20 points in 6-D, k = 2 components, non-zero mean",
         (x, mean, vt[:2])),
        ("the same points, k = 1", (x, mean, vt[:1])),
        ("all k = 6 components (the reconstruction is exact)",
         (x, mean, vt)),
        ("k = 0 components (shape (0, 6)): every point becomes the mean",
         (x, mean, vt[:0])),
        ("a single point", (x[:1], mean, vt[:3])),
    ]
    check_function(
        "PCA reconstruction", student, _reference_pca_reconstruct, cases,
        hint="centre first (x - mean), take the codes z = (x - mean) @ "
             "components.T of shape (N, k), map back with z @ components "
             "and add the mean again", atol=1e-4)


def check_kl_to_prior(student: Callable) -> None:
    """Exercise: KL(N(mu, sigma^2) || N(0, I)) of a VAE encoder (ch. 2)."""
    from ganlib import autoencoders  # imported here: only chapter 2 needs it

    g = torch.Generator().manual_seed(4)
    cases = [
        ("mu = 0, logvar = 0 (the prior itself: KL = 0)",
         (torch.zeros(3, 2), torch.zeros(3, 2))),
        ("mu = [[1, 0]], logvar = [[0, 1]] (KL = (e - 1) / 2)",
         (torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]]))),
        ("random mu and logvar, batch 8, 4 latent dims",
         (torch.randn(8, 4, generator=g), torch.randn(8, 4, generator=g))),
        ("a very narrow posterior, logvar = -8",
         (torch.zeros(2, 3), torch.full((2, 3), -8.0))),
    ]
    check_function(
        "KL to the prior", student, autoencoders.kl_divergence, cases,
        hint="KL = 1/2 sum_j (mu_j^2 + sigma_j^2 - log sigma_j^2 - 1) with "
             "sigma^2 = exp(logvar): SUM over the latent dimensions, then "
             "MEAN over the batch")


# ---- chapter 8: training tricks


def _ch8_coverage_reference(samples, means, std, threshold=3.0):
    from ganlib import modes
    idx, dist = modes.nearest_mode(samples, means)
    good = dist <= threshold * std
    return len(torch.unique(idx[good])), good.float().mean().item()


def check_mode_coverage(student: Callable) -> None:
    """Exercise: modes captured and share of high-quality samples (ch. 8)."""
    ring = data.ring8()
    m, std = ring.means, 0.02
    g = torch.Generator().manual_seed(8)
    near = m[torch.randint(8, (200,), generator=g)] \
        + 0.03 * torch.randn(200, 2, generator=g)
    cases = [
        ("one sample on every ring mode", (m.clone(), m, std)),
        ("200 samples all on mode 3 (a collapse)", (m[3].repeat(200, 1),
                                                    m, std)),
        ("points 2.9 std and 3.1 std from modes 0 and 1 (only the first "
         "counts)", (torch.stack([m[0] + torch.tensor([0.058, 0.0]),
                                  m[1] + torch.tensor([0.0, 0.062])]),
                     m, std)),
        ("200 noisy ring samples, std 0.03 around the modes",
         (near, m, std)),
        ("samples far from every mode (none counts)",
         (torch.full((5, 2), 9.0), m, std)),
    ]
    for description, args in cases:
        expected = _ch8_coverage_reference(*args)
        try:
            got = student(*args)
        except NotImplementedError:
            raise CheckFailed("\nmode coverage: the exercise is not done "
                              "yet (it still raises NotImplementedError)."
                              ) from None
        except Exception as err:
            raise CheckFailed(f"\nmode coverage: your function raised "
                              f"{type(err).__name__}: {err}\n  on input:  "
                              f"{description}") from None
        ok = isinstance(got, (tuple, list)) and len(got) == 2 and \
            close(got[0], expected[0], atol=0) and \
            close(got[1], expected[1], atol=1e-6)
        if not ok:
            fail("mode coverage", description, expected, got,
                 hint="return (number of distinct modes that are nearest "
                      "to at least one HIGH-QUALITY sample, share of "
                      "samples whose distance (not squared) to their "
                      "nearest mode is <= 3 std) as (int, float in [0, 1])")
    print(f"mode coverage: all {len(cases)} checks passed.")


def _ch8_gp_reference(D, x_hat):
    x_hat = x_hat.detach().requires_grad_(True)
    grad, = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
    return ((grad.norm(dim=1) - 1) ** 2).mean()


def check_gradient_penalty(student: Callable) -> None:
    """Exercise: the WGAN-GP penalty at given points (chapter 8)."""
    from ganlib import models
    torch.manual_seed(8)
    D = models.MLPDiscriminator(2, (16, 16))
    linear = torch.nn.Linear(2, 1)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[3.0, 4.0]]))  # |grad| = 5
    D_lin = lambda x: linear(x).squeeze(1)  # noqa: E731
    cases = [("an MLP critic at 32 random points", (D, torch.randn(32, 2))),
             ("a linear critic with weights (3, 4): penalty (5 - 1)^2 = 16",
              (D_lin, torch.randn(8, 2))),
             ("an MLP critic at a single point", (D, torch.randn(1, 2)))]
    check_function(
        "gradient penalty", student, _ch8_gp_reference, cases,
        hint="take the gradient of D(x_hat).sum() with respect to x_hat "
             "(torch.autograd.grad), its L2 norm PER SAMPLE (dim=1, not "
             "squared), then the mean of (norm - 1)^2")
    x_hat = torch.randn(16, 2)
    penalty = student(D, x_hat)
    if not penalty.requires_grad:
        raise CheckFailed(
            "\ngradient penalty: the value is right but it cannot be "
            "trained on: it carries no gradient to D's weights.\n  hint: "
            "pass create_graph=True to torch.autograd.grad")
    grads = torch.autograd.grad(penalty, list(D.parameters()),
                                allow_unused=True)
    ref = torch.autograd.grad(_ch8_gp_reference(D, x_hat),
                              list(D.parameters()), allow_unused=True)
    for g, r in zip(grads, ref):
        if (g is None) != (r is None) or (g is not None and
                                          not close(g, r, 1e-5, 1e-4)):
            raise CheckFailed(
                "\ngradient penalty: its gradient with respect to D's "
                "weights differs from the reference.\n  hint: compute the "
                "penalty from a fresh leaf x_hat.requires_grad_(True) with "
                "create_graph=True, and do not detach the gradient")
    print("gradient penalty: differentiable with respect to D: passed.")


def check_unroll(student: Callable) -> None:
    """Exercise: k differentiable SGD steps of D (chapter 8)."""
    from ganlib import models, tricks
    torch.manual_seed(8)
    D = models.MLPDiscriminator(2, (8,))
    x_real = torch.randn(16, 2)
    for k, lr in ((0, 0.1), (1, 0.1), (3, 0.05)):
        x_fake = torch.randn(16, 2, requires_grad=True)
        case = f"k={k} unrolled steps with lr={lr}, an MLP D, 16 points"
        ref = tricks.unrolled_params(D, losses.d_loss, x_real, x_fake, k,
                                     lr)
        try:
            got = student(D, losses.d_loss, x_real, x_fake, k, lr)
        except NotImplementedError:
            raise CheckFailed("\nunrolled step: the exercise is not done "
                              "yet (it still raises NotImplementedError)."
                              ) from None
        if not isinstance(got, dict) or set(got) != set(ref):
            fail("unrolled step", case, f"a dict with keys {sorted(ref)}",
                 got if not isinstance(got, dict) else sorted(got),
                 hint="return {name: tensor} like dict(D.named_parameters())")
        for name in ref:
            if not close(got[name], ref[name]):
                fail("unrolled step", f"{case}, parameter {name}",
                     ref[name], got[name],
                     hint="each step: loss_D on D(x_real) and D(x_fake) "
                          "with the CURRENT unrolled parameters "
                          "(functional_call), then p - lr * grad")
        if k > 0:
            out = sum(functional_out.sum() for functional_out in
                      [torch.func.functional_call(D, got, (x_fake,))])
            if not out.requires_grad:
                raise CheckFailed("\nunrolled step: the unrolled parameters"
                                  " carry no gradient.\n  hint: "
                                  "create_graph=True in torch.autograd.grad")
            g, = torch.autograd.grad(out, x_fake, allow_unused=True)
            ref_out = torch.func.functional_call(D, ref, (x_fake,)).sum()
            g_ref, = torch.autograd.grad(ref_out, x_fake)
            if g is None or not close(g, g_ref):
                raise CheckFailed(
                    "\nunrolled step: the values are right but the gradient "
                    "through the unrolled steps is not: a loss at the "
                    "unrolled parameters must see how x_fake changed D.\n"
                    "  hint: do not detach x_fake or the gradients; use "
                    "create_graph=True")
    print("unrolled step: all 3 checks passed.")
