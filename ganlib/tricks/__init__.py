r"""GAN training tricks, and toy models that train several seeds at once.

Toy models (for the 2-D mode-collapse benchmarks) hold ``n_models``
independent networks in stacked weight tensors and run them with batched
matrix products: a tensor (S, B, d) holds a batch of B points for each of
S models, so one training run trains S seeds (or S networks of one method)
for the price of one. A toy discriminator returns its logits flattened to
(S * B,), model-major, so that the losses of :mod:`ganlib.losses` and the
steps of :mod:`ganlib.train` work unchanged.

Tricks, each a loss, a layer, a module wrapper, a step function for
:func:`ganlib.train.train` (same signature as ``update_D`` / ``update_G``)
or a callback:

* one-sided label smoothing :func:`d_loss_one_sided` (Salimans 2016)
* feature matching :class:`FeatureMatchingStep` (Salimans 2016)
* minibatch discrimination :class:`MinibatchDiscrimination` (Salimans 2016)
* unrolled GAN :class:`UnrolledStep` (Metz 2016)
* generative adversarial parallelisation :class:`SwapDiscriminators`
  (Im 2016)
* instance noise :class:`InstanceNoise`, :class:`AnnealNoise`
  (Sonderby 2017)
* WGAN-GP :func:`gradient_penalty`, :class:`WGANGPStep` (Gulrajani 2017)
* spectral normalisation :func:`batched_spectral_norm` (Miyato 2018;
  ``torch.nn.utils.parametrizations.spectral_norm`` for ordinary layers)
* PacGAN: ``ToyDiscriminator(pack=m)`` (Lin 2018)

and one that acts after training: discriminator rejection sampling
:func:`rejection_sample`, :func:`toy_rejection_samples` (Azadi 2019).

The code lives in submodules, one concern each: ``toys`` (the batched
toy models), ``spectral`` (spectral normalisation), ``losses``, ``steps``,
``noise`` (instance noise), ``callbacks``, ``benchmark`` (the methods of
the mode-collapse benchmark) and ``rejection``. Every name is re-exported
here, so ``from ganlib import tricks; tricks.build_toy(...)`` works.
"""

from __future__ import annotations

from ganlib.tricks.spectral import _BatchedSpectralNorm, batched_spectral_norm
from ganlib.tricks.toys import (BatchedLinear, BatchedSampler,
                                MinibatchDiscrimination, ToyDiscriminator,
                                ToyGenerator, _as_targets, _check_batched,
                                batched_mlp)
from ganlib.tricks.losses import (d_loss_one_sided, d_loss_wgan,
                                  g_loss_wgan, gradient_penalty)
from ganlib.tricks.steps import (FeatureMatchingStep, UnrolledStep,
                                 WGANGPStep, unrolled_params)
from ganlib.tricks.noise import AnnealNoise, InstanceNoise
from ganlib.tricks.callbacks import LRDecay, SwapDiscriminators
from ganlib.tricks.benchmark import (DRS_METHODS, GOALS, METHODS, PROTOCOL,
                                     Protocol, build_toy, load_report,
                                     rank_key, run_method, table_rows,
                                     format_table, toy_samples)
from ganlib.tricks.images import spectral_norm_all, train_dcgan
from ganlib.tricks.rejection import (_drs_logit, drs_accept_prob,
                                     rejection_sample, toy_rejection_samples)

# the public names, in the order of the old single module (the API page
# documents them from this list)
__all__ = [
    "BatchedLinear", "batched_mlp", "ToyGenerator", "MinibatchDiscrimination",
    "ToyDiscriminator", "BatchedSampler", "batched_spectral_norm",
    "d_loss_one_sided", "d_loss_wgan", "g_loss_wgan", "gradient_penalty",
    "WGANGPStep", "FeatureMatchingStep", "unrolled_params", "UnrolledStep",
    "LRDecay", "InstanceNoise", "AnnealNoise", "SwapDiscriminators",
    "METHODS", "build_toy", "toy_samples", "Protocol", "PROTOCOL",
    "DRS_METHODS", "GOALS", "run_method", "rank_key", "load_report",
    "table_rows", "format_table",
    "spectral_norm_all", "train_dcgan",
    "drs_accept_prob", "rejection_sample", "toy_rejection_samples",
]
