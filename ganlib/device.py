"""Device choice and seeding, in one place for the whole book."""

from __future__ import annotations

import os
import platform
import random

import numpy as np
import torch


def get_device(prefer: str | None = None) -> torch.device:
    """Return CUDA if present, then Apple MPS, then the CPU.

    ``prefer`` (or the ``GANLIB_DEVICE`` variable) forces a device, e.g. "cpu".
    """
    name = prefer or os.environ.get("GANLIB_DEVICE")
    if not name and is_distributed() and torch.cuda.is_available():
        # one GPU per process under torchrun
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    if name:
        return _checked(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def _available() -> list[str]:
    """The device types this machine can run on, e.g. ['cpu', 'cuda']."""
    names = ["cpu"]
    if torch.cuda.is_available():
        names.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        names.append("mps")
    return names


def _checked(name) -> torch.device:
    """The device ``name`` names, or an error saying what is available."""
    names = _available()
    hint = (f"available here: {', '.join(names)}; unset GANLIB_DEVICE or "
            "ask for one of these")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise ValueError(f"{name!r} is not a device name ({hint})") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} was asked for but CUDA is not "
                           f"available ({hint})")
    if device.type not in names:
        raise RuntimeError(f"device {name!r} was asked for but is not "
                           f"available ({hint})")
    if device.type == "cuda" and device.index is not None \
            and device.index >= torch.cuda.device_count():
        raise RuntimeError(f"device {name!r} was asked for but this machine "
                           f"has {torch.cuda.device_count()} CUDA device(s) "
                           f"({hint})")
    return device


def is_distributed() -> bool:
    """True inside an initialised ``torch.distributed`` process group."""
    dist = torch.distributed
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    """This process's rank (0 when not distributed)."""
    return torch.distributed.get_rank() if is_distributed() else 0


def world_size() -> int:
    """Number of processes (1 when not distributed)."""
    return torch.distributed.get_world_size() if is_distributed() else 1


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (all devices) for a reproducible run."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # seeds CUDA and MPS generators too


def native_bf16(device: torch.device) -> bool:
    """Whether bfloat16 is fast here: a CUDA GPU that supports it, or a CPU
    with AVX512-BF16 or AMX (other CPUs emulate it, slowly)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and (torch.cpu._is_avx512_bf16_supported()
                                     or torch.cpu._is_amx_tile_supported())


def use_bf16(device: torch.device, small_model: bool = False) -> bool:
    """Whether training runs under bfloat16 autocast on ``device``.

    ``GANLIB_AMP=1`` forces it on, ``GANLIB_AMP=0`` off; unset (or
    ``auto``), it is on for CUDA GPUs that support bfloat16 and for CPUs
    with AMX, whose matrix units run bfloat16 products several times faster
    than float32 ones. CPUs with AVX512-BF16 but no AMX stay in float32:
    there bfloat16 sped up the DCGAN step but slowed the small models
    (the measurements are in benchmarks/precision-report.md, which
    benchmarks/compare_precisions.py writes). ``small_model=True`` (the
    one-dimensional GANs of ``ganlib.oned``) keeps a CPU in float32 even
    with AMX: casting costs more than the tiny products gain
    (benchmarks/oned-precision.md, written by
    benchmarks/oned_precision.py).
    """
    value = os.environ.get("GANLIB_AMP", "auto").strip().lower()
    if value in ("1", "on", "true", "yes"):
        return True
    if value in ("0", "off", "false", "no"):
        return False
    if value not in ("", "auto"):
        raise ValueError(f"GANLIB_AMP={value!r} is not understood; use 1 "
                         "(bfloat16 autocast), 0 (float32) or auto")
    if device.type == "cuda":
        return native_bf16(device)
    return (device.type == "cpu" and not small_model
            and torch.cpu._is_amx_tile_supported())


def precision(device: torch.device | None = None,
              small_model: bool = False) -> str:
    """The precision training runs in, in words, for setup lines
    (``small_model`` as in :func:`use_bf16`)."""
    device = device or get_device()
    return ("bfloat16 autocast" if use_bf16(device, small_model)
            else "float32")


def cpu_name() -> str:
    """The CPU's model name where Linux tells it, else what platform does."""
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def describe() -> str:
    """One line that says where the book's code runs."""
    device = get_device()
    threads = torch.get_num_threads()
    return f"ganlib runs on {device} (torch {torch.__version__}, " \
        f"{threads} CPU threads, {precision(device)})"
