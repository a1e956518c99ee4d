"""Plot helpers produce figures and animations, and reject bad input."""

import matplotlib
import pytest
import torch

from ganlib import plot, train

matplotlib.use("Agg")


def test_image_grid_shape():
    grid = plot.image_grid(torch.rand(6, 1, 28, 28) * 2 - 1, nrow=3)
    assert grid.shape == (2 * 29 + 1, 3 * 29 + 1, 3)
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        plot.image_grid(torch.rand(28, 28))


def test_animation_is_html_with_every_frame():
    frames = [torch.rand(4, 1, 28, 28) * 2 - 1 for _ in range(3)]
    html = plot.animate_images(frames, [1, 2, 3], nrow=2)
    assert "<script" in html.data and html.data.count("data:image/png") == 3
    with pytest.raises(ValueError, match="at least one frame"):
        plot.animate([], lambda ax, f: None)


def test_plot_history_needs_data():
    with pytest.raises(ValueError, match="empty"):
        plot.plot_history(train.History())
    h = train.History()
    for i in range(1, 40):
        h.append(i, 1.0, 2.0, 0.6, 0.4)
    axes = plot.plot_history(h, smooth=5)
    assert len(axes) == 2


def test_animation_loads_nothing_from_outside():
    html = plot.animate_images([torch.zeros(1, 1, 28, 28)], [1]).data
    assert "://" not in html.split("<script")[0]
    assert "font-awesome" not in html and "bootstrapcdn" not in html
