"""Preprocessing, defined once: CelebA aligned frame -> crop -> resize, and the landmark template.

Training, evaluation and the app all go through :func:`crop_and_resize` (PIL in, uint8 tensor out)
and :func:`to_model_input`. User photos are first warped into the CelebA aligned frame by matching
their 5 MTCNN landmarks to :data:`LANDMARK_TEMPLATE` (see ``model/faces.py``).
"""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image
from torchvision.transforms.v2 import functional as TF

#: Size (width, height) of CelebA's aligned-and-cropped images.
CELEBA_FRAME: tuple[int, int] = (178, 218)

#: The square (left, top, right, bottom) taken from the CelebA frame before resizing.
CROP_BOX: tuple[int, int, int, int] = (14, 36, 164, 186)

#: The boxes (left, top, right, bottom) of the CelebA frame that the region editors edit, at the
#: frame's own resolution: the eyes (brows to cheekbones, temple to temple) and the mouth (nose to
#: chin, cheek to cheek). Sides are multiples of 16 (four stride-2 layers).
EDIT_REGIONS: dict[str, tuple[int, int, int, int]] = {"eyes": (25, 80, 153, 144), "mouth": (41, 130, 137, 194)}

#: Mean facenet-pytorch MTCNN landmarks over 998 CelebA train images, in the CelebA frame
#: (left eye, right eye, nose, left mouth corner, right mouth corner), as (x, y).
#: Recompute with ``python -m training.landmark_template --data ../shared/celeba``.
LANDMARK_TEMPLATE: np.ndarray = np.array(
    [
        (70.34, 111.99),
        (108.93, 112.01),
        (89.25, 135.84),
        (72.25, 153.76),
        (106.70, 153.67),
    ],
    dtype=np.float64,
)


def crop_and_resize(image: Image.Image, size: int) -> torch.Tensor:
    """An RGB image in the CelebA frame -> ``3 x size x size`` uint8 tensor (the training crop)."""
    if image.size != CELEBA_FRAME:
        raise ValueError(f"expected an image in the CelebA frame {CELEBA_FRAME}, got {image.size}")
    left, top, right, bottom = CROP_BOX
    t = TF.pil_to_tensor(image.convert("RGB"))
    return resize_crop(TF.crop(t, top, left, bottom - top, right - left), size)


def crop_region(image: Image.Image, box: tuple[int, int, int, int]) -> torch.Tensor:
    """An RGB image in the CelebA frame -> its ``box`` (left, top, right, bottom) as a uint8
    ``3 x H x W`` tensor at the frame's own resolution (a region editor's input)."""
    if image.size != CELEBA_FRAME:
        raise ValueError(f"expected an image in the CelebA frame {CELEBA_FRAME}, got {image.size}")
    left, top, right, bottom = box
    return TF.crop(TF.pil_to_tensor(image.convert("RGB")), top, left, bottom - top, right - left)


def resize_crop(crop: torch.Tensor, size: int) -> torch.Tensor:
    """A square uint8 crop ``(B x) 3 x H x H`` -> ``size x size`` with the training resize (antialiased)."""
    return TF.resize(crop, [size, size], antialias=True)


def to_model_input(images: torch.Tensor) -> torch.Tensor:
    """uint8 ``(B x) 3 x S x S`` -> float in [0, 1], as the model expects."""
    return TF.to_dtype(images, torch.float32, scale=True)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Model output in [0, 1] -> uint8."""
    return (images.detach().clamp(0, 1) * 255).round().to(torch.uint8)


def crop_to_frame_matrix(size: int) -> np.ndarray:
    """2 x 3 affine matrix that maps pixel coordinates of the ``size`` crop back into the CelebA frame."""
    left, top, right, _ = CROP_BOX
    s = (right - left) / size
    # pixel centres: crop pixel i covers frame [left + i*s, left + (i+1)*s)
    return np.array([[s, 0.0, left + 0.5 * s - 0.5], [0.0, s, top + 0.5 * s - 0.5]])
