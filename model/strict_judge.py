"""The strict attribute judge at inference: small ResNets that read CelebA attributes off a face
aligned like a CelebA frame, the whole face at 128 px and, for the attributes a part reads (Smiling:
the mouth; Eyeglasses: the eyes), that part of the face at about the frame's own resolution.

A judge independent of the editor (another network, another input, trained on real photos only; its
training and reports are ``evaluation/strict_judge.py``). The app uses it to check what an edit did
to the returned photo::

    judge = StrictJudge.load("strict_judge")
    p = judge.predict_proba([frame, ...])   # PIL faces aligned like a CelebA frame -> N x attributes

A judge folder holds ``config.json`` and ``model.safetensors``, and may hold a part: a judge of one of
the :data:`PART_REGIONS` in a sub-folder named after it (``strict_judge/mouth/``), loaded with it,
whose readings replace the whole face's for the part's attributes.
"""
from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from safetensors.torch import save_file
from torch import nn
from torchvision.models.resnet import BasicBlock
from torchvision.transforms.v2 import functional as TF

from .config import CELEBA_ATTRIBUTES
from .ifcvae import CONFIG_NAME, WEIGHTS_NAME, load_folder_config, load_safetensors_into
from .preprocessing import CELEBA_FRAME

#: Size (width, height) of the CelebA aligned frame the judge's input is laid out in.
FRAME_SIZE: tuple[int, int] = CELEBA_FRAME
#: The boxes (left, top, right, bottom) of the frame a judge can read, each resized to a square input:
#: the face, hair to chin; the mouth (a 64 px square around the mouth of
#: :data:`model.preprocessing.LANDMARK_TEMPLATE`); the eyes (96 x 90 px, brows to the tip of the nose,
#: wide enough for a pair of glasses, above the mouth).
REGIONS: dict[str, tuple[int, int, int, int]] = {"face": (0, 20, 178, 198), "mouth": (57, 122, 121, 186),
                                                 "eyes": (41, 60, 137, 150)}
#: The region of the whole-face judge.
REGION: tuple[int, int, int, int] = REGIONS["face"]
#: Regions a part of a judge may read (its sub-folder has the region's name).
PART_REGIONS: tuple[str, ...] = ("mouth", "eyes")
#: Largest relative difference from the frame's aspect ratio accepted by :func:`frame_to_input`.
ASPECT_TOLERANCE = 0.03
#: The strict judge shipped with the repository (and the app's Docker image).
SHIPPED_STRICT_JUDGE = Path(__file__).resolve().parent.parent / "strict_judge"


@dataclass
class StrictJudgeConfig:
    """Input size, network shape and the attributes the strict judge predicts."""

    image_size: int = 128
    widths: tuple[int, ...] = (32, 64, 128, 256)
    blocks: tuple[int, ...] = (2, 2, 2, 2)
    dropout: float = 0.2
    attributes: tuple[str, ...] = CELEBA_ATTRIBUTES
    #: The box of the CelebA frame read (left, top, right, bottom; see :data:`REGIONS`).
    region: tuple[int, int, int, int] = REGION

    def __post_init__(self) -> None:
        self.widths = tuple(int(w) for w in self.widths)
        self.blocks = tuple(int(b) for b in self.blocks)
        self.attributes = tuple(self.attributes)
        self.region = tuple(int(v) for v in self.region)  # type: ignore[assignment]
        left, top, right, bottom = self.region
        if not (0 <= left < right <= FRAME_SIZE[0] and 0 <= top < bottom <= FRAME_SIZE[1]):
            raise ValueError(f"region {self.region} is not a box inside the {FRAME_SIZE} frame")
        if len(self.widths) != len(self.blocks):
            raise ValueError(f"widths {self.widths} and blocks {self.blocks} differ in length")
        bad = [a for a in self.attributes if a not in CELEBA_ATTRIBUTES]
        if bad:
            raise ValueError(f"unknown CelebA attributes {bad}")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "widths": list(self.widths), "blocks": list(self.blocks),
                "attributes": list(self.attributes), "region": list(self.region)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "StrictJudgeConfig":
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown strict judge config keys {sorted(unknown)}")
        return cls(**d)


def frame_to_input(frame: Image.Image, size: int,
                   region: tuple[int, int, int, int] = REGION) -> torch.Tensor:
    """A face aligned like a CelebA frame (178 x 218 or any size of that aspect) -> ``3 x size x size``
    uint8: its ``region`` (in 178 x 218 frame pixels), resized (antialiased)."""
    w, h = frame.size
    aspect = FRAME_SIZE[0] / FRAME_SIZE[1]
    if w < 8 or h < 8 or abs(w / h - aspect) > ASPECT_TOLERANCE * aspect:
        raise ValueError(f"expected a face aligned like a CelebA frame ({FRAME_SIZE[0]} x {FRAME_SIZE[1]} "
                         f"or the same aspect), got {w} x {h}")
    sx, sy = w / FRAME_SIZE[0], h / FRAME_SIZE[1]
    left, top, right, bottom = region
    t = TF.pil_to_tensor(frame.convert("RGB"))
    return TF.resized_crop(t, round(top * sy), round(left * sx), round((bottom - top) * sy),
                           round((right - left) * sx), [size, size], antialias=True)


class StrictJudge(nn.Module):
    """CelebA-aligned faces -> attribute probabilities; a small ResNet on images ``B x 3 x S x S``.

    A 5 x 5 stride-2 stem and a max pool, then per width a stage of basic blocks (the first of each
    later stage halves the resolution), global average pooling, dropout and one linear layer.
    """

    frame_size: tuple[int, int] = FRAME_SIZE

    def __init__(self, config: StrictJudgeConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or StrictJudgeConfig()
        #: Judges of parts of the face (see :meth:`load`), kept out of this module's state dict.
        self.parts: dict[str, StrictJudge] = {}
        w = config.widths
        layers: list[nn.Module] = [nn.Conv2d(3, w[0], 5, 2, 2, bias=False), nn.BatchNorm2d(w[0]),
                                   nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1)]
        cin = w[0]
        for stage, (cout, n) in enumerate(zip(w, config.blocks)):
            for b in range(n):
                stride = 2 if stage > 0 and b == 0 else 1
                down = None
                if stride != 1 or cin != cout:
                    down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                layers.append(BasicBlock(cin, cout, stride, down))
                cin = cout
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(config.dropout))
        self.head = nn.Linear(cin, len(config.attributes))

    @property
    def attributes(self) -> tuple[str, ...]:
        return self.config.attributes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Float images in [0, 1] -> attribute logits."""
        return self.head(self.features(x))

    @torch.no_grad()
    def predict_tensor(self, images: torch.Tensor, batch: int = 100) -> torch.Tensor:
        """uint8 judge inputs ``N x 3 x S x S`` (see :func:`frame_to_input`) -> probabilities ``N x A``."""
        self.eval()
        out = [torch.sigmoid(self(TF.to_dtype(images[i:i + batch], torch.float32, scale=True)))
               for i in range(0, len(images), batch)]
        return torch.cat(out) if out else torch.empty(0, len(self.attributes))

    def predict_proba(self, frames: Sequence[Image.Image]) -> torch.Tensor:
        """PIL faces aligned like CelebA frames (any size of the 178 x 218 aspect) -> ``N x A`` probabilities;
        an attribute that a part reads is the part's reading."""
        if not frames:
            return torch.empty(0, len(self.attributes))
        x = torch.stack([frame_to_input(f, self.config.image_size, self.config.region) for f in frames])
        p = self.predict_tensor(x)
        for part in self.parts.values():
            q = part.predict_proba(frames)
            for j, a in enumerate(part.attributes):
                if a in self.attributes:
                    p[:, self.attributes.index(a)] = q[:, j]
        return p

    def read_by(self) -> dict[str, str]:
        """Attribute -> the region whose network reads it (``"face"`` unless a part does)."""
        owner = {a: "face" for a in self.attributes}
        for name, part in self.parts.items():
            owner.update({a: name for a in part.attributes if a in owner})
        return owner

    def save(self, folder: str | os.PathLike) -> None:
        """``config.json`` + ``model.safetensors`` (no pickle; floating-point tensors stored as float16,
        read back into float32 by :meth:`load`)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / CONFIG_NAME).write_text(json.dumps(self.config.to_dict(), indent=2))
        state = {k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in self.state_dict().items()}
        save_file(state, str(folder / WEIGHTS_NAME))

    @classmethod
    def load(cls, folder: str | os.PathLike = "strict_judge") -> "StrictJudge":
        """A strict judge saved by :meth:`save`, in eval mode, with the parts found in its sub-folders
        (CheckpointError if it or a part is missing or broken)."""
        judge = cls(load_folder_config(folder, StrictJudgeConfig, "strict judge",
                                       "python -m evaluation.strict_judge"))
        load_safetensors_into(judge, Path(folder) / WEIGHTS_NAME)
        for name in PART_REGIONS:
            if (Path(folder) / name / CONFIG_NAME).is_file():
                judge.parts[name] = cls.load(Path(folder) / name)
        return judge.eval()
