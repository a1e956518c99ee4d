"""Small networks that several test modules share."""

import torch
from torch import nn


class LinearCritic(nn.Module):
    """D(x) = x . w + b on 2-D points: its input gradient is w everywhere."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.tensor([0.3, -2.0]))
        self.b = nn.Parameter(torch.tensor(0.5))

    def forward(self, x):
        return x @ self.w + self.b
