"""Semi-supervised GAN: the K+1 loss, feature matching, labelled subsets."""

import math

import pytest
import torch
import torch.nn.functional as F

from ganlib import data, losses, semisup, train


def test_d_prob_real_matches_z_over_z_plus_one():
    logits = torch.tensor([[0.0, 0.0], [1.0, -2.0]])
    z = logits.exp().sum(1)
    assert torch.allclose(semisup.d_prob_real(logits), z / (z + 1))
    # stable where exp overflows
    big = torch.tensor([[200.0, 0.0]])
    assert semisup.d_prob_real(big).item() == pytest.approx(1.0)


def test_d_loss_semisup_by_hand():
    # K = 2, one example per term; all logits zero: Z = 2, D = 2/3
    zero = torch.zeros(1, 2)
    loss = semisup.d_loss_semisup(zero, torch.tensor([0]), zero, zero)
    supervised = math.log(2)  # -log(1/2)
    unsupervised = 0.5 * (-math.log(2 / 3) - math.log(1 / 3))
    assert loss.item() == pytest.approx(supervised + unsupervised, rel=1e-6)


def test_d_loss_semisup_equals_k_plus_one_softmax():
    # the K-logit form is a (K+1)-class softmax with a fake logit fixed at 0
    g = torch.Generator().manual_seed(1)
    lab, unl, fake = (torch.randn(6, 4, generator=g) for _ in range(3))
    y = torch.randint(4, (6,), generator=g)
    pad = lambda a: torch.cat([a, torch.zeros(len(a), 1)], 1)  # noqa
    p_fake_unl = F.softmax(pad(unl), 1)[:, -1]
    p_fake_gen = F.softmax(pad(fake), 1)[:, -1]
    expected = F.cross_entropy(lab, y) + 0.5 * (
        -torch.log(1 - p_fake_unl).mean() - torch.log(p_fake_gen).mean())
    got = semisup.d_loss_semisup(lab, y, unl, fake)
    assert got.item() == pytest.approx(expected.item(), rel=1e-5)


def test_d_loss_semisup_rejects_1d_logits():
    with pytest.raises(ValueError, match="class logits"):
        semisup.d_loss_semisup(torch.zeros(3), torch.zeros(3).long(),
                               torch.zeros(3, 2), torch.zeros(3, 2))


def test_select_labelled_partition_and_balance():
    y = torch.arange(10).repeat(7)
    lab, unl = semisup.select_labelled(y, 3, seed=5)
    assert len(lab) == 30 and len(unl) == 40
    assert set(lab.tolist()).isdisjoint(unl.tolist())
    assert torch.bincount(y[lab]).tolist() == [3] * 10
    again, _ = semisup.select_labelled(y, 3, seed=5)
    assert torch.equal(lab, again)
    with pytest.raises(ValueError, match="fewer than"):
        semisup.select_labelled(y, 8)


def test_models_shapes_and_noise_only_in_training():
    D = semisup.Classifier(hidden=(32, 16))
    x = torch.randn(5, 1, 28, 28)
    assert D(x).shape == (5, 10) and D.features(x).shape == (5, 16)
    D.eval()
    assert torch.equal(D(x), D(x))  # no noise in eval mode
    G = semisup.Generator(latent_dim=8, hidden=(16,))
    out = G(torch.rand(5, 8))
    assert out.shape == (5, 1, 28, 28) and out.abs().max() <= 1
    with pytest.raises(ValueError):
        G(torch.rand(5, 9))


def test_fit_gan_and_baseline_smoke():
    x = torch.randn(40, 1, 28, 28).clamp(-1, 1)
    y = torch.arange(10).repeat(4)
    lab, unl = semisup.select_labelled(y, 1)
    D = semisup.Classifier(hidden=(32, 16))
    G = semisup.Generator(latent_dim=8, hidden=(16,))
    before = [p.detach().clone() for p in G.parameters()]
    hist = semisup.fit_gan(G, D, x[lab], y[lab], x[unl], steps=3,
                           batch_size=8, x_test=x, y_test=y, x_val=x[:20],
                           y_val=y[:20], eval_every=2, progress=False)
    assert len(hist["loss_D"]) == 3 and hist.step == [1, 2, 3]
    # validation and test errors are recorded apart, on their own digits
    for name in ("val_error", "test_error"):
        assert hist.steps_of(name) == [2, 3]
        assert all(0 <= e <= 1 for e in hist[name])
    assert hist["test_error"][-1] == semisup.error_rate(D, x, y)
    assert hist["val_error"][-1] == semisup.error_rate(D, x[:20], y[:20])
    assert any(not torch.equal(a, b) for a, b in zip(before, G.parameters()))
    B = semisup.Classifier(hidden=(32, 16))
    losses = semisup.fit_supervised(B, x[lab], y[lab], steps=3,
                                    progress=False)
    assert len(losses) == 3 and all(math.isfinite(v) for v in losses)


def test_init_from_data_standardises_every_layer():
    D = semisup.Classifier(hidden=(32, 16))
    x = torch.randn(300, 1, 28, 28)
    semisup.init_from_data(D, x)
    D.eval()
    logits = D(x)
    assert torch.allclose(logits.mean(0), torch.zeros(10), atol=1e-4)
    assert torch.allclose(logits.std(0), torch.ones(10), atol=1e-3)
    assert D.training is False  # restored to the mode it had (eval)


@pytest.mark.parametrize("max_shift", [0, 2])
def test_max_shift_feeds_shifted_real_images(max_shift):
    torch.manual_seed(0)
    x = torch.rand(10, 1, 28, 28) * 2 - 1
    y = torch.arange(10)
    seen = []

    class Recording(semisup.Classifier):
        def forward(self, x):
            seen.append(x.detach().clone())
            return super().forward(x)

    semisup.fit_supervised(Recording(hidden=(16,)), x, y, steps=2,
                           max_shift=max_shift, progress=False)
    inputs = torch.cat(seen)
    originals = [(row == x).flatten(1).all(1).any().item() for row in inputs]
    if max_shift == 0:
        assert all(originals)
    else:  # most rows moved (1 in 25 draws the offset (0, 0))
        assert sum(originals) < len(inputs) / 2
    # the GAN sees shifted labelled and unlabelled images the same way
    seen.clear()
    G = semisup.Generator(latent_dim=4, hidden=(8,))
    semisup.fit_gan(G, Recording(hidden=(16,)), x, y, x, steps=1,
                    batch_size=10, max_shift=max_shift, progress=False)
    real = seen[0][:20]  # labelled, then unlabelled rows of the D step
    moved = sum(not (row == x).flatten(1).all(1).any().item()
                for row in real)
    assert (moved > 10) == (max_shift > 0)


# ------------------------------------------------------- through the loop


def _tiny(seed=0):
    """Tiny data and networks: 40 images, 2 labelled per class."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(40, 1, 28, 28, generator=g) * 2 - 1
    y = torch.arange(10).repeat(4)
    lab, _ = semisup.select_labelled(y, 2, seed=seed)
    torch.manual_seed(seed)
    D = semisup.Classifier(hidden=(32, 16))
    G = semisup.Generator(latent_dim=8, hidden=(16,))
    return G, D, x, y, lab


def _params(*nets):
    return [p.detach().clone() for net in nets for p in net.parameters()]


def _equal(a, b):
    assert len(a) == len(b)
    assert all(torch.equal(p, q) for p, q in zip(a, b))


def test_fit_gan_equals_the_old_loop():
    # the old fit_gan body, with the shared feature matching in update_G
    steps, batch, shift = 5, 8, 2
    G, D, x, y, lab = _tiny()
    x_lab, y_lab, x_unl = x[lab], y[lab], x
    opt_D = torch.optim.Adam(D.parameters(), lr=3e-3, betas=(0.5, 0.999))
    opt_G = torch.optim.Adam(G.parameters(), lr=3e-3, betas=(0.5, 0.999))
    scheds = [semisup._linear_decay(o, steps, 0.5) for o in (opt_D, opt_G)]
    n_lab = min(batch, len(x_lab))
    torch.manual_seed(7)
    old_D, old_G, old_err = [], [], []
    for step in range(1, steps + 1):
        i_lab = torch.randint(len(x_lab), (n_lab,))
        i_unl = torch.randint(len(x_unl), (batch,))
        z = torch.rand(batch, G.latent_dim)
        l_D = semisup.update_D(
            G, D, opt_D, data.random_shift(x_lab[i_lab], shift),
            y_lab[i_lab], data.random_shift(x_unl[i_unl], shift), z)
        i_unl = torch.randint(len(x_unl), (batch,))
        z = torch.rand(batch, G.latent_dim)
        l_G = semisup.update_G(
            G, D, opt_G, data.random_shift(x_unl[i_unl], shift), z)
        for s in scheds:
            s.step()
        old_D.append(l_D.item())
        old_G.append(l_G.item())
        if step % 2 == 0 or step == steps:
            old_err.append(semisup.error_rate(D, x, y))
    expected = _params(G, D)

    G, D, x, y, lab = _tiny()
    torch.manual_seed(7)
    hist = semisup.fit_gan(G, D, x[lab], y[lab], x, steps=steps,
                           batch_size=batch, max_shift=shift, x_test=x,
                           y_test=y, eval_every=2, progress=False)
    _equal(_params(G, D), expected)
    assert hist["loss_D"] == old_D and hist["loss_G"] == old_G
    assert hist["test_error"] == old_err


def test_fit_gan_records_the_test_error_at_its_steps():
    G, D, x, y, lab = _tiny()
    hist = semisup.fit_gan(G, D, x[lab], y[lab], x, steps=7, batch_size=8,
                           x_test=x, y_test=y, eval_every=3, progress=False)
    assert hist.steps_of("test_error") == [3, 6, 7]  # and at the last
    assert hist["test_error"][-1] == semisup.error_rate(D, x, y)
    assert hist.step == list(range(1, 8))
    G, D, x, y, lab = _tiny()
    hist = semisup.fit_gan(G, D, x[lab], y[lab], x, steps=2, batch_size=8,
                           eval_every=3, progress=False)  # no test set
    assert "test_error" not in hist


class _StopAt(train.Callback):
    """Stops the run (as Ctrl-C would) after step ``at``, if any."""

    def __init__(self, at=None):
        self.at = at

    def __call__(self, it, step, history):
        if it == self.at:
            raise KeyboardInterrupt


def test_fit_gan_resumes_bit_for_bit(tmp_path):
    # the lr schedule spans the whole run, so the first run is stopped
    # part way rather than asked for fewer steps
    def run(**loop):
        G, D, x, y, lab = _tiny()
        torch.manual_seed(3)
        hist = semisup.fit_gan(G, D, x[lab], y[lab], x, steps=8,
                               batch_size=8, max_shift=2, x_test=x,
                               y_test=y, eval_every=3, progress=False,
                               **loop)
        return _params(G, D), hist

    expected, hist_a = run(callbacks=[_StopAt()])
    path = tmp_path / "semisup.pt"
    with pytest.raises(KeyboardInterrupt):  # saved at 4, stopped at 5
        run(checkpoint=path, checkpoint_every=4, callbacks=[_StopAt(5)])
    got, hist_b = run(checkpoint=path, checkpoint_every=4,
                      callbacks=[_StopAt()])
    _equal(got, expected)
    assert hist_a.step == hist_b.step
    for name in ("loss_D", "loss_G", "test_error"):
        assert hist_a[name] == hist_b[name]
        assert hist_a.steps_of(name) == hist_b.steps_of(name)


def test_fit_gan_refuses_to_resume_another_schedule(tmp_path):
    G, D, x, y, lab = _tiny()
    path = tmp_path / "semisup.pt"
    semisup.fit_gan(G, D, x[lab], y[lab], x, steps=2, batch_size=8,
                    checkpoint=path, progress=False)
    with pytest.raises(ValueError, match="steps: saved 2, now 4"):
        semisup.fit_gan(G, D, x[lab], y[lab], x, steps=4, batch_size=8,
                        checkpoint=path, progress=False)


def test_fit_supervised_resumes_bit_for_bit(tmp_path):
    def run(**loop):
        _, D, x, y, lab = _tiny()
        torch.manual_seed(3)
        loss = semisup.fit_supervised(D, x[lab], y[lab], steps=8,
                                      batch_size=8, max_shift=2,
                                      progress=False, **loop)
        return _params(D), loss

    expected, loss_a = run(callbacks=[_StopAt()])
    path = tmp_path / "supervised.pt"
    with pytest.raises(KeyboardInterrupt):
        run(checkpoint=path, checkpoint_every=4, callbacks=[_StopAt(5)])
    got, loss_b = run(checkpoint=path, checkpoint_every=4,
                      callbacks=[_StopAt()])
    _equal(got, expected)
    assert loss_a == loss_b and len(loss_a) == 8


def test_an_error_in_the_G_step_leaves_D_trainable():
    G, D, x, _, _ = _tiny()
    opt_G = torch.optim.Adam(G.parameters())

    def broken(z):
        raise KeyboardInterrupt  # as if Ctrl-C came inside the G step

    with pytest.raises(KeyboardInterrupt):
        semisup.update_G(broken, D, opt_G, x[:4], torch.rand(4, 8))
    assert all(p.requires_grad for p in D.parameters())


def test_update_G_uses_the_shared_feature_matching():
    G, D, x, _, _ = _tiny()
    D.eval()  # no noise: the loss is a function of the weights alone
    z = torch.rand(6, 8)
    opt_G = torch.optim.SGD(G.parameters(), lr=0.0)
    loss = semisup.update_G(G, D, opt_G, x[:6], z)
    with torch.no_grad():
        expected = losses.feature_matching(D.features(x[:6]),
                                           D.features(G(z)))
    assert torch.equal(loss, expected)


def test_chapter_10_uses_the_settings_chosen_on_validation():
    # the values in ganlib are the ones the validation script chose and
    # saved; rerunning the script and not updating them fails here
    import json
    from pathlib import Path

    saved = json.loads((Path(__file__).resolve().parents[1] / "benchmarks" /
                        "semisup-validation.json").read_text())
    chosen = semisup.CHOSEN_ON_VALIDATION
    assert chosen["input_noise"] == saved["input_noise"]
    assert chosen["max_shift"] == saved["max_shift"]
    errors = sorted(row["val_error"] for row in saved["table"])
    assert abs(chosen["val_error"] - errors[0]) < 1e-6
    assert abs(chosen["runner_up_val_error"] - errors[1]) < 1e-6
    assert saved["validation_labels"] == chosen["validation_digits"] == 500
    # the chapter reads them from ganlib, not typed into its cells
    nb = json.loads((Path(__file__).resolve().parents[1] / "chapters" /
                     "10_semi_supervised.ipynb").read_text())
    code = "\n".join("".join(c["source"]) for c in nb["cells"]
                     if c["cell_type"] == "code")
    assert 'input_noise=chosen["input_noise"]' in code
    assert 'max_shift=chosen["max_shift"]' in code
    assert "input_noise=0.8" not in code and "max_shift=2" not in code
