"""Mode-collapse metrics: benchmark sanity and hand-made cases."""

import math

import pytest
import torch

from ganlib import data, modes


def test_benchmarks_have_8_and_25_distinct_modes():
    assert modes.distinct_modes(data.ring8()) == 8
    assert modes.distinct_modes(data.grid25()) == 25


def test_distinct_modes_spots_the_linspace_bug():
    angles = torch.linspace(0, 2 * math.pi, 8)  # last angle repeats the first
    means = 2 * torch.stack([angles.cos(), angles.sin()], 1)
    buggy = data.GaussianMixture(means, [0.02])
    assert modes.distinct_modes(buggy, tol=1e-4) == 7


def test_all_modes_once_each_is_perfect():
    ring = data.ring8()
    score = modes.mode_score(ring.means.clone(), ring)
    assert (score.modes, score.high_quality, score.kl) == (8, 1.0, 0.0)
    assert score.counts == [1] * 8


def test_collapse_on_one_mode_has_kl_log_k():
    grid = data.grid25()
    x = grid.means[3].repeat(100, 1)
    score = modes.mode_score(x, grid)
    assert score.modes == 1 and score.high_quality == 1.0
    assert score.kl == pytest.approx(math.log(25))


def test_mixed_hand_made_case():
    ring = data.ring8()  # std 0.02, so the threshold is 0.06
    m = ring.means
    x = torch.cat([m[0].repeat(2, 1),                     # mode 0, twice
                   m[1] + torch.tensor([[0.0, 0.058]]),   # 2.9 std: good
                   m[2] + torch.tensor([[0.062, 0.0]]),   # 3.1 std: bad
                   torch.zeros(1, 2)])                    # centre: bad
    score = modes.mode_score(x, ring)
    assert score.modes == 2
    assert score.high_quality == pytest.approx(3 / 5)
    p = torch.tensor([2 / 3, 1 / 3])
    assert score.kl == pytest.approx(float((p * (8 * p).log()).sum()))


def test_reverse_kl_matches_torch_distributions():
    counts = torch.tensor([5.0, 0.0, 3.0, 2.0])
    p = torch.distributions.Categorical(probs=counts / counts.sum())
    u = torch.distributions.Categorical(probs=torch.full((4,), 0.25))
    expected = torch.distributions.kl_divergence(p, u).item()
    assert modes.reverse_kl_uniform(counts) == pytest.approx(expected)


def test_no_high_quality_sample_gives_worst_values():
    ring = data.ring8()
    score = modes.mode_score(torch.full((10, 2), 10.0), ring)
    assert (score.modes, score.high_quality) == (0, 0.0)
    assert score.kl == pytest.approx(math.log(8))


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        modes.mode_score(torch.zeros(5, 3), data.ring8())
    with pytest.raises(ValueError):
        modes.mode_score(torch.zeros(0, 2), data.ring8())
    with pytest.raises(ValueError):
        modes.reverse_kl_uniform(torch.tensor([1.0, -1.0]))
