"""Checkpoints: save a training run atomically, resume it exactly."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import torch
from torch import nn

FORMAT = "ganlib-checkpoint-1"


def rng_state() -> dict:
    """Every random generator a training step draws from."""
    state = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore the generators saved by :func:`rng_state`."""
    torch.set_rng_state(state["cpu"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save(path: str | os.PathLike, state: dict) -> None:
    """Write ``state`` to ``path`` atomically: a crash never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # a name of its own, in the same folder (so os.replace is atomic): two
    # writers of one path never write into each other's temporary file
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        torch.save({"format": FORMAT, **state}, tmp)
        os.replace(tmp, path)
    except (OSError, RuntimeError) as err:  # torch's C++ error names no file
        raise OSError(f"cannot write checkpoint {path} "
                      f"({type(err).__name__}: {err}); check that its "
                      "folder is writable and has space") from err
    finally:
        tmp.unlink(missing_ok=True)  # gone already when the write succeeded


def load(path: str | os.PathLike) -> dict:
    """Read a checkpoint with ``weights_only=True``, or say what is wrong."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise ValueError(
            f"checkpoint {path} cannot be read ({type(err).__name__}: {err}); "
            "it is corrupt or not a ganlib checkpoint: delete it to start "
            "the run afresh"
        ) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"{path} is not a ganlib checkpoint (expected format "
                         f"{FORMAT!r}); delete it or pass another path")
    return state


def load_module(module: nn.Module | torch.optim.Optimizer, state: dict,
                name: str, path) -> None:
    """``load_state_dict`` with an error that names the mismatch and the fix."""
    try:
        module.load_state_dict(state)
    except (RuntimeError, ValueError, KeyError) as err:
        first = str(err).strip().splitlines()[0]
        raise ValueError(
            f"checkpoint {path} does not match this {name} ({first}); it was "
            "saved from a different model or optimiser: build the same one, "
            "or delete the checkpoint to start afresh"
        ) from None
