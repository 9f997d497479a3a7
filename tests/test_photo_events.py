"""The photo tab's crop strip: the model's crops enlarged by a whole factor, whatever their size,
and each region editor's crop, reconstruction, edit and mask below them."""
import numpy as np
import pytest
import torch

from model.pipeline import EditResult
from model.regions import RegionEdit
from web.photo_events import crop_strip


@pytest.mark.parametrize("size, zoom", [(64, 3), (128, 2)])
def test_crop_strip_enlarges_crops_of_any_size_to_about_the_same_width(size: int, zoom: int) -> None:
    rng = np.random.default_rng(0)
    crops = [rng.integers(0, 256, (2, size, size, 3), dtype=np.uint8) for _ in range(3)]
    result = EditResult(image=np.zeros((4, 4, 3), np.uint8), faces=[0, 1], aligned=crops[0],
                        reconstructed=crops[1], edited=crops[2], before=np.zeros((2, 1)), after=np.zeros((2, 1)),
                        attributes=("Smiling",), boxes=np.zeros((2, 4)))
    strip = crop_strip(result)
    assert strip.shape == (2 * size * zoom, 3 * size * zoom, 3)
    # second face, edit column, its top-left pixel, enlarged to a zoom x zoom block
    block = strip[size * zoom:size * zoom + zoom, 2 * size * zoom:2 * size * zoom + zoom]
    assert (block == crops[2][1, 0, 0]).all()


def test_crop_strip_shows_each_region_editors_crop_reconstruction_edit_and_mask() -> None:
    rng = np.random.default_rng(0)
    crops = [rng.integers(0, 256, (1, 64, 64, 3), dtype=np.uint8) for _ in range(3)]
    region = [torch.rand(1, 3, 64, 128) for _ in range(4)]
    mask = torch.zeros(1, 1, 64, 128)
    mask[..., 10:20, 30:40] = 1.0
    edit = RegionEdit("eyes", region[0], region[1], region[2], mask, region[3])
    result = EditResult(image=np.zeros((4, 4, 3), np.uint8), faces=[0], aligned=crops[0], reconstructed=crops[1],
                        edited=crops[2], before=np.zeros((1, 1)), after=np.zeros((1, 1)),
                        attributes=("Eyeglasses",), boxes=np.zeros((1, 4)), regions=[edit])
    strip = crop_strip(result)
    zoom = 3
    assert strip.shape == ((64 + 128) * zoom, 256 * zoom, 3)
    below = strip[64 * zoom:]
    # the mask sits bottom right: white inside its box, black outside
    assert (below[(64 + 15) * zoom, (128 + 35) * zoom] == 255).all()
    assert (below[(64 + 40) * zoom, (128 + 80) * zoom] == 0).all()
    # the whole-face row is padded with white to the region block's width
    assert (strip[0, 3 * 64 * zoom:] == 255).all()
