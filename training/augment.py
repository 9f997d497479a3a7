"""Augmentation of real images for the attribute critic, so that it reads the attribute and not the
texture: blur, noise, colour and small shifts, drawn independently for small groups of a batch."""
from __future__ import annotations

import torch
from torchvision.transforms import v2

CRITIC_AUGMENT = v2.Compose([
    v2.RandomApply([v2.GaussianBlur(5, sigma=(0.5, 2.0))], p=0.5),
    v2.RandomApply([v2.ColorJitter(brightness=0.3, contrast=0.3, saturation=0.3, hue=0.03)], p=0.8),
    v2.RandomAffine(degrees=5, translate=(0.06, 0.06), scale=(0.93, 1.07)),
])


def augment_for_critic(x: torch.Tensor, group: int = 8, noise: float = 0.03) -> torch.Tensor:
    """``x`` (B x 3 x S x S in [0, 1]) augmented; each group of ``group`` images shares one draw."""
    out = torch.cat([CRITIC_AUGMENT(chunk) for chunk in x.split(group)])
    out = out + noise * torch.rand(len(x), 1, 1, 1, device=x.device) * torch.randn_like(out)
    return out.clamp(0.0, 1.0)
