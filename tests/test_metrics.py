"""Frechet distance against an independent computation; sample quality;
sharpness by hand."""

import numpy as np
import pytest
import scipy.linalg
import torch
import torch.nn.functional as F

from ganlib import data, metrics


def test_frechet_distance_matches_scipy_sqrtm():
    a = torch.randn(400, 6)
    b = torch.randn(300, 6) @ torch.randn(6, 6) * 0.5 + 0.7
    A, B = a.double().numpy(), b.double().numpy()
    ca, cb = np.cov(A.T), np.cov(B.T)
    ref = ((A.mean(0) - B.mean(0)) ** 2).sum() \
        + np.trace(ca + cb - 2 * scipy.linalg.sqrtm(ca @ cb).real)
    assert metrics.frechet_distance(a, b) == pytest.approx(ref, rel=1e-6)


def test_frechet_distance_of_gaussians_by_hand():
    # N(0, I) vs N(m, 4 I) in d dims: |m|^2 + d (1 + 4 - 2 * 2) = |m|^2 + d
    torch.manual_seed(0)
    a = torch.randn(200000, 2)
    b = torch.randn(200000, 2) * 2 + torch.tensor([1.0, 2.0])
    assert metrics.frechet_distance(a, b) == pytest.approx(5 + 2, rel=0.02)
    assert metrics.frechet_distance(a, a) == pytest.approx(0, abs=1e-6)


def test_frechet_distance_rejects_bad_shapes():
    with pytest.raises(ValueError, match="equal d"):
        metrics.frechet_distance(torch.zeros(5, 2), torch.zeros(5, 3))
    with pytest.raises(ValueError, match="at least two"):
        metrics.frechet_distance(torch.zeros(1, 2), torch.zeros(5, 2))


def test_sample_quality_counts_confident_samples_and_classes():
    class Fixed(torch.nn.Module):
        def predict(self, x):
            return torch.tensor([0, 0, 1, 3]), torch.tensor([.95, .5, .99,
                                                             .9])
    q = metrics.sample_quality(Fixed(), torch.zeros(4, 1, 28, 28))
    assert q.confident == pytest.approx(0.75)
    assert q.class_share[:4] == [0.5, 0.25, 0.0, 0.25]
    assert not q.coverage_ok
    assert "75.0%" in str(q)


def test_sharpness_by_hand_and_blur_lowers_it():
    # a vertical edge of height 2 between the columns of a 2x2 image:
    # mean |dx| = 2, mean |dy| = 0, so (2 + 0) / 2 = 1
    x = torch.tensor([[[[0.0, 2.0], [0.0, 2.0]]]])
    assert metrics.sharpness(x) == pytest.approx(1.0)
    flat_and_edge = torch.cat([torch.ones(1, 1, 2, 2), x])
    assert metrics.sharpness(flat_and_edge, per_image=True).tolist() == \
        [0.0, 1.0]
    digits, _ = data.load_mnist("test", "embedded")
    blurred = F.avg_pool2d(digits[:50], 3, 1, 1)
    assert metrics.sharpness(blurred) < metrics.sharpness(digits[:50])
    for bad in (torch.zeros(4, 784), torch.zeros(0, 1, 5, 5),
                torch.zeros(2, 1, 1, 5)):
        with pytest.raises(ValueError, match="at least 2x2"):
            metrics.sharpness(bad)


def _clusters(n_per, centres, spread=0.3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.cat([c + spread * torch.randn(n_per, len(c), generator=g)
                      for c in centres])


def test_prdc_oracles_identical_disjoint_and_one_class():
    centres = [torch.eye(8)[i] * 10 for i in range(8)]  # 8 far "classes"
    real = _clusters(60, centres)
    # identical sets: everything inside, every ball covered
    same = metrics.feature_prdc(real, real.clone())
    assert same["precision"] == 1.0 and same["recall"] == 1.0
    assert same["coverage"] == 1.0 and same["density"] >= 1.0
    # disjoint sets far apart: nothing inside either manifold
    far = metrics.feature_prdc(real, real + 100.0)
    assert far == {"precision": 0.0, "recall": 0.0, "density": 0.0,
                   "coverage": 0.0}
    # a fresh sample of the same distribution: all four near 1
    fresh = metrics.feature_prdc(real, _clusters(60, centres, seed=1))
    assert min(fresh["precision"], fresh["recall"], fresh["coverage"]) > 0.8
    assert 0.6 < fresh["density"] < 1.4
    # copies of one class (sharp, collapsed): high precision, low recall
    one = metrics.feature_prdc(real, _clusters(480, centres[:1], seed=2))
    assert one["precision"] > 0.9
    assert one["recall"] < 0.2 and one["coverage"] < 0.2
    # spread out everywhere (diverse, off the data): low precision
    blur = metrics.feature_prdc(real, 10 * torch.randn(480, 8))
    assert blur["precision"] < 0.2 < one["precision"]


def test_prdc_rejects_too_few_or_broken_features():
    real = torch.randn(20, 4)
    with pytest.raises(ValueError, match="N > k = 5"):
        metrics.feature_prdc(real, torch.randn(5, 4))
    with pytest.raises(ValueError, match=r"shape \(N, d\)"):
        metrics.feature_prdc(real, torch.randn(20))
    bad = real.clone()
    bad[3, 1] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        metrics.feature_prdc(bad, real)


def test_classifier_prdc_in_the_classifiers_features():
    from ganlib import classifier

    clf = classifier.MNISTClassifier().eval()  # untrained: the wiring only
    x, _ = data.load_mnist("val", "embedded")
    out = metrics.classifier_prdc(clf, x[:100], x[100:300])
    assert set(out) == {"precision", "recall", "density", "coverage"}
    assert all(0.0 <= out[name] <= 1.0 for name in
               ("precision", "recall", "coverage"))
    same = metrics.classifier_prdc(clf, x[:100], x[:100])
    assert same["precision"] == same["recall"] == 1.0
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        metrics.classifier_prdc(clf, x[:100] * 3, x[:100])
