"""The strict attribute judge at inference: a small ResNet that reads CelebA attributes off the whole
face, in a CelebA-aligned frame, at 128 px.

A judge independent of the editor (another network, another input, trained on real photos only; its
training and reports are ``evaluation/strict_judge.py``). The app uses it to check what an edit did
to the returned photo::

    judge = StrictJudge.load("strict_judge")
    p = judge.predict_proba([frame, ...])   # PIL faces aligned like a CelebA frame -> N x attributes
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
#: The square (left, top, right, bottom) of the frame the judge reads: hair to chin.
REGION: tuple[int, int, int, int] = (0, 20, 178, 198)
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

    def __post_init__(self) -> None:
        self.widths = tuple(int(w) for w in self.widths)
        self.blocks = tuple(int(b) for b in self.blocks)
        self.attributes = tuple(self.attributes)
        if len(self.widths) != len(self.blocks):
            raise ValueError(f"widths {self.widths} and blocks {self.blocks} differ in length")
        bad = [a for a in self.attributes if a not in CELEBA_ATTRIBUTES]
        if bad:
            raise ValueError(f"unknown CelebA attributes {bad}")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "widths": list(self.widths), "blocks": list(self.blocks),
                "attributes": list(self.attributes)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "StrictJudgeConfig":
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown strict judge config keys {sorted(unknown)}")
        return cls(**d)


def frame_to_input(frame: Image.Image, size: int) -> torch.Tensor:
    """A face aligned like a CelebA frame (178 x 218 or any size of that aspect) -> ``3 x size x size``
    uint8: its :data:`REGION`, resized (antialiased)."""
    w, h = frame.size
    aspect = FRAME_SIZE[0] / FRAME_SIZE[1]
    if w < 8 or h < 8 or abs(w / h - aspect) > ASPECT_TOLERANCE * aspect:
        raise ValueError(f"expected a face aligned like a CelebA frame ({FRAME_SIZE[0]} x {FRAME_SIZE[1]} "
                         f"or the same aspect), got {w} x {h}")
    sx, sy = w / FRAME_SIZE[0], h / FRAME_SIZE[1]
    left, top, right, bottom = REGION
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
        """PIL faces aligned like CelebA frames (any size of the 178 x 218 aspect) -> ``N x A`` probabilities."""
        if not frames:
            return torch.empty(0, len(self.attributes))
        x = torch.stack([frame_to_input(f, self.config.image_size) for f in frames])
        return self.predict_tensor(x)

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
        """A strict judge saved by :meth:`save`, in eval mode (CheckpointError if it is missing or broken)."""
        judge = cls(load_folder_config(folder, StrictJudgeConfig, "strict judge",
                                       "python -m evaluation.strict_judge"))
        load_safetensors_into(judge, Path(folder) / WEIGHTS_NAME)
        return judge.eval()
