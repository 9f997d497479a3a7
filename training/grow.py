"""Start a larger-resolution model from a trained smaller one (``--init`` across image sizes).

A model at twice the image size has one more stride-2 block at the image end of each conv stack
(encoder, discriminator, critic) and one more upsampling block at the image end of the decoder;
every block that neither reads nor writes RGB has a same-shape twin. Those inner weights are
copied; the blocks at the image end (the new ones, and the small model's RGB-facing ones, whose
channels no longer fit) start fresh. ``encoder.features.i`` comes from ``i - extra`` for
``i > extra``, likewise ``discriminator.net`` and ``critic.net``; the decoder's blocks keep their
index (they count from the smallest map); the heads, the decoder's first layer and the auxiliary
net are copied as they are.
"""
from __future__ import annotations

import re

import torch

from model import ModelConfig

#: Config fields that shape the inner layers, so must agree.
SHAPES = ("z_dim", "kernel_size", "aux_hidden", "attributes")
#: State-dict prefixes of the conv stacks that gain blocks at their input end.
TRUNKS = ("encoder.features.", "discriminator.net.", "critic.net.")


def extra_blocks(small: ModelConfig, large: ModelConfig) -> int:
    """How many blocks ``large`` adds to ``small``; ``ValueError`` if it is not ``small`` grown."""
    extra = len(large.widths) - len(small.widths)
    if extra < 1 or tuple(large.widths[extra:]) != tuple(small.widths) \
            or large.image_size != small.image_size * 2**extra \
            or any(getattr(small, k) != getattr(large, k) for k in SHAPES):
        raise ValueError(f"a {large.image_size} px model with widths {list(large.widths)} is not the "
                         f"{small.image_size} px model with widths {list(small.widths)} grown by whole blocks "
                         "at the image end (same z, kernel, auxiliary net and attributes)")
    return extra


def _source_key(key: str, extra: int, small_decoder_blocks: int) -> str | None:
    """The small model's name for ``key`` of the grown model; None for a block that starts fresh."""
    for trunk in TRUNKS:
        if key.startswith(trunk):
            index, rest = key[len(trunk):].split(".", 1)
            return None if int(index) <= extra else f"{trunk}{int(index) - extra}.{rest}"
    m = re.match(r"decoder\.blocks\.(\d+)\.", key)
    if m and int(m.group(1)) >= small_decoder_blocks - 1:
        return None  # the small decoder's last block outputs RGB; here it and the new ones are fresh
    return key


def grown_state(small: dict[str, torch.Tensor], small_cfg: ModelConfig,
                large: dict[str, torch.Tensor], large_cfg: ModelConfig) -> tuple[dict[str, torch.Tensor], int]:
    """``large`` (a fresh state dict) with every tensor the small checkpoint has a same-shape match for
    replaced by it; returns the new state and how many tensors were copied."""
    extra = extra_blocks(small_cfg, large_cfg)
    out, copied = dict(large), 0
    for key, fresh in large.items():
        src = _source_key(key, extra, len(small_cfg.widths))
        if src is None or src not in small:
            continue
        if small[src].shape != fresh.shape:
            raise ValueError(f"{key}: {tuple(fresh.shape)} here, {tuple(small[src].shape)} as {src} in the checkpoint")
        out[key] = small[src].clone()
        copied += 1
    return out, copied
