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
