"""Device choice and quick/full budgets."""

import pytest
import torch

from ganlib import budgets, device


def test_cpu_is_chosen_without_accelerators(monkeypatch):
    monkeypatch.delenv("GANLIB_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert device.get_device() == torch.device("cpu")


def test_cuda_is_preferred_when_present(monkeypatch):
    monkeypatch.delenv("GANLIB_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert device.get_device() == torch.device("cuda")


def test_asking_for_missing_cuda_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        device.get_device("cuda")


def test_seed_everything_reproduces():
    device.seed_everything(3)
    a = torch.randn(3)
    device.seed_everything(3)
    assert torch.equal(a, torch.randn(3))


def test_budgets_follow_the_environment(monkeypatch):
    monkeypatch.setenv("GANLIB_QUICK", "1")
    assert budgets.pick(full=1000, quick=10) == 10 and budgets.is_quick()
    monkeypatch.setenv("GANLIB_QUICK", "0")
    assert budgets.pick(full=1000, quick=10) == 1000
    assert budgets.mode() == "full"
    monkeypatch.setenv("GANLIB_QUICK", "maybe")
    with pytest.raises(ValueError, match="GANLIB_QUICK"):
        budgets.is_quick()


def test_progress_bars_honour_tqdm_disable(monkeypatch):
    monkeypatch.setenv("TQDM_DISABLE", "1")
    assert not budgets.show_progress(True)
    monkeypatch.delenv("TQDM_DISABLE")
    assert budgets.show_progress(True) and not budgets.show_progress(False)


def test_ganlib_amp_forces_the_precision(monkeypatch):
    cpu = torch.device("cpu")
    monkeypatch.setenv("GANLIB_AMP", "0")
    assert device.use_bf16(cpu) is False
    assert device.precision(cpu) == "float32"
    monkeypatch.setenv("GANLIB_AMP", "1")
    assert device.use_bf16(cpu) is True
    assert "bfloat16" in device.describe()
    monkeypatch.setenv("GANLIB_AMP", "fast")
    with pytest.raises(ValueError, match="GANLIB_AMP='fast'"):
        device.use_bf16(cpu)


def test_small_models_stay_in_float32_on_an_amx_cpu(monkeypatch):
    # AMX makes bfloat16 the CPU default, but not for the 1-D GANs
    cpu = torch.device("cpu")
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True)
    monkeypatch.delenv("GANLIB_AMP", raising=False)
    assert device.use_bf16(cpu) is True
    assert device.use_bf16(cpu, small_model=True) is False
    assert device.precision(cpu, small_model=True) == "float32"
    monkeypatch.setenv("GANLIB_AMP", "1")  # forcing still forces
    assert device.use_bf16(cpu, small_model=True) is True


def test_oned_fit_asks_for_the_small_model_precision(monkeypatch):
    from ganlib import data, oned, train
    from ganlib.models import MLPDiscriminator, MLPGenerator
    seen = {}
    real_train = train.train

    def spy(*args, **kwargs):
        seen["amp"] = kwargs.get("amp")
        return real_train(*args, **kwargs)

    monkeypatch.setattr(train, "train", spy)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True)
    monkeypatch.delenv("GANLIB_AMP", raising=False)
    G = MLPGenerator(latent_dim=1, out_dim=1, hidden=(8,))
    D = MLPDiscriminator(in_dim=1, hidden=(8,))
    oned.fit(G, D, data.mixture_1d([0.0], [1.0]), steps=2, every=1,
             device=torch.device("cpu"))
    assert seen["amp"] is False
