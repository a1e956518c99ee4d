"""Plot helpers produce figures and animations, and reject bad input."""

import html
import re

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
        h.append(i, {"loss_D": 1.0, "loss_G": 2.0, "D_real": 0.6,
                     "D_fake": 0.4})
    axes = plot.plot_history(h, smooth=5)
    assert len(axes) == 2


def test_animation_loads_nothing_from_outside():
    html = plot.animate_images([torch.zeros(1, 1, 28, 28)], [1]).data
    assert "://" not in html.split("<script")[0]
    assert "font-awesome" not in html and "bootstrapcdn" not in html


def _player_imgs(page: str) -> list[str]:
    return re.findall(r"<img\b[^>]*>", page)


def test_animation_frame_carries_the_alt_text_escaped():
    alt = 'Digits "taking shape" <fast> & slow'
    page = plot.animate_images([torch.zeros(1, 1, 28, 28)], [1],
                               alt=alt).data
    imgs = _player_imgs(page)
    assert len(imgs) == 1 and 'id="_anim_img' in imgs[0]
    assert f'alt="{html.escape(alt, quote=True)}"' in imgs[0]
    assert "<fast>" not in page  # the raw text never reaches the markup


def test_animation_alt_defaults_and_rejects_empty():
    page = plot.animate_images([torch.zeros(1, 1, 28, 28)] * 2, [5, 9]).data
    alt = re.search(r'alt="([^"]*)"', _player_imgs(page)[0]).group(1)
    assert "step 5 to 9" in alt
    page = plot.animate([0], lambda ax, f: None).data
    assert re.search(r'<img alt="[^"]+"', page)
    with pytest.raises(ValueError, match="alt"):
        plot.animate([0], lambda ax, f: None, alt="  ")


def test_moving_average_by_hand():
    assert plot.moving_average([1.0, 2.0, 3.0, 4.0], 2).tolist() == \
        [1.5, 2.5, 3.5]
    # a window longer than the curve shrinks to it: one mean
    assert plot.moving_average([1.0, 3.0], 25).tolist() == [2.0]
    with pytest.raises(ValueError, match="non-empty"):
        plot.moving_average([], 5)
