"""Measuring generated digits with the book's MNIST classifier.

* The Frechet distance between two sets of classifier features (the FID
  of Heusel et al., 2017, with the book's MNIST classifier in place of
  Inception).
* Sample quality: the share of samples the classifier recognises
  confidently, and how the samples spread over the ten classes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ganlib.classifier import MNISTClassifier


def frechet_distance(feat_a: torch.Tensor, feat_b: torch.Tensor) -> float:
    r"""Frechet distance between Gaussians fitted to two feature sets.

    .. math:: d^2 = \lVert \mu_a - \mu_b \rVert^2
       + \operatorname{tr}\big(\Sigma_a + \Sigma_b
       - 2 (\Sigma_a \Sigma_b)^{1/2}\big)
    """
    if feat_a.ndim != 2 or feat_b.ndim != 2 or \
            feat_a.shape[1] != feat_b.shape[1]:
        raise ValueError("frechet_distance needs two (N, d) feature sets of "
                         f"equal d, got {tuple(feat_a.shape)} and "
                         f"{tuple(feat_b.shape)}")
    if feat_a.shape[1] == 0:
        raise ValueError("frechet_distance needs features of at least one "
                         "dimension, got d = 0")
    if len(feat_a) < 2 or len(feat_b) < 2:
        raise ValueError("need at least two samples per set to estimate a "
                         f"covariance, got {len(feat_a)} and {len(feat_b)}; "
                         "pass more samples")
    # NaN or inf would reach LAPACK, which can abort the whole process
    for name, feat in (("feat_a", feat_a), ("feat_b", feat_b)):
        if not torch.isfinite(feat).all():
            raise ValueError(
                f"{name} holds NaN or inf; the samples behind it are broken "
                "(a diverged generator?): check them with "
                "torch.isfinite before measuring")
    a, b = feat_a.double().cpu(), feat_b.double().cpu()
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = torch.cov(a.T), torch.cov(b.T)
    # tr (S_a S_b)^{1/2} = sum of square roots of the eigenvalues of S_a S_b,
    # which are real and non-negative for covariance matrices
    eig = torch.linalg.eigvals(cov_a @ cov_b).real.clamp(min=0)
    trace_sqrt = eig.sqrt().sum()
    d2 = (mu_a - mu_b).pow(2).sum() + cov_a.trace() + cov_b.trace() \
        - 2 * trace_sqrt
    return float(d2.clamp(min=0))


def classifier_fd(classifier: MNISTClassifier, x_a: torch.Tensor,
                  x_b: torch.Tensor) -> float:
    """Frechet distance between two image sets in the classifier's features."""
    _check_images(x_a, "classifier_fd", min_samples=2)
    _check_images(x_b, "classifier_fd", min_samples=2)
    return frechet_distance(classifier.embed(x_a), classifier.embed(x_b))


def feature_prdc(real: torch.Tensor, fake: torch.Tensor, k: int = 5
                 ) -> dict[str, float]:
    """Precision, recall, density and coverage of two feature sets (N, d).

    Precision (Kynkaanniemi et al. 2019) is the share of fake points inside
    the real manifold (the union of balls around each real point reaching
    its k-th nearest real neighbour); recall is the share of real points
    inside the fake manifold. Density and coverage (Naeem et al. 2020) are
    their outlier-robust versions: density counts how many real balls hold
    each fake point (divided by k; about 1 when the two sets match), and
    coverage is the share of real balls that hold at least one fake point.
    Sharp but collapsed samples have high precision and low recall and
    coverage; varied but blurry ones the reverse. Computed by ``prdc``,
    the authors' reference implementation of Naeem et al.
    """
    import contextlib
    import io

    from prdc import compute_prdc

    for name, feats in (("real", real), ("fake", fake)):
        if feats.ndim != 2 or len(feats) <= k:
            raise ValueError(f"feature_prdc needs {name} features of shape "
                             f"(N, d) with N > k = {k}, got shape "
                             f"{tuple(feats.shape)}; pass more samples or a "
                             "smaller k")
        if not torch.isfinite(feats).all():
            raise ValueError(f"feature_prdc got {name} features holding NaN "
                             "or inf")
    as_numpy = lambda t: t.detach().float().cpu().numpy()  # noqa: E731
    with contextlib.redirect_stdout(io.StringIO()):  # it prints the sizes
        out = compute_prdc(as_numpy(real), as_numpy(fake), nearest_k=k)
    return {name: float(value) for name, value in out.items()}


def classifier_prdc(classifier: MNISTClassifier, x_fake: torch.Tensor,
                    x_real: torch.Tensor, k: int = 5) -> dict[str, float]:
    """:func:`feature_prdc` of generated and real images in the
    classifier's features (the space of the Frechet distance)."""
    _check_images(x_fake, "classifier_prdc", min_samples=k + 1)
    _check_images(x_real, "classifier_prdc", min_samples=k + 1)
    return feature_prdc(classifier.embed(x_real), classifier.embed(x_fake), k)


def _check_images(x: torch.Tensor, who: str, min_samples: int = 1) -> None:
    """Enough images, all finite and in the classifier's range [-1, 1]."""
    if len(x) < min_samples:
        raise ValueError(f"{who} needs at least {min_samples} image(s), got "
                         f"{len(x)}; pass more samples")
    # NaN compares false with every bound, so it would pass a range check
    if not torch.isfinite(x).all():
        raise ValueError(f"{who} got images holding NaN or inf (a diverged "
                         "generator?); check them with torch.isfinite "
                         "before measuring")
    lo, hi = torch.aminmax(x)
    if lo < -1.01 or hi > 1.01:
        raise ValueError(f"{who} needs images in [-1, 1], got values in "
                         f"[{lo:.2f}, {hi:.2f}]; scale them as "
                         "data.load_mnist does")


@dataclass
class SampleQuality:
    """How recognisable and how varied a set of generated digits is."""

    confident: float          # share classified with confidence >= threshold
    class_share: list[float]  # share of samples per predicted class
    threshold: float

    @property
    def coverage_ok(self) -> bool:
        """Every class holds 5-15% of samples (the book's target)."""
        return all(0.05 <= s <= 0.15 for s in self.class_share)

    def __str__(self) -> str:
        shares = " ".join(f"{d}:{s:.0%}" for d, s in
                          enumerate(self.class_share))
        return (f"{self.confident:.1%} of samples classified with "
                f"confidence >= {self.threshold}; class shares {shares}")


def sample_quality(classifier: MNISTClassifier, x: torch.Tensor,
                   threshold: float = 0.9) -> SampleQuality:
    """Share of confident samples and the class histogram of samples x."""
    _check_images(x, "sample_quality")
    label, conf = classifier.predict(x)
    share = torch.bincount(label.cpu(), minlength=10).float() / len(x)
    return SampleQuality(confident=(conf >= threshold).float().mean().item(),
                         class_share=share.tolist(), threshold=threshold)


def sharpness(x: torch.Tensor, per_image: bool = False):
    r"""Mean absolute difference between neighbouring pixels: edges score
    high, blur scores low.

    .. math:: \tfrac12\big(\overline{|x_{i,j+1} - x_{i,j}|}
       + \overline{|x_{i+1,j} - x_{i,j}|}\big)

    One float for the batch of images (B, C, H, W), or one value per
    image (B,) with ``per_image=True``.
    """
    if not torch.is_tensor(x) or x.ndim != 4 or x.shape[-1] < 2 or \
            x.shape[-2] < 2 or len(x) == 0:
        shape = tuple(x.shape) if torch.is_tensor(x) else type(x).__name__
        raise ValueError(f"sharpness expects a batch of images (B, C, H, W)"
                         f" of at least 2x2 pixels, got {shape}")
    dx = (x[..., :, 1:] - x[..., :, :-1]).abs().flatten(1).mean(1)
    dy = (x[..., 1:, :] - x[..., :-1, :]).abs().flatten(1).mean(1)
    per = (dx + dy) / 2  # (B,)
    return per if per_image else per.mean().item()
