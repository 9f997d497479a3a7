"""The photo tab's crop strip: the model's crops enlarged by a whole factor, whatever their size."""
import numpy as np
import pytest

from model.pipeline import EditResult
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
