"""Painters of fake attributes on real faces: smudges across the eyes or the mouth, ghosts of a donor's
glasses or smile, and faces softened to a decoder's resolution.

They are shared by the fakes report (``evaluation/fakes.py``: how often each attribute reader takes
them for real) and the strict judge's training augmentations (``evaluation/strict_judge.py``: random
versions of them, labels unchanged), and import neither.

Painters work on float images ``3 x H x W`` in [0, 1] with the face's 5 landmarks in that image's
pixels (left eye, right eye, nose, left and right mouth corner, as ``x, y``).
"""
from __future__ import annotations

import numpy as np
import torch
from torchvision.transforms.v2 import functional as TF

#: A face's width in eye distances (cheek to cheek at the eyes, CelebA aligned frames).
FACE_WIDTH = 2.5


def soft_ellipse(height: int, width: int, cx: float, cy: float, rx: float, ry: float,
                 feather: float = 0.25, power: float = 2.0) -> torch.Tensor:
    """``H x W`` mask in [0, 1]: 1 inside the (super)ellipse, falling to 0 over ``feather`` of its radius.

    ``power`` 2 is an ellipse; larger powers approach a rounded rectangle.
    """
    y = torch.arange(height, dtype=torch.float32)[:, None]
    x = torch.arange(width, dtype=torch.float32)[None, :]
    d = ((x - cx).abs() / rx) ** power + ((y - cy).abs() / ry) ** power
    d = d ** (1.0 / power)
    return ((1.0 - d) / feather + 0.5).clamp(0.0, 1.0)


def _eye_geometry(landmarks: np.ndarray) -> tuple[float, float, float]:
    """(centre x, centre y, eye distance) of a face's eyes."""
    (lx, ly), (rx, ry) = landmarks[0], landmarks[1]
    return (lx + rx) / 2, (ly + ry) / 2, float(np.hypot(rx - lx, ry - ly))


def _mouth_geometry(landmarks: np.ndarray) -> tuple[float, float, float]:
    """(centre x, centre y, mouth width) of a face's mouth."""
    (lx, ly), (rx, ry) = landmarks[3], landmarks[4]
    return (lx + rx) / 2, (ly + ry) / 2, float(np.hypot(rx - lx, ry - ly))


def blur_inside(image: torch.Tensor, mask: torch.Tensor, sigma: float) -> torch.Tensor:
    """``image`` Gaussian-blurred by ``sigma`` pixels where ``mask`` is 1, kept where it is 0.

    Only the mask's bounding box (plus the kernel's reach) is blurred.
    """
    rows, cols = torch.nonzero(mask.amax(1)).flatten(), torch.nonzero(mask.amax(0)).flatten()
    if len(rows) == 0:
        return image
    r = int(3 * sigma) + 1
    _, h, w = image.shape
    y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    py0, py1, px0, px1 = max(y0 - r, 0), min(y1 + r, h), max(x0 - r, 0), min(x1 + r, w)
    k = min(2 * r + 1, 2 * ((min(py1 - py0, px1 - px0) - 1) // 2) + 1)
    blurred = TF.gaussian_blur(image[:, py0:py1, px0:px1], [k, k], [sigma, sigma])
    out = image.clone()
    m = mask[y0:y1, x0:x1]
    out[:, y0:y1, x0:x1] = image[:, y0:y1, x0:x1] * (1 - m) + blurred[:, y0 - py0:y1 - py0, x0 - px0:x1 - px0] * m
    return out


def paint_eye_band(image: torch.Tensor, landmarks: np.ndarray, darkness: float = 0.4,
                   height: float = 0.6, width: float = 2.3, lens: float = 0.25,
                   soften: float = 0.07) -> torch.Tensor:
    """A dark band across both eyes: ``height`` and ``width`` in eye distances, ``darkness`` the share
    of light taken on the band, ``lens`` more of it over each eye; under it the eye region is blurred
    by ``soften`` eye distances (the decoder's own blur)."""
    _, h, w = image.shape
    cx, cy, d = _eye_geometry(landmarks)
    region = soft_ellipse(h, w, cx, cy, 0.62 * width * d, 1.1 * height * d, 0.5)
    out = blur_inside(image, region, soften * d) if soften > 0 else image
    band = soft_ellipse(h, w, cx, cy, 0.5 * width * d, 0.5 * height * d, 0.7, power=3.0)
    lenses = torch.maximum(*(soft_ellipse(h, w, float(ex), float(ey), 0.42 * d, 0.3 * d, 0.5)
                             for ex, ey in landmarks[:2]))
    shade = (darkness * band + lens * lenses * band).clamp(0.0, 0.95)
    return out * (1 - shade)


def paint_eye_blur(image: torch.Tensor, landmarks: np.ndarray, sigma: float = 0.12,
                   width: float = 2.2, height: float = 0.7) -> torch.Tensor:
    """The eye region (``width`` x ``height`` eye distances) blurred by ``sigma`` eye distances."""
    _, h, w = image.shape
    cx, cy, d = _eye_geometry(landmarks)
    mask = soft_ellipse(h, w, cx, cy, 0.5 * width * d, 0.5 * height * d, 0.4, power=3.0)
    return blur_inside(image, mask, sigma * d)


def paint_mouth_blur(image: torch.Tensor, landmarks: np.ndarray, sigma: float = 0.1,
                     width: float = 1.5, height: float = 0.75) -> torch.Tensor:
    """The mouth region (``width`` x ``height`` mouth widths) blurred by ``sigma`` mouth widths."""
    _, h, w = image.shape
    cx, cy, m = _mouth_geometry(landmarks)
    mask = soft_ellipse(h, w, cx, cy + 0.05 * m, 0.5 * width * m, 0.5 * height * m, 0.4)
    return blur_inside(image, mask, sigma * m)


def paint_mouth_dark(image: torch.Tensor, landmarks: np.ndarray, darkness: float = 0.45,
                     width: float = 1.15, height: float = 0.45, soften: float = 0.06) -> torch.Tensor:
    """The mouth region (``width`` x ``height`` mouth widths) darkened by ``darkness``, over a mouth
    blurred by ``soften`` mouth widths."""
    _, h, w = image.shape
    cx, cy, m = _mouth_geometry(landmarks)
    region = soft_ellipse(h, w, cx, cy, 0.8 * width * m, 1.0 * height * m, 0.5)
    out = blur_inside(image, region, soften * m) if soften > 0 else image
    mask = soft_ellipse(h, w, cx, cy + 0.05 * m, 0.5 * width * m, 0.5 * height * m, 0.5)
    return out * (1 - darkness * mask)


def _paint_ghost(image: torch.Tensor, centre: tuple[float, float], scale: float, donor: torch.Tensor,
                 donor_centre: tuple[float, float], opacity: float, sigma: float, darkness: float,
                 width: float, height: float) -> torch.Tensor:
    """The region of ``donor`` around ``donor_centre`` moved onto ``centre`` of ``image``, blurred by
    ``sigma``, darkened by ``darkness`` and blended at ``opacity`` through a soft ellipse of
    ``width`` x ``height`` (``sigma``, ``width`` and ``height`` in units of ``scale`` pixels)."""
    _, h, w = image.shape
    (cx, cy), (dx, dy) = centre, donor_centre
    moved = torch.roll(donor, (round(cy - dy), round(cx - dx)), dims=(1, 2))
    mask = soft_ellipse(h, w, cx, cy, 0.5 * width * scale, 0.5 * height * scale, 0.5)
    ghost = blur_inside(moved, (mask > 0).float(), sigma * scale) * (1 - darkness)
    alpha = opacity * mask
    return image * (1 - alpha) + ghost * alpha


def paint_ghost_glasses(image: torch.Tensor, landmarks: np.ndarray, donor: torch.Tensor,
                        donor_landmarks: np.ndarray | None = None, opacity: float = 0.5, sigma: float = 0.08,
                        darkness: float = 0.0, width: float = 2.4, height: float = 0.9) -> torch.Tensor:
    """Ghost glasses: the eye region of ``donor`` (a real face with glasses, the same size as ``image``,
    its landmarks ``donor_landmarks``, by default ``landmarks``) blurred by ``sigma`` eye distances,
    moved onto ``image``'s eyes, darkened by ``darkness`` and blended at ``opacity`` through a soft
    ellipse of ``width`` x ``height`` eye distances."""
    cx, cy, d = _eye_geometry(landmarks)
    dx, dy, _ = _eye_geometry(landmarks if donor_landmarks is None else donor_landmarks)
    return _paint_ghost(image, (cx, cy), d, donor, (dx, dy), opacity, sigma, darkness, width, height)


def paint_ghost_smile(image: torch.Tensor, landmarks: np.ndarray, donor: torch.Tensor,
                      donor_landmarks: np.ndarray | None = None, opacity: float = 0.7, sigma: float = 0.08,
                      width: float = 1.5, height: float = 0.8) -> torch.Tensor:
    """A ghost smile: the mouth region of ``donor`` (a real smiling face, the same size as ``image``,
    its landmarks ``donor_landmarks``, by default ``landmarks``) blurred by ``sigma`` mouth widths,
    moved onto ``image``'s mouth and blended at ``opacity`` through a soft ellipse of ``width`` x
    ``height`` mouth widths."""
    cx, cy, m = _mouth_geometry(landmarks)
    dx, dy, _ = _mouth_geometry(landmarks if donor_landmarks is None else donor_landmarks)
    return _paint_ghost(image, (cx, cy + 0.05 * m), m, donor, (dx, dy + 0.05 * m), opacity, sigma, 0.0,
                        width, height)


def paint_ghost_glasses_dark(image: torch.Tensor, landmarks: np.ndarray, donor: torch.Tensor,
                             donor_landmarks: np.ndarray | None = None) -> torch.Tensor:
    """:func:`paint_ghost_glasses`, more opaque and darkened (the editor's dark smears)."""
    return paint_ghost_glasses(image, landmarks, donor, donor_landmarks, opacity=0.6, darkness=0.3)


def soften_face(image: torch.Tensor, landmarks: np.ndarray, face_px: float) -> torch.Tensor:
    """``image`` resized down so the face is ``face_px`` wide (:data:`FACE_WIDTH` eye distances), and back up."""
    _, h, w = image.shape
    scale = face_px / (FACE_WIDTH * _eye_geometry(landmarks)[2])
    small = [max(round(h * scale), 1), max(round(w * scale), 1)]
    return TF.resize(TF.resize(image, small, antialias=True), [h, w], antialias=True)
