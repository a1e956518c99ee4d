"""The mode-collapse benchmark: smoke runs of every method, on one
benchmark and on two at once."""

import pytest
import torch

from ganlib import data, train, tricks


@pytest.mark.parametrize("method", tricks.METHODS)
def test_every_method_trains_a_few_steps(method):
    run = tricks.build_toy(method, data.ring8(), n_seeds=2, steps=3,
                           hidden=(8, 8), latent_dim=4, n_pairs=2)
    G = run["G"]
    # one protocol for the whole table: fresh noise for every G step
    assert run["kwargs"]["share_fake"] is False
    before = [p.detach().clone() for p in G.parameters()]
    hist = train.train(G, run["D"], run["sample_real"], batch_size=8,
                       progress=False, **run["kwargs"])
    assert len(hist.step) == 3
    assert any(not torch.equal(a, b) for a, b in zip(before, G.parameters()))
    x = tricks.toy_samples(G, 50, run["n_per_seed"])
    assert x.shape == (2, 50, 2) and torch.isfinite(x).all()
    with pytest.raises(ValueError):
        tricks.build_toy("no such trick", data.ring8(), 1, 1)


@pytest.mark.parametrize("method", ["non-saturating", "GAP"])
def test_one_run_trains_both_benchmarks(method):
    ring, grid = data.ring8(), data.grid25()
    run = tricks.build_toy(method, [ring, grid], n_seeds=2, steps=2,
                           hidden=(8, 8), latent_dim=4, n_pairs=2)
    per_seed = run["n_per_seed"]
    assert run["G"].n_models == 2 * 2 * per_seed
    train.train(run["G"], run["D"], run["sample_real"], batch_size=8,
                progress=False, **run["kwargs"])
    x = tricks.toy_samples(run["G"], 50, per_seed)
    assert x.shape == (4, 50, 2)  # ring seeds 0, 1, then grid seeds 0, 1
