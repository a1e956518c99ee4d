"""Every model trains through train.fit and resumes bit for bit.

For each model: N steps in one go, and k steps with a checkpoint then a
resumed run to N, must end with identical weights and logs.
"""

import os
import signal

import pytest
import torch
import torch.nn.functional as F

from ganlib import autoencoders as ae
from ganlib import bigan, classifier, data, models, train


def _images(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 28, 28, generator=g) * 2 - 1


def _labels(n=64):
    return torch.arange(n) % 10


def _gan(**loop):
    torch.manual_seed(0)
    G, D = models.DCGANGenerator(8, 8), models.DCGANDiscriminator(8)
    hist = train.train(G, D, data.TensorSampler(_images()), steps=loop.pop(
        "steps"), batch_size=8, k=2, progress=False, device="cpu", **loop)
    return [G, D], hist


def _autoencoder(**loop):
    torch.manual_seed(0)
    model = ae.ConvAutoencoder(4)
    losses = ae.fit_autoencoder(model, _images(), steps=loop.pop("steps"),
                                batch_size=8, progress=False, **loop)
    return [model], losses


def _vae(**loop):
    torch.manual_seed(0)
    model = ae.VAE(2, width=8)
    losses = ae.fit_vae(model, _images(), steps=loop.pop("steps"),
                        batch_size=8, progress=False, **loop)
    return [model], losses


def _classifier(**loop):
    torch.manual_seed(0)
    model = classifier.fit(_images(), _labels(), loop.pop("steps"),
                           batch_size=8, progress=False, **loop)
    return [model], None


def _bigan(**loop):
    torch.manual_seed(0)
    E = bigan.MLPEncoder(latent_dim=4, hidden=16)
    G = bigan.MLPGenerator(latent_dim=4, hidden=16)
    D = bigan.MLPJointDiscriminator(latent_dim=4, hidden=16)
    hist = bigan.fit(E, G, D, data.TensorSampler(_images()),
                     steps=loop.pop("steps"), batch_size=8, progress=False,
                     **loop)
    return [E, G, D], hist


MODELS = {"gan": _gan, "autoencoder": _autoencoder, "vae": _vae,
          "classifier": _classifier, "bigan": _bigan}


def _state(nets):
    return [t.clone() for net in nets for t in net.state_dict().values()]


def _logs(hist):
    if hist is None or isinstance(hist, list):
        return hist
    return {name: hist[name] for name in hist.keys()}


class CtrlC(train.Callback):
    """A real SIGINT during step 5: the loop finishes the step, saves, stops."""

    def __call__(self, it, step, history):
        if it == 5:
            os.kill(os.getpid(), signal.SIGINT)


@pytest.mark.parametrize("name", MODELS)
def test_resumed_run_equals_uninterrupted_run(name, tmp_path):
    run = MODELS[name]
    nets_a, hist_a = run(steps=8)
    path = tmp_path / "run.pt"
    with pytest.raises(KeyboardInterrupt, match="after step 5"):
        run(steps=8, checkpoint=path, callbacks=[CtrlC()])
    torch.manual_seed(999)  # the resumed run restores its own RNG
    nets_b, hist_b = run(steps=8, checkpoint=path, callbacks=[CtrlC()])
    for a, b in zip(_state(nets_a), _state(nets_b), strict=True):
        assert torch.equal(a, b)
    assert _logs(hist_a) == _logs(hist_b)


def test_resuming_an_autoencoder_under_another_loss_is_refused(tmp_path):
    path = tmp_path / "ae.pt"
    _autoencoder(steps=3, checkpoint=path)
    with pytest.raises(ValueError, match="loss"):
        torch.manual_seed(0)
        ae.fit_autoencoder(ae.ConvAutoencoder(4), _images(), F.l1_loss,
                           steps=6, batch_size=8, progress=False,
                           checkpoint=path)
