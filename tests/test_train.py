"""Smoke runs of the trainer, exact resume, NaN detection, bad input."""

import os
import signal

import pytest
import torch

from ganlib import checkpoint, data, device, losses, models, train


def tiny_pair(seed=0):
    torch.manual_seed(seed)
    return models.MLPGenerator(2, 2, (16,)), models.MLPDiscriminator(2, (16,))


def flat(module):
    return torch.cat([p.detach().flatten() for p in module.parameters()])


@pytest.mark.parametrize("source", ["ring8", "grid25", "gaussian_1d"])
def test_trainer_smoke_on_toy_sources(source):
    sampler = getattr(data, source)()
    dim = sampler.dim
    G = models.MLPGenerator(2, dim, (16,))
    D = models.MLPDiscriminator(dim, (16,))
    before = flat(G).clone()
    hist = train.train(G, D, sampler, steps=6, batch_size=16, k=2,
                       log_every=4, progress=False)
    assert hist.step == list(range(1, 7))
    assert all(0 <= v <= 1 for v in hist["D_real"] + hist["D_fake"])
    assert not torch.equal(before, flat(G))


def test_trainer_smoke_on_mnist_conditional_with_callbacks():
    x, y = data.load_mnist("train", "embedded")
    G = models.DCGANGenerator(latent_dim=8, width=8, n_classes=10)
    D = models.DCGANDiscriminator(width=8, n_classes=10)
    z = torch.randn(10, 8)
    snaps = train.Snapshots(z, every=2, cond=[torch.arange(10)])
    ema = train.EMA(G, decay=0.9)
    hist = train.train(G, D, data.TensorSampler(x[:256], y[:256]), steps=4,
                       batch_size=8, callbacks=[snaps, ema], progress=False)
    assert snaps.steps == [2, 4] and snaps.frames[0].shape == (10, 1, 28, 28)
    assert len(hist["loss_G"]) == 4
    assert not torch.equal(flat(ema.G_ema), flat(G))


def test_minimax_loss_runs_through_the_trainer():
    G, D = tiny_pair()
    hist = train.train(G, D, data.ring8(), steps=3, batch_size=8,
                       loss_G=losses.g_loss_minimax, progress=False)
    assert all(v <= 0 for v in hist["loss_G"])  # E log(1 - D) <= 0


def test_resume_equals_uninterrupted_run(tmp_path):
    def run(steps, path):
        G, D = tiny_pair(seed=1)
        ema = train.EMA(G, 0.9)
        hist = train.train(G, D, data.ring8(), steps=steps, batch_size=16,
                           k=2, checkpoint=path, checkpoint_every=5,
                           log_every=3, callbacks=[ema], progress=False)
        return G, D, ema, hist

    torch.manual_seed(123)
    G_a, D_a, ema_a, hist_a = run(12, None)
    torch.manual_seed(123)
    path = tmp_path / "run.pt"
    run(7, path)  # "interrupted" after 7 steps (checkpoint written at end)
    torch.manual_seed(999)  # the resumed run restores its own RNG state
    G_b, D_b, ema_b, hist_b = run(12, path)
    assert torch.equal(flat(G_a), flat(G_b))
    assert torch.equal(flat(D_a), flat(D_b))
    assert torch.equal(flat(ema_a.G_ema), flat(ema_b.G_ema))
    assert hist_a["loss_D"] == hist_b["loss_D"] and hist_a.step == hist_b.step


def test_ctrl_c_finishes_the_step_then_saves_it(tmp_path):
    class CtrlC(train.Callback):  # a real SIGINT, sent during step 4
        every = 1

        def __call__(self, it, step, history):
            if it == 4:
                os.kill(os.getpid(), signal.SIGINT)

    path = tmp_path / "run.pt"
    G, D = tiny_pair()
    with pytest.raises(KeyboardInterrupt, match="after step 4"):
        train.train(G, D, data.ring8(), steps=10, batch_size=8,
                    checkpoint=path, callbacks=[CtrlC()], progress=False)
    state = checkpoint.load(path)
    assert state["step"] == 4 and len(state["history"]["step"]) == 4
    # the handler is restored: Ctrl-C outside training interrupts again
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    G, D = tiny_pair()
    hist = train.train(G, D, data.ring8(), steps=10, batch_size=8,
                       checkpoint=path, callbacks=[CtrlC()], progress=False)
    assert hist.step == list(range(1, 11))


def test_an_error_in_the_G_step_leaves_D_trainable():
    G, D = tiny_pair()

    def broken_loss(fake_out):
        raise KeyboardInterrupt  # as if Ctrl-C came inside the G step

    with pytest.raises(KeyboardInterrupt):
        train.train(G, D, data.ring8(), steps=3, batch_size=8,
                    loss_G=broken_loss, progress=False)
    assert all(p.requires_grad for p in D.parameters())


SIGINT_RUN = """
import sys, torch
from ganlib import data, models, train
torch.manual_seed(0)
G, D = models.MLPGenerator(2, 2, (64,)), models.MLPDiscriminator(2, (64,))
print("ready", flush=True)
try:
    train.train(G, D, data.ring8(), steps=int(sys.argv[2]), batch_size=256,
                k=2, checkpoint=sys.argv[1], checkpoint_every=1000,
                log_every=7, progress=False, device="cpu")
except KeyboardInterrupt:
    sys.exit(3)
torch.save({"G": G.state_dict(), "D": D.state_dict()}, sys.argv[1] + ".end")
"""


def test_real_sigint_at_random_times_resumes_bit_identically(tmp_path):
    # an uninterrupted run, then runs stopped by SIGINT at random moments
    # and resumed until done: the final weights must be the same
    import random
    import subprocess
    import sys
    import time

    script = tmp_path / "run.py"
    script.write_text(SIGINT_RUN)
    steps = "400"

    def start(path):
        proc = subprocess.Popen([sys.executable, str(script), str(path),
                                 steps], stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        return proc

    ref = tmp_path / "ref.pt"
    assert start(ref).wait(timeout=300) == 0
    rng, interrupted = random.Random(0), 0
    path = tmp_path / "cut.pt"
    for attempt in range(20):
        proc = start(path)
        time.sleep(rng.uniform(0.05, 0.6))
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=300)
        assert code in (0, 3), f"the run crashed (exit {code})"
        interrupted += code == 3
        if code == 0:
            break
    else:
        proc = start(path)
        assert proc.wait(timeout=300) == 0
    assert interrupted >= 1
    end_ref = torch.load(str(ref) + ".end")
    end_cut = torch.load(str(path) + ".end")
    for net in ("G", "D"):
        for name, value in end_ref[net].items():
            assert torch.equal(value, end_cut[net][name]), (net, name)


def test_nan_is_reported_with_its_step():
    G, D = tiny_pair()

    def poisoned(n):
        x = data.ring8()(n)
        poisoned.calls += 1
        if poisoned.calls == 3:  # the real batch of step 3 holds a NaN
            x[0, 0] = float("nan")
        return x
    poisoned.calls = 0
    with pytest.raises(FloatingPointError, match="diverged at step 3"):
        train.train(G, D, poisoned, steps=10, batch_size=8, log_every=5,
                    progress=False)


def test_corrupt_and_mismatched_checkpoints_explain_themselves(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    G, D = tiny_pair()
    with pytest.raises(ValueError, match="corrupt.*delete it"):
        train.train(G, D, data.ring8(), steps=2, checkpoint=bad,
                    progress=False)
    good = tmp_path / "good.pt"
    train.train(G, D, data.ring8(), steps=2, checkpoint=good, progress=False)
    G2 = models.MLPGenerator(2, 2, (32,))  # another width
    with pytest.raises(ValueError, match="does not match this G"):
        train.train(G2, D, data.ring8(), steps=4, checkpoint=good,
                    progress=False)


def test_bad_arguments_are_rejected():
    G, D = tiny_pair()
    with pytest.raises(ValueError, match="k >= 1"):
        train.train(G, D, data.ring8(), steps=2, k=0, progress=False)
    with pytest.raises(ValueError, match="decay"):
        train.EMA(G, decay=1.5)


def test_update_D_leaves_G_untouched_and_update_G_leaves_D_untouched():
    G, D = tiny_pair()
    opt_G = torch.optim.SGD(G.parameters(), lr=0.1)
    opt_D = torch.optim.SGD(D.parameters(), lr=0.1)
    g0, d0 = flat(G).clone(), flat(D).clone()
    x = data.ring8()(8)
    train.update_D(G, D, opt_D, losses.d_loss, x, torch.randn(8, 2))
    assert torch.equal(flat(G), g0) and not torch.equal(flat(D), d0)
    d1 = flat(D).clone()
    train.update_G(G, D, opt_G, losses.g_loss_nonsaturating,
                   torch.randn(8, 2))
    assert torch.equal(flat(D), d1) and not torch.equal(flat(G), g0)
    assert all(p.requires_grad for p in D.parameters())


def dcgan_pair(seed):
    torch.manual_seed(seed)  # batch norm in both: G's running stats too
    return (models.DCGANGenerator(latent_dim=8, width=8),
            models.DCGANDiscriminator(width=8))


def test_shared_fake_step_equals_the_two_halves_on_the_same_noise():
    x = torch.rand(16, 1, 28, 28) * 2 - 1
    z = torch.randn(16, 8)
    results = []
    for shared in (False, True):
        G, D = dcgan_pair(seed=3)
        opt_G = torch.optim.Adam(G.parameters(), lr=1e-3)
        opt_D = torch.optim.Adam(D.parameters(), lr=1e-3)
        kwargs = dict(x_fake=G(z)) if shared else {}  # one G(z), kept
        l_D, d_real, d_fake = train.update_D(G, D, opt_D, losses.d_loss,
                                             x, z, **kwargs)
        l_G = train.update_G(G, D, opt_G, losses.g_loss_nonsaturating, z,
                             **kwargs)
        results.append((flat(G), flat(D), torch.stack([l_D, l_G, d_real,
                                                       d_fake])))
        assert all(p.requires_grad for p in D.parameters())
    (g_a, d_a, logs_a), (g_b, d_b, logs_b) = results
    assert not torch.equal(g_a, flat(dcgan_pair(seed=3)[0]))  # G moved
    torch.testing.assert_close(g_b, g_a)
    torch.testing.assert_close(d_b, d_a)
    torch.testing.assert_close(logs_b, logs_a)


@pytest.mark.parametrize("k", [1, 3])
def test_trainer_shares_the_fake_batch_only_with_the_default_steps(k):
    x = torch.rand(64, 1, 28, 28) * 2 - 1
    calls = []

    class CountingG(models.DCGANGenerator):
        def forward(self, z, y=None):
            calls.append(torch.is_grad_enabled())
            return super().forward(z, y)

    def run(**kwargs):
        calls.clear()
        torch.manual_seed(0)
        G, D = CountingG(latent_dim=8, width=8), models.DCGANDiscriminator(8)
        train.train(G, D, data.TensorSampler(x), steps=2, batch_size=8,
                    k=k, progress=False, device=torch.device("cpu"),
                    **kwargs)
        return list(calls), flat(G)

    # shared: per step, k - 1 no-grad forwards and one kept for the G step
    shared_calls, g_shared = run()
    assert shared_calls == 2 * ([False] * (k - 1) + [True])
    # Algorithm 1 as written: k no-grad forwards, then one for the G step
    separate_calls, g_separate = run(share_fake=False)
    assert separate_calls == 2 * ([False] * k + [True])
    # a custom half that cannot take x_fake must say share_fake=False
    with pytest.raises(ValueError, match="share_fake=False"):
        run(step_G=lambda *a: train.update_G(*a))
    custom_calls, _ = run(step_G=lambda *a: train.update_G(*a),
                          share_fake=False)
    assert custom_calls == separate_calls
    # fresh noise for the G step is a different run
    assert not torch.equal(g_shared, g_separate)


@pytest.mark.parametrize("amp", [False, True])
def test_amp_runs_the_forward_passes_in_bfloat16(amp):
    torch.manual_seed(0)
    G = models.DCGANGenerator(latent_dim=8, width=8)
    D = models.DCGANDiscriminator(width=8)
    seen = []
    D.features[0].register_forward_hook(
        lambda m, inp, out: seen.append(out.dtype))
    x = torch.rand(64, 1, 28, 28) * 2 - 1
    history = train.train(G, D, data.TensorSampler(x), steps=3,
                          batch_size=8, progress=False, amp=amp,
                          device=torch.device("cpu"))
    expected = torch.bfloat16 if amp else torch.float32
    assert seen and all(dtype == expected for dtype in seen)
    # weights stay float32 and finite, the logged losses are finite floats
    for p in [*G.parameters(), *D.parameters()]:
        assert p.dtype == torch.float32 and torch.isfinite(p).all()
    assert all(v == v for v in history["loss_D"] + history["loss_G"])


@pytest.mark.parametrize("avx512_bf16, amx, on", [
    (False, False, False),   # no bfloat16 in hardware: emulated, slow
    (True, False, False),    # AVX512-BF16 alone: slower small models
    (True, True, True),      # AMX matrix units: bfloat16 by default
])
def test_amp_by_default_only_on_cpus_with_amx(monkeypatch, avx512_bf16, amx,
                                              on):
    monkeypatch.setenv("GANLIB_AMP", "auto")
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported",
                        lambda: avx512_bf16)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
    cpu = torch.device("cpu")
    assert train._use_amp(cpu) is on
    assert device.native_bf16(cpu) is (avx512_bf16 or amx)
    assert device.precision(cpu) == ("bfloat16 autocast" if on
                                     else "float32")
    # the tests themselves run in float32 on every CPU
    monkeypatch.setenv("GANLIB_AMP", "0")
    assert train._use_amp(cpu) is False


def test_resuming_under_other_settings_is_refused(tmp_path):
    path = tmp_path / "run.pt"
    G, D = tiny_pair()
    train.train(G, D, data.ring8(), steps=6, batch_size=8, checkpoint=path,
                progress=False)
    cases = [
        (dict(lr=1e-3), "lr"),                          # another lr
        (dict(batch_size=16), "batch_size"),
        (dict(k=2), "'k'|k:"),
        (dict(loss_G=losses.g_loss_minimax), "loss_G"),
        (dict(callbacks=[train.EMA(G, 0.9)]), "callbacks"),
        (dict(steps=3), "past the 3 steps"),           # fewer than saved
    ]
    for change, message in cases:
        options = {**dict(steps=8, batch_size=8, checkpoint=path,
                          progress=False), **change}
        G, D = tiny_pair()
        with pytest.raises(ValueError, match=message):
            train.train(G, D, data.ring8(), **options)
    # the same settings, more steps: the run goes on
    G, D = tiny_pair()
    hist = train.train(G, D, data.ring8(), steps=8, batch_size=8,
                       checkpoint=path, progress=False)
    assert hist.step == list(range(1, 9))


def test_device_may_be_a_string_and_zero_intervals_are_refused():
    G, D = tiny_pair()
    hist = train.train(G, D, data.ring8(), steps=2, batch_size=8,
                       device="cpu", progress=False)
    assert hist.step == [1, 2]
    for option in ("log_every", "checkpoint_every"):
        with pytest.raises(ValueError, match=f"{option} must be"):
            train.train(G, D, data.ring8(), steps=2, progress=False,
                        **{option: 0})
    snaps = train.Snapshots(torch.randn(4, 2), every=0)
    with pytest.raises(ValueError, match="Snapshots.every must be"):
        train.train(G, D, data.ring8(), steps=2, callbacks=[snaps],
                    progress=False)


def test_history_names_what_it_lacks():
    hist = train.History()
    hist.append(1, {"loss": 0.5})
    hist.add(1, "test_error", 0.1)
    assert hist["loss"] == [0.5] and hist.steps_of("test_error") == [1]
    with pytest.raises(KeyError, match="has no 'loss_D'"):
        hist["loss_D"]


@pytest.mark.parametrize("share_fake", [True, False])
def test_gan_step_equals_its_two_halves_run_by_hand(share_fake):
    # the oracle: one GANStep (k = 2) against update_D twice and update_G
    # once, called by hand on the same draws of real data and noise
    x = torch.rand(64, 1, 28, 28) * 2 - 1
    runs = []
    for by_hand in (False, True):
        G, D = dcgan_pair(seed=5)
        opt_G = torch.optim.Adam(G.parameters(), lr=1e-3)
        opt_D = torch.optim.Adam(D.parameters(), lr=1e-3)
        sample = data.TensorSampler(x)
        torch.manual_seed(7)
        if by_hand:
            for i in range(2):
                x_real = sample(8)
                z = torch.randn(8, 8)
                shared = {}
                if share_fake and i == 1:
                    shared = {"x_fake": G(z)}
                l_D, d_real, d_fake = train.update_D(
                    G, D, opt_D, losses.d_loss, x_real, z, **shared)
            if not share_fake:
                z = torch.randn(8, 8)
            l_G = train.update_G(G, D, opt_G, losses.g_loss_nonsaturating,
                                 z, **shared)
            logs = [l_D, l_G, d_real, d_fake]
        else:
            step = train.GANStep(G, D, sample, opt_G=opt_G, opt_D=opt_D,
                                 batch_size=8, k=2, share_fake=share_fake)
            out = step()
            logs = [out[n] for n in ("loss_D", "loss_G", "D_real",
                                     "D_fake")]
        runs.append((flat(G), flat(D), torch.stack(logs)))
    (g_a, d_a, logs_a), (g_b, d_b, logs_b) = runs
    assert torch.equal(g_a, g_b) and torch.equal(d_a, d_b)
    assert torch.equal(logs_a, logs_b)
