"""Data: the embedded split, full-MNIST fallback, toy samplers."""

import math

import pytest
import torch

from ganlib import data


def test_embedded_split_is_stratified_fixed_and_disjoint():
    x, y = data.load_mnist("train", "embedded")
    x_val, y_val = data.load_mnist("val", "embedded")
    x_test, y_test = data.load_mnist("test", "embedded")
    assert x.shape == (3500, 1, 28, 28) and x_val.shape == (500, 1, 28, 28)
    assert x_test.shape == (1000, 1, 28, 28)
    assert torch.bincount(y).tolist() == [350] * 10
    assert torch.bincount(y_val).tolist() == [50] * 10
    assert torch.bincount(y_test).tolist() == [100] * 10
    assert x.min() == -1.0 and x.max() == 1.0
    # no digit is in two splits
    rows = [{tuple(r) for r in split.flatten(1)[:, ::7].tolist()}
            for split in (x, x_val, x_test)]
    assert not rows[0] & rows[1] and not rows[0] & rows[2] \
        and not rows[1] & rows[2]
    for split, first in (("train", x), ("val", x_val)):
        again, _ = data.load_mnist(split, "embedded")
        assert torch.equal(first, again)


def test_validation_is_carved_per_class_with_a_fixed_seed():
    # full MNIST's classes differ in size: 500 of each go to validation
    labels = torch.arange(10).repeat_interleave(
        torch.tensor([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851,
                      5949])).numpy()
    fit, val = data._carve_val(labels, 500)
    assert len(val) == 5000 and len(fit) == 60000 - 5000
    assert set(fit.tolist()).isdisjoint(val.tolist())
    assert torch.bincount(torch.as_tensor(labels[val])).tolist() == [500] * 10
    fit2, val2 = data._carve_val(labels, 500)
    assert (val == val2).all() and (fit == fit2).all()
    with pytest.raises(ValueError, match="too few to set 500 aside"):
        data._carve_val(labels[:5000], 500)


def test_unknown_source_and_split_are_rejected():
    with pytest.raises(ValueError, match="unknown MNIST source"):
        data.load_mnist("train", "imagenet")
    with pytest.raises(ValueError, match="unknown split"):
        data.load_mnist("validation", "embedded")


def test_auto_falls_back_to_embedded_without_network(monkeypatch, capsys,
                                                     tmp_path):
    monkeypatch.setenv("GANLIB_CACHE", str(tmp_path))
    monkeypatch.setattr(data, "_network_reachable", lambda timeout=3: False)
    data.resolve_source.cache_clear()
    data._full_split.cache_clear()
    try:
        assert data.resolve_source("auto") == "embedded"
        out = capsys.readouterr().out
        assert "using the embedded" in out and out.count("\n") == 1
    finally:
        data.resolve_source.cache_clear()
        data._full_split.cache_clear()


def test_tensor_sampler_returns_batches_on_its_device():
    x, y = torch.randn(10, 3), torch.arange(10)
    xb, yb = data.TensorSampler(x, y)(32)
    assert xb.shape == (32, 3) and yb.shape == (32,)
    # rows stay paired with their labels
    assert torch.equal(xb, x[yb])
    assert data.TensorSampler(x)(4).shape == (4, 3)


def test_tensor_sampler_rejects_empty_and_mismatched_data():
    with pytest.raises(ValueError, match="empty"):
        data.TensorSampler(torch.zeros(0, 2))
    with pytest.raises(ValueError, match="different lengths"):
        data.TensorSampler(torch.zeros(3, 2), torch.zeros(4))


def test_ring8_has_eight_distinct_modes_on_radius_two():
    ring = data.ring8()
    m = ring.means
    assert m.shape == (8, 2)
    assert torch.allclose(m.norm(dim=1), torch.full((8,), 2.0))
    d = torch.cdist(m, m) + torch.eye(8) * 10
    assert d.min() > 1.5  # 2 * 2 * sin(pi / 8) = 1.53
    s = ring(5000)
    assert s.shape == (5000, 2)
    nearest = torch.cdist(s, m).min(dim=1).values
    assert nearest.max() < 0.02 * 6


def test_grid25_has_twenty_five_distinct_modes():
    grid = data.grid25()
    assert grid.means.shape == (25, 2)
    assert len({tuple(r) for r in grid.means.tolist()}) == 25
    assert set(grid.means[:, 0].tolist()) == {-4.0, -2.0, 0.0, 2.0, 4.0}
    assert grid.stds[0].item() == pytest.approx(0.05)


def test_gaussian_1d_moments_and_density():
    g = data.gaussian_1d(4.0, 0.5)
    s = g(20000)
    assert s.shape == (20000, 1)
    assert s.mean().item() == pytest.approx(4.0, abs=0.02)
    assert s.std().item() == pytest.approx(0.5, abs=0.02)
    peak = 1 / (0.5 * math.sqrt(2 * math.pi))
    assert g.pdf(torch.tensor(4.0)).item() == pytest.approx(peak, rel=1e-5)


def test_mixture_weights_and_bad_parameters():
    mix = data.mixture_1d([-3.0, 3.0], [0.5, 0.5], [0.25, 0.75])
    s = mix(20000)
    assert (s > 0).float().mean().item() == pytest.approx(0.75, abs=0.02)
    with pytest.raises(ValueError, match="positive"):
        data.mixture_1d([0.0], [-1.0])
    with pytest.raises(ValueError, match="summing"):
        data.mixture_1d([0.0, 1.0], [1.0, 1.0], [0.5, 0.6])
    with pytest.raises(ValueError, match="1-D"):
        data.ring8().pdf(torch.zeros(3))


def test_random_shift_moves_each_image_by_its_own_offset():
    torch.manual_seed(0)
    x = torch.rand(64, 2, 9, 7) * 2 - 1
    out = data.random_shift(x, 2)
    assert out.shape == x.shape
    offsets = set()
    for img, src in zip(out, x):
        # exactly one offset (dy, dx) in -2..2 explains the output: the
        # source pixels moved by it, background (-1) shifted in
        hits = []
        for dy in range(-2, 3):
            for dx in range(-2, 3):
                want = torch.full_like(src, -1.0)
                want[:, max(0, dy):9 + min(0, dy), max(0, dx):7 + min(0, dx)] \
                    = src[:, max(0, -dy):9 - max(0, dy),
                          max(0, -dx):7 - max(0, dx)]
                if torch.equal(img, want):
                    hits.append((dy, dx))
        assert len(hits) == 1
        offsets.add(hits[0])
    assert len(offsets) > 10  # offsets differ from image to image
    assert data.random_shift(x, 0) is x


def test_random_shift_rejects_bad_input():
    with pytest.raises(ValueError, match="B, C, H, W"):
        data.random_shift(torch.zeros(3, 28, 28), 2)
    with pytest.raises(ValueError, match="max_shift"):
        data.random_shift(torch.zeros(3, 1, 28, 28), -1)
