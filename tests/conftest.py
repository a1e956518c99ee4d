"""Shared test settings: quick mode, embedded data, a private cache."""

import os

import pytest
import torch

os.environ.setdefault("GANLIB_QUICK", "1")
os.environ.setdefault("GANLIB_DATA", "embedded")
os.environ.setdefault("TQDM_DISABLE", "1")
# float32 whatever the CPU: the oracle tests compare with hand-written
# float32 steps; the bfloat16 path has its own tests (amp=True)
os.environ.setdefault("GANLIB_AMP", "0")


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    yield
