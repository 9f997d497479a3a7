"""Augmentation of real images for the attribute critic, so that it reads the attribute and not the
texture: blur, noise, colour and small shifts, drawn independently for small groups of a batch; and
ghost smiles, so that a half-drawn, blurred smile does not pass for one."""
from __future__ import annotations

import math

import torch
import torchvision.transforms.v2.functional as TF
from torchvision.transforms import v2

from model.paste import ATTRIBUTE_REGIONS, REGION_CORE, ellipse_mask

#: Ghost smiles: opacity range of the donor's mouth, and its blur in fractions of the crop side.
GHOST_OPACITY: tuple[float, float] = (0.3, 0.7)
GHOST_BLUR: float = 0.025

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


def add_ghost_smiles(x: torch.Tensor, smiling: torch.Tensor, share: float) -> torch.Tensor:
    """``x`` (B x 3 x S x S aligned crops in [0, 1]) with up to ``share`` of the batch's faces that do
    not smile (``smiling``: B booleans) given a ghost smile: the mouth region of a smiling face of the
    same batch, blurred by :data:`GHOST_BLUR` of the side and blended at an opacity drawn from
    :data:`GHOST_OPACITY` through the smile's region (``model.paste.ATTRIBUTE_REGIONS``). Their labels
    stay "not smiling": a critic trained on them does not take a smudge of a smile for one. Needs a
    smiling and a non-smiling face in the batch; returns ``x`` itself otherwise."""
    donors, plain = smiling.nonzero().flatten(), (~smiling).nonzero().flatten()
    count = min(len(plain), round(share * len(x)))
    if not len(donors) or not count:
        return x
    size = x.shape[-1]
    recipients = plain[torch.randperm(len(plain), device=x.device)[:count]]
    donor = donors[torch.randint(len(donors), (count,), device=x.device)]
    sigma = GHOST_BLUR * size
    blurred = TF.gaussian_blur(x[donor], [2 * math.ceil(3 * sigma) + 1] * 2, [sigma, sigma])
    region = torch.from_numpy(ellipse_mask(size, *ATTRIBUTE_REGIONS["Smiling"], REGION_CORE)).to(x)
    low, high = GHOST_OPACITY
    alpha = (low + (high - low) * torch.rand(count, 1, 1, 1, device=x.device)) * region
    out = x.clone()
    out[recipients] = x[recipients] * (1 - alpha) + blurred * alpha
    return out
