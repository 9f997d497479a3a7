"""Map an edited, aligned face crop back into the photo through a feathered elliptical mask.

The mask is 1 over the face and falls smoothly to exactly 0 well inside the crop's border, so no
seam shows and every pixel outside it keeps its original value.
"""
from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
import torch

#: Centre and semi-axes of the mask ellipse, as fractions of the crop side (x, y).
MASK_CENTRE: tuple[float, float] = (0.5, 0.5)
MASK_AXES: tuple[float, float] = (0.46, 0.48)
#: The mask is 1 inside this fraction of the ellipse radius and fades to 0 at the ellipse.
MASK_CORE: float = 0.65


@lru_cache(maxsize=32)
def face_mask(size: int) -> np.ndarray:
    """``size x size`` float32 feathered ellipse in [0, 1] (smoothstep fall-off)."""
    c = (np.arange(size, dtype=np.float64) + 0.5) / size
    dx = (c[None, :] - MASK_CENTRE[0]) / MASK_AXES[0]
    dy = (c[:, None] - MASK_CENTRE[1]) / MASK_AXES[1]
    t = np.clip((1.0 - np.hypot(dx, dy)) / (1.0 - MASK_CORE), 0.0, 1.0)
    mask = (t * t * (3.0 - 2.0 * t)).astype(np.float32)
    mask.flags.writeable = False
    return mask


def crop_footprint(matrix: np.ndarray, size: int, shape: tuple[int, ...]) -> tuple[int, int, int, int] | None:
    """Bounding box (x0, y0, x1, y1) in the photo of a ``size`` crop, clipped to the photo; None if outside."""
    inv = cv2.invertAffineTransform(matrix)
    edge = np.array([-0.5, size - 0.5])
    corners = np.array([[x, y, 1.0] for x in edge for y in edge]) @ inv.T
    h, w = shape[:2]
    x0, y0 = np.maximum(np.floor(corners.min(0)).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(corners.max(0)).astype(int) + 1, (w, h))
    if x0 >= x1 or y0 >= y1:
        return None
    return int(x0), int(y0), int(x1), int(y1)


def paste_into(photo: np.ndarray, matrix: np.ndarray, crop: np.ndarray, *, difference: bool) -> None:
    """Blend a ``size x size x 3`` float crop into ``photo`` (H x W x 3 uint8) in place.

    ``matrix`` maps photo pixels to crop pixels. With ``difference`` the crop holds a change to add
    (in pixel units); otherwise it holds the new pixel values.
    """
    size = crop.shape[0]
    box = crop_footprint(matrix, size, photo.shape)
    if box is None:
        return
    x0, y0, x1, y1 = box
    to_crop = matrix.astype(np.float64).copy()
    to_crop[:, 2] += to_crop[:, :2] @ np.array([x0, y0], dtype=np.float64)
    layers = np.dstack([crop.astype(np.float32), face_mask(size)])
    warped = cv2.warpAffine(layers, to_crop, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    content, alpha = warped[..., :3], warped[..., 3:]
    region = photo[y0:y1, x0:x1].astype(np.float32)
    region += alpha * (content if difference else content - region)
    photo[y0:y1, x0:x1] = np.clip(np.rint(region), 0, 255).astype(np.uint8)


def add_change(original: torch.Tensor, reconstruction: torch.Tensor, edited: torch.Tensor) -> torch.Tensor:
    """``paste="detail"`` at crop resolution: ``original`` plus the edit's change (``edited`` minus
    ``reconstruction``) under the face mask, clipped to [0, 1]. All ``N x 3 x S x S`` in [0, 1]."""
    mask = torch.tensor(face_mask(original.shape[-1]), dtype=original.dtype)
    return (original + mask * (edited - reconstruction)).clamp(0, 1)
