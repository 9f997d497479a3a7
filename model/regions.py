"""Region editors in the pipeline: edit the eyes or the mouth at the CelebA frame's own resolution
and put back into the photo only the pixels the editor's mask opens.

A region editor is an :class:`~model.ifcvae.IFcVAEGAN` whose config names a ``region`` (a box of
the CelebA frame, ``model.preprocessing.EDIT_REGIONS``) and has a mask head. For each face the
photo is warped into the CelebA frame once (``model.faces.frame_transform``); every region editor
cuts its box from that same alignment. The decoded region and its mask are then mapped back into
the photo at the face's own resolution; where the mask is off, the photo keeps its own pixels
(moved along the edit's flow, for an editor with ``config.warp``, at the photo's resolution).
Where it is on, the decoded pixels go in with the photo's own colour and light: the decoder's error
at low frequencies (the region crop minus its reconstruction, blurred) is added to what it draws, so
a drawn frame or a row of teeth keeps its contrast while the skin around it takes the photo's tone
(a gradient-domain blend, ``cv2.seamlessClone``, solved from the photo around a thin mask, washed
thin frames out to the skin's colour); when an attribute of
:data:`FILL_ON_REMOVAL` is removed, the thin parts of the mask (frames) are filled from the photo's
own neighbourhood (OpenCV's ``inpaint``) and the decoded pixels are kept only where the mask is
wide (lenses that hide the eyes).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

import cv2
import numpy as np
import torch
from torchvision.transforms.functional import gaussian_blur

from .faces import frame_transform, photo_per_frame
from .ifcvae import CONFIG_NAME, CheckpointError, IFcVAEGAN, composite
from .networks import Decoder
from .paste import crop_footprint
from .preprocessing import EDIT_REGIONS, to_model_input
from .tuning import decode_each, tune_decoders

#: Attributes whose removal fills the mask's thin parts from the photo's neighbourhood.
FILL_ON_REMOVAL: frozenset[str] = frozenset({"Eyeglasses"})
#: Mask values above this count as "on" for the gradient-domain blend and the fill.
MASK_ON: float = 0.2
#: Parts of the mask at most this many region pixels (at the frame's resolution) from its edge are
#: thin (frames); wider parts (lenses) keep the decoded pixels.
THIN: float = 2.0
#: Inpainting radius, in region pixels at the frame's resolution.
FILL_RADIUS: float = 2.0
#: The decoder's colour and light error below this scale (a Gaussian's sigma, in region pixels at the
#: frame's resolution) is taken out of what it draws: the drawing gets the photo's own low frequencies.
COLOUR_SIGMA: float = 3.0


@dataclass
class RegionEdit:
    """One region editor's edit of ``n`` faces, at the frame's resolution (``n x 3 x H x W`` in [0, 1];
    ``mask`` ``n x 1 x H x W``): ``decoded`` is what the editor draws, in the photo's colours
    (:func:`photo_colours`), and ``composite`` the region as the photo gets it."""

    name: str
    crops: torch.Tensor
    reconstructions: torch.Tensor
    decoded: torch.Tensor
    mask: torch.Tensor
    composite: torch.Tensor
    #: The move of the photo's own pixels (``n x 2 x H x W``, region pixels) of an editor with ``config.warp``.
    flow: torch.Tensor | None = None


class RegionEditor:
    """One region editor: cut its region from a photo's face, edit it, paste it back."""

    def __init__(self, name: str, model: IFcVAEGAN) -> None:
        if model.config.region is None or model.mask_net is None:
            raise CheckpointError(f"the {name} editor is not a masked region editor (its config needs "
                                  "region and masked_edit)")
        self.name = name
        self.model = model.eval()

    @classmethod
    def load_all(cls, folder: str | Path) -> list["RegionEditor"]:
        """The region editors in the sub-folders of a checkpoint folder named after
        :data:`model.preprocessing.EDIT_REGIONS` (``weights/eyes/``, ``weights/mouth/``)."""
        editors = []
        for name in EDIT_REGIONS:
            sub = Path(folder) / name
            if (sub / CONFIG_NAME).is_file():
                editors.append(cls(name, IFcVAEGAN.load(sub)))
        return editors

    @property
    def attributes(self) -> tuple[str, ...]:
        return self.model.attributes

    @property
    def box(self) -> tuple[int, int, int, int]:
        assert self.model.config.region is not None
        return self.model.config.region

    def matrix(self, landmarks: np.ndarray, scale: float = 1.0) -> np.ndarray:
        """2 x 3 affine matrix, photo pixel -> pixel of this region at ``scale`` times the frame's resolution."""
        left, top, _, _ = self.box
        to_region = np.array([[scale, 0.0, (0.5 - left) * scale - 0.5],
                              [0.0, scale, (0.5 - top) * scale - 0.5], [0.0, 0.0, 1.0]])
        return (to_region @ frame_transform(landmarks))[:2]

    def cut(self, image: np.ndarray, landmarks: np.ndarray, scale: float = 1.0) -> np.ndarray:
        """This region of the face with these landmarks, ``H*scale x W*scale x 3`` (bilinear)."""
        h, w = self.model.config.image_shape
        size = (round(w * scale), round(h * scale))
        return cv2.warpAffine(image, self.matrix(landmarks, scale), size, flags=cv2.INTER_AREA if scale < 1
                              else cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    def tune(self, crops: torch.Tensor, steps: int, before_each: Callable[[], None] | None = None) -> list[Decoder]:
        """A copy of this editor's decoder fitted to each region crop (``model.tuning``: sharper likeness)."""
        x = to_model_input(crops)
        with torch.inference_mode():
            mu, _, logits = self.model.encode(x)
        return tune_decoders(self.model, x, mu, torch.sigmoid(logits), steps, before_each)

    @torch.inference_mode()
    def edit(self, crops: torch.Tensor, changes: Mapping[str, float],
             decoders: Sequence[Decoder] | None = None) -> RegionEdit:
        """Edit uint8 region crops ``n x 3 x H x W``: only the ``changes`` this editor knows; with
        ``decoders`` (one per crop, :meth:`tune`) each crop is drawn by its own."""
        x = to_model_input(crops)
        own = {a: v for a, v in changes.items() if a in self.attributes}
        decode = None if decoders is None else (lambda mu, y: decode_each(decoders, mu, y))
        parts = self.model.masked_parts(x, own, decode)
        drawn = photo_colours(x, parts.reconstruction, parts.decoded)
        return RegionEdit(self.name, x, parts.reconstruction, drawn, parts.mask,
                          composite(x, drawn, parts.mask, parts.flow), parts.flow)

    def paste(self, photo: np.ndarray, landmarks: np.ndarray, decoded: torch.Tensor, mask: torch.Tensor,
              fill: bool, flow: torch.Tensor | None = None) -> None:
        """Put one face's drawn region (``3 x H x W``, :attr:`RegionEdit.decoded`) into ``photo``
        (``H x W x 3`` uint8, in place) where its ``mask`` (``1 x H x W``) is on, at the face's own
        resolution; ``fill``: the mask's
        thin parts are filled from the photo's neighbourhood instead (a removal of glasses);
        ``flow`` (``2 x H x W``, region pixels): the photo's own pixels are first moved by it."""
        scale = max(1.0, photo_per_frame(landmarks))
        h, w = self.model.config.image_shape
        size = (round(w * scale), round(h * scale))
        channels = [decoded.permute(1, 2, 0).float().numpy() * 255.0, mask[0].float().numpy()]
        if flow is not None:
            channels.append(flow.permute(1, 2, 0).float().numpy() * scale)
        layers = cv2.resize(np.dstack(channels), size, interpolation=cv2.INTER_CUBIC)
        to_region = self.matrix(landmarks, scale)
        box = crop_footprint(to_region, size, photo.shape)
        if box is None:
            return
        x0, y0, x1, y1 = box
        shift = to_region.copy()
        shift[:, 2] += shift[:, :2] @ np.array([x0, y0], dtype=np.float64)
        warped = cv2.warpAffine(layers, shift, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        patch = photo[y0:y1, x0:x1] if flow is None else moved(photo, (x0, y0, x1, y1), warped[..., 4:6],
                                                               to_region[:, :2])
        alpha = warped[..., 3].clip(0, 1)
        on = (alpha > MASK_ON).astype(np.uint8)
        if not on.any():
            photo[y0:y1, x0:x1] = patch
            return
        drawn = np.clip(np.rint(warped[..., :3]), 0, 255).astype(np.uint8)
        if fill:
            thin = thin_parts(on, THIN * scale)
            filled = cv2.inpaint(patch, thin, FILL_RADIUS * scale, cv2.INPAINT_TELEA)
            # the frames and the mask's faint fringe take the photo's own (filled) pixels: only the
            # wide parts draw
            drawn = np.where((thin[..., None] > 0) | (on[..., None] == 0), filled, drawn)
        out = patch.astype(np.float32) * (1 - alpha[..., None]) + drawn.astype(np.float32) * alpha[..., None]
        photo[y0:y1, x0:x1] = np.clip(np.rint(out), 0, 255).astype(np.uint8)


def moved(photo: np.ndarray, box: tuple[int, int, int, int], flow: np.ndarray, to_region: np.ndarray) -> np.ndarray:
    """The ``box`` (x0, y0, x1, y1) of ``photo`` with each pixel taken from where a region's
    displacement field points: ``flow`` (``box``'s ``h x w x 2``) is in region pixels, mapped into
    photo pixels by the inverse of ``to_region`` (the 2 x 2 linear part of photo -> region)."""
    x0, y0, x1, y1 = box
    d = flow.reshape(-1, 2) @ np.linalg.inv(to_region).T
    xs, ys = np.meshgrid(np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32))
    map_x = xs + d[:, 0].reshape(xs.shape).astype(np.float32)
    map_y = ys + d[:, 1].reshape(ys.shape).astype(np.float32)
    return cv2.remap(photo, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def photo_colours(crops: torch.Tensor, reconstructions: torch.Tensor, decoded: torch.Tensor) -> torch.Tensor:
    """``decoded`` (``n x 3 x H x W`` in [0, 1]) with the decoder's low-frequency error taken out: plus
    the crops minus their reconstructions, blurred (:data:`COLOUR_SIGMA`). What the edit adds (thin
    frames, teeth) keeps its contrast; the colour and light around it become the photo's."""
    k = 2 * math.ceil(3 * COLOUR_SIGMA) + 1
    error = gaussian_blur((crops - reconstructions).float(), [k, k], [COLOUR_SIGMA, COLOUR_SIGMA])
    return (decoded.float() + error).clamp(0, 1)


def thin_parts(on: np.ndarray, width: float) -> np.ndarray:
    """The pixels of a binary mask that lie in parts at most about ``2 * width`` across (frames), as
    a uint8 mask: those an opening with a disc of that radius removes."""
    k = max(3, int(2 * round(width) + 1))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    wide = cv2.morphologyEx(on, cv2.MORPH_OPEN, disc)
    return ((on > 0) & (wide == 0)).astype(np.uint8)


def owned_attributes(editors: Sequence[RegionEditor]) -> dict[str, RegionEditor]:
    """Attribute -> the region editor that edits it (the first one that has it)."""
    owner: dict[str, RegionEditor] = {}
    for e in editors:
        for a in e.attributes:
            owner.setdefault(a, e)
    return owner
