"""Discriminator rejection sampling: acceptance probabilities, exact
rejection with a known ratio, argument checks and the toy-run version."""

import pytest
import torch

from ganlib import data, tricks


def test_drs_accept_prob_is_exp_of_the_logit_gap():
    logits = torch.tensor([-3.0, -1.0, 0.5, 2.0])
    exact = tricks.drs_accept_prob(logits, 2.0)
    assert torch.allclose(exact, torch.exp(logits - 2.0))
    # F is the logit of that probability: gamma = 0 gives it back
    assert torch.allclose(tricks.drs_accept_prob(logits, 2.0, gamma=0.0),
                          exact, atol=1e-5)
    # gamma < 0 accepts more, most of all the samples D rates low
    loose = tricks.drs_accept_prob(logits, 2.0, gamma=-2.0)
    assert (loose[:3] > exact[:3]).all() and (loose[:2] / exact[:2] > 5).all()
    assert tricks.drs_accept_prob(torch.tensor([5.0]), 2.0) == 1.0


def test_exact_rejection_with_the_true_ratio_samples_the_target():
    # G samples N(0, 1), the data are N(1, 1): log p_data / p_g = x - 0.5
    torch.manual_seed(0)
    x, rate = tricks.rejection_sample(lambda k: torch.randn(k),
                                      lambda x: x - 0.5, 4000,
                                      quantile=None)
    assert x.shape == (4000,)
    assert x.mean().item() == pytest.approx(1.0, abs=0.06)
    assert x.std().item() == pytest.approx(1.0, abs=0.06)
    assert 0.005 < rate < 0.1
    # a shifted gamma keeps more draws and lands between G and the data
    y, loose = tricks.rejection_sample(lambda k: torch.randn(k),
                                       lambda x: x - 0.5, 4000,
                                       quantile=0.5)
    assert loose > 3 * rate and 0.2 < y.mean().item() < 0.95


def test_rejection_sample_rejects_bad_arguments_and_gives_up_clearly():
    gen, logit = (lambda k: torch.randn(k)), (lambda x: x)
    with pytest.raises(ValueError, match="quantile"):
        tricks.rejection_sample(gen, logit, 10, quantile=1.0)
    with pytest.raises(ValueError, match="positive"):
        tricks.rejection_sample(gen, logit, 0)
    with pytest.raises(RuntimeError, match="lower `quantile`"):
        tricks.rejection_sample(gen, lambda x: 50 * x, 1000, quantile=None,
                                max_draws=20000)


def test_toy_rejection_keeps_each_seed_samples_its_own_d_rates_higher():
    torch.manual_seed(0)
    run = tricks.build_toy("non-saturating", data.ring8(), n_seeds=2,
                           steps=1, hidden=(8, 8), latent_dim=4)
    G, D = run["G"], run["D"]
    # D of seed 1 prefers points with large x, D of seed 0 small x
    with torch.no_grad():
        for p in D.parameters():
            p.zero_()
        D.body[0].weight[0, 0, 0], D.body[0].weight[1, 0, 0] = -1.0, 1.0
        D.body[2].weight[:, 0, 0] = 1.0
        D.head.weight[:, 0, 0] = 100.0  # G's untrained points lie close
    x, rates = tricks.toy_rejection_samples(G, D, 500, quantile=0.9)
    raw = tricks.toy_samples(G, 2000)
    assert x.shape == (2, 500, 2) and all(0 < r <= 1 for r in rates)
    assert x[0, :, 0].mean() < raw[0, :, 0].mean() - 0.01
    assert x[1, :, 0].mean() > raw[1, :, 0].mean() + 0.01
    packed = tricks.build_toy("PacGAN", data.ring8(), 1, 1, hidden=(8, 8))
    with pytest.raises(ValueError, match="on its own"):
        tricks.toy_rejection_samples(packed["G"], packed["D"], 10)
