"""Map an edited, aligned face crop back into the photo through a feathered elliptical mask.

The mask is 1 over the face and falls smoothly to exactly 0 well inside the crop's border, so no
seam shows and every pixel outside it keeps its original value.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
import torch
import torchvision.transforms.v2.functional as TF

#: Centre and semi-axes of the mask ellipse, as fractions of the crop side (x, y).
MASK_CENTRE: tuple[float, float] = (0.5, 0.5)
MASK_AXES: tuple[float, float] = (0.46, 0.48)
#: The mask is 1 inside this fraction of the ellipse radius and fades to 0 at the ellipse.
MASK_CORE: float = 0.65
#: ``paste="detail"``: where the edit changes a crop pixel by less than this (0-1 scale), the photo keeps
#: its own detail (plus the change); see :func:`replace_weight`.
REPLACE_FROM: float = 0.05
#: Where the edit changes a crop pixel by this much, the decoded edit replaces the photo's own detail.
REPLACE_FULL_AT: float = 0.25
#: Gaussian sigma, in crop pixels, that smooths the change before it is weighed.
REPLACE_BLUR: float = 1.0
#: Where on the aligned crop each local attribute lives, as a (centre, semi-axes) ellipse in fractions of
#: the crop side (x, y), from the landmark template: a thin band through the eyes and the bridge of a
#: pair of glasses (a taller one, reaching the brows, cost the person: dlib reads identity mostly from
#: the eyes), the mouth with the cheeks a smile lifts, the forehead under a fringe, the chin and jaw of
#: a beard. Inside the regions of the attributes an edit moves, :class:`Blend`'s ``focus_*`` levels apply
#: (for :data:`REMOVAL_ONLY` attributes only when the edit lowers them).
ATTRIBUTE_REGIONS: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "Eyeglasses": ((0.50, 0.51), (0.31, 0.10)),
    "Smiling": ((0.50, 0.80), (0.25, 0.15)),
    "Bangs": ((0.50, 0.24), (0.40, 0.19)),
    "No_Beard": ((0.50, 0.84), (0.35, 0.20)),
}
#: The regions are 1 inside this fraction of their radius, feathered to 0 at the ellipse.
REGION_CORE: float = 0.6
#: Inside those regions the decoded edit replaces the photo's detail from this change on...
FOCUS_FROM: float = 0.02
#: ...and fully from this one.
FOCUS_FULL_AT: float = 0.1
#: An attribute counts as moved by an edit when its value changes by at least this much.
MOVED: float = 0.25
#: Attributes whose region is replaced outright only when the edit removes them: old frames must not
#: show through, but glasses drawn on a face should leave the photo's own eyes behind the lenses.
REMOVAL_ONLY: frozenset[str] = frozenset({"Eyeglasses"})


@dataclass(frozen=True)
class Blend:
    """How ``paste="detail"`` weighs the decoded edit against the photo's own detail (:func:`replace_weight`)."""

    start: float = REPLACE_FROM
    full_at: float = REPLACE_FULL_AT
    blur: float = REPLACE_BLUR
    #: Inside the :data:`ATTRIBUTE_REGIONS` of the attributes an edit moves, the ramp runs from
    #: ``focus_start`` to ``focus_full_at`` instead (lower levels: the region is replaced outright, so the
    #: photo's own teeth or frames do not show through the edit); ``None``: no focus regions.
    focus_start: float | None = FOCUS_FROM
    focus_full_at: float | None = FOCUS_FULL_AT

    @classmethod
    def parse(cls, text: str) -> "Blend":
        """``"full_at:blur[:start[:focus_full_at:focus_start]]"``, e.g. ``"0.25:1:0.05:0.1:0.02"`` (the
        app's); start 0 when left out, no focus regions unless both focus levels are given;
        ValueError otherwise."""
        values = [float(v) for v in text.split(":")]
        if len(values) not in (2, 3, 5):
            raise ValueError(f"expected full_at:blur[:start[:focus_full_at:focus_start]], got {text!r}")
        focus = (values[4], values[3]) if len(values) == 5 else (None, None)
        return cls(values[2] if len(values) >= 3 else 0.0, values[0], values[1], *focus)

    def __str__(self) -> str:
        text = f"{self.full_at:g}:{self.blur:g}:{self.start:g}"
        return text if self.focus_start is None else f"{text}:{self.focus_full_at:g}:{self.focus_start:g}"

    def __post_init__(self) -> None:
        if (self.focus_start is None) != (self.focus_full_at is None):
            raise ValueError("give both focus_start and focus_full_at, or neither")


@lru_cache(maxsize=64)
def ellipse_mask(size: int, centre: tuple[float, float], axes: tuple[float, float], core: float) -> np.ndarray:
    """``size x size`` float32 feathered ellipse in [0, 1]: 1 inside ``core`` of its radius, smoothstep
    fall-off to 0 at the ellipse (``centre`` and ``axes`` in fractions of the side, x then y)."""
    c = (np.arange(size, dtype=np.float64) + 0.5) / size
    dx = (c[None, :] - centre[0]) / axes[0]
    dy = (c[:, None] - centre[1]) / axes[1]
    t = np.clip((1.0 - np.hypot(dx, dy)) / (1.0 - core), 0.0, 1.0)
    mask = (t * t * (3.0 - 2.0 * t)).astype(np.float32)
    mask.flags.writeable = False
    return mask


def face_mask(size: int) -> np.ndarray:
    """The paste's mask: 1 over the face, 0 well inside the crop's border."""
    return ellipse_mask(size, MASK_CENTRE, MASK_AXES, MASK_CORE)


def focus_region(size: int, moves: Mapping[str, float]) -> torch.Tensor | None:
    """``1 x 1 x size x size``: the union of the :data:`ATTRIBUTE_REGIONS` of the attributes an edit
    moves (``moves``: attribute -> new value minus the face's own; at least :data:`MOVED` either way,
    downwards for :data:`REMOVAL_ONLY`), or None when none has a region (e.g. Male, Young: the whole face)."""
    masks = [ellipse_mask(size, *ATTRIBUTE_REGIONS[a], REGION_CORE) for a, d in moves.items()
             if a in ATTRIBUTE_REGIONS and abs(d) >= MOVED and not (a in REMOVAL_ONLY and d > 0)]
    if not masks:
        return None
    return torch.from_numpy(np.maximum.reduce(masks))[None, None]


def crop_footprint(matrix: np.ndarray, size: int | tuple[int, int], shape: tuple[int, ...]
                   ) -> tuple[int, int, int, int] | None:
    """Bounding box (x0, y0, x1, y1) in the photo of a ``size`` crop (a side, or (width, height)), clipped
    to the photo; None if outside."""
    width, height = (size, size) if isinstance(size, int) else size
    inv = cv2.invertAffineTransform(matrix)
    corners = np.array([[x, y, 1.0] for x in (-0.5, width - 0.5) for y in (-0.5, height - 0.5)]) @ inv.T
    h, w = shape[:2]
    x0, y0 = np.maximum(np.floor(corners.min(0)).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(corners.max(0)).astype(int) + 1, (w, h))
    if x0 >= x1 or y0 >= y1:
        return None
    return int(x0), int(y0), int(x1), int(y1)


def paste_into(photo: np.ndarray, matrix: np.ndarray, content: np.ndarray, replace: np.ndarray) -> None:
    """Blend the layers of :func:`paste_layers`, resized to the crop's ``size x size``, into ``photo``
    (H x W x 3 uint8) in place: each pixel becomes photo + mask * (content - replace * photo).

    ``matrix`` maps photo pixels to crop pixels; ``content`` is ``size x size x 3`` float in pixel
    units, ``replace`` ``size x size`` in [0, 1].
    """
    size = content.shape[0]
    box = crop_footprint(matrix, size, photo.shape)
    if box is None:
        return
    x0, y0, x1, y1 = box
    to_crop = matrix.astype(np.float64).copy()
    to_crop[:, 2] += to_crop[:, :2] @ np.array([x0, y0], dtype=np.float64)
    mask = face_mask(size)
    layers = np.dstack([content.astype(np.float32) * mask[..., None], mask * replace.astype(np.float32)])
    warped = cv2.warpAffine(layers, to_crop, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    region = photo[y0:y1, x0:x1].astype(np.float32)
    region += warped[..., :3] - warped[..., 3:] * region
    photo[y0:y1, x0:x1] = np.clip(np.rint(region), 0, 255).astype(np.uint8)


def _ramp(change: torch.Tensor, start: float, full_at: float) -> torch.Tensor:
    """0 up to ``start``, linear to 1 at ``full_at`` (``full_at <= start``: a step at ``start``)."""
    if full_at > start:
        return ((change - start) / (full_at - start)).clamp(0, 1)
    return (change > start).to(change.dtype)


def replace_weight(reconstruction: torch.Tensor, edited: torch.Tensor, blend: Blend = Blend(),
                   region: torch.Tensor | None = None) -> torch.Tensor:
    """``N x 1 x S x S`` share of the photo's own detail that the decoded edit replaces: 0 where the
    edit's change (largest over RGB, Gaussian-blurred with sigma ``blend.blur`` crop pixels) is at
    most ``blend.start``, rising linearly to 1 where it reaches ``blend.full_at`` (``full_at <=
    start``: a step at ``start``; ``full_at`` infinite: never). Inside ``region`` (a
    :func:`focus_region`, weighed by its feathering) the ramp of ``blend.focus_*`` applies where it
    replaces more."""
    change = (edited - reconstruction).abs().amax(1, keepdim=True)
    if blend.blur > 0:
        change = TF.gaussian_blur(change, [2 * math.ceil(3 * blend.blur) + 1] * 2, [blend.blur, blend.blur])
    weight = _ramp(change, blend.start, blend.full_at)
    if region is None or blend.focus_start is None:
        return weight
    return torch.maximum(weight, region.to(change.dtype) * _ramp(change, blend.focus_start, blend.focus_full_at))


def paste_layers(reconstruction: torch.Tensor, edited: torch.Tensor, detail: bool = True,
                 blend: Blend = Blend(), region: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """What pasting an edit does, at crop resolution: ``(content, replace)`` (``N x 3 x S x S``,
    ``N x 1 x S x S``) such that each pasted pixel is photo + mask * (content - replace * photo).

    ``detail=False`` replaces the face by the decoded edit (content = edit, replace = 1). ``detail``
    adds the edit's change (edit - reconstruction) to the photo, keeping its sharpness and identity,
    and where the edit changes much (:func:`replace_weight`) also removes the photo's own detail
    (photo - reconstruction) there, so that glasses or a closed mouth do not show through; ``region``:
    see :func:`replace_weight`.
    """
    if not detail:
        return edited, torch.ones_like(edited[:, :1])
    replace = replace_weight(reconstruction, edited, blend, region)
    return edited - (1 - replace) * reconstruction, replace


def add_change(original: torch.Tensor, reconstruction: torch.Tensor, edited: torch.Tensor,
               blend: Blend = Blend()) -> torch.Tensor:
    """``paste="detail"`` at crop resolution (``original`` is the crop, all ``N x 3 x S x S`` in [0, 1];
    no focus regions: those need the edit's attributes, which ``FaceEditor.paste`` has)."""
    content, replace = paste_layers(reconstruction, edited, True, blend)
    mask = torch.tensor(face_mask(original.shape[-1]), dtype=original.dtype)
    return (original + mask * (content - replace * original)).clamp(0, 1)
