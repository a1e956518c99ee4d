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


def test_run_method_scores_both_samplings_and_applies_configure():
    seen = []
    proto = tricks.Protocol(steps=2, batch=8, hidden=(8, 8), latent_dim=4,
                            seeds=2, n_eval=50)
    targets = {"ring-8": data.ring8(), "grid-25": data.grid25()}
    res = tricks.run_method("label smoothing", targets, proto,
                            configure=lambda run: seen.append(run))
    assert seen and seen[0] is res["run"]
    for name in targets:
        assert res["samples"][name]["plain"].shape == (2, 50, 2)
        assert res["samples"][name]["drs"].shape == (2, 50, 2)
        assert len(res["scores"][name]["drs"]) == 2
    packed = tricks.run_method("PacGAN", targets, proto)
    # a packed D scores samples together: no DRS row
    assert packed["scores"]["ring-8"]["drs"] is None


def test_rank_key_caps_modes_at_the_target():
    # every row that reaches the mode count ties; then HQ decides
    assert tricks.rank_key(25, 0.5, 24) < tricks.rank_key(24, 0.6, 24)
    assert tricks.rank_key(20, 0.9, 24) < tricks.rank_key(22, 0.1, 24)


def test_the_saved_table_is_complete_and_matches_the_protocol():
    import dataclasses

    report = tricks.load_report()
    proto = dataclasses.asdict(tricks.PROTOCOL)
    proto["hidden"] = list(proto["hidden"])
    assert report["protocol"] == proto, (
        "ganlib/reports/mode_collapse.json was run with another protocol: "
        "rerun python benchmarks/mode_collapse.py")
    assert set(report["methods"]) == set(tricks.METHODS)
    for method, entry in report["methods"].items():
        for name in tricks.GOALS:
            plain = entry["scores"][name]["plain"]
            assert len(plain) == tricks.PROTOCOL.seeds
            has_drs = entry["scores"][name]["drs"] is not None
            assert has_drs == (method in tricks.DRS_METHODS)
    # the saved choice follows the table's rule
    for name, (need, _) in tricks.GOALS.items():
        def key(row):
            scores = row[name]
            return tricks.rank_key(
                sum(s["modes"] for s in scores) / len(scores),
                sum(s["high_quality"] for s in scores) / len(scores), need)
        rows = {(m, how): e["scores"] for m, e in report["methods"].items()
                for how in ("plain", "drs")
                if e["scores"][name][how] is not None}
        best = max(rows, key=lambda k: key({n: rows[k][n][k[1]]
                                            for n in tricks.GOALS}))
        chosen = report["chosen"][name]
        assert (chosen["method"], chosen["sampling"]) == best
