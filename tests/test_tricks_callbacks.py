"""Callbacks and the instance-noise wrapper: GAP's swaps, annealed
instance noise and the learning-rate decay."""

from types import SimpleNamespace

import pytest
import torch
from torch import nn

from ganlib import tricks


def test_gap_swaps_discriminators_and_their_adam_state():
    D = tricks.ToyDiscriminator(6, hidden=(4,))  # 2 seeds x 3 pairs
    opt = torch.optim.Adam(D.parameters())
    D(torch.randn(6, 4, 2)).sum().backward()
    opt.step()
    w0 = D.head.weight.detach().clone()
    m0 = opt.state[D.head.weight]["exp_avg"].clone()
    swap = tricks.SwapDiscriminators(D, opt, n_groups=2, n_pairs=3)
    torch.manual_seed(5)
    perm = swap.permutation()
    torch.manual_seed(5)
    swap(1, SimpleNamespace(D=D), None)
    assert sorted(perm[:3].tolist()) == [0, 1, 2]  # shuffled within a seed
    assert sorted(perm[3:].tolist()) == [3, 4, 5]
    assert torch.equal(D.head.weight, w0[perm])
    assert torch.equal(opt.state[D.head.weight]["exp_avg"], m0[perm])
    with pytest.raises(ValueError):
        tricks.SwapDiscriminators(D, opt, n_groups=4, n_pairs=2)


def test_instance_noise_anneals_to_the_plain_discriminator():
    D = tricks.ToyDiscriminator(1, hidden=(4,))
    noisy = tricks.InstanceNoise(D, sigma=0.5)
    x = torch.randn(1, 6, 2)
    assert not torch.allclose(noisy(x), D(x))
    tricks.AnnealNoise(0.5, steps=10)(10, SimpleNamespace(D=noisy), None)
    assert noisy.sigma == 0.0 and torch.allclose(noisy(x), D(x))


def test_lr_decay_is_linear():
    p = nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=1.0)
    decay = tricks.LRDecay([opt], steps=10, final=0.2)
    decay(5, None, None)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.6)
    decay(10, None, None)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.2)
