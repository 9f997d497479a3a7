"""The networks of the IFcVAE-GAN: encoder, decoder, auxiliary net, discriminator, the optional
attribute critic of the edit terms, and a region editor's mask head.

DCGAN-like convolutions (k x k, stride 2) on RGB images in [0, 1] of ``ModelConfig.image_shape``.
"""
from __future__ import annotations

import torch
from torch import nn

from .config import ModelConfig


def _down(cin: int, cout: int, k: int, norm: bool) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, k, stride=2, padding=k // 2, bias=not norm)]
    if norm:
        layers.append(nn.BatchNorm2d(cout))
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    return nn.Sequential(*layers)


def _conv_trunk(cfg: ModelConfig) -> list[nn.Module]:
    """The stride-2 conv stack shared in shape by the encoder and the discriminator, then flatten."""
    chans = (3, *cfg.widths)
    return [*(_down(a, b, cfg.kernel_size, norm=i > 0) for i, (a, b) in enumerate(zip(chans, chans[1:]))),
            nn.Flatten()]


class Encoder(nn.Module):
    """x -> (mu, logvar) of the identity code z, and attribute logits y_hat."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.features = nn.Sequential(*_conv_trunk(cfg))
        flat = cfg.widths[-1] * cfg.bottom_pixels
        self.z_dim = cfg.z_dim
        self.head = nn.Linear(flat, 2 * cfg.z_dim + cfg.num_attributes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = self.head(self.features(x))
        mu, logvar, y_logits = h.split([self.z_dim, self.z_dim, h.shape[1] - 2 * self.z_dim], dim=1)
        return mu, logvar.clamp(-12.0, 8.0), y_logits


class _UpBlock(nn.Module):
    """Nearest x2 upsampling then a 3 x 3 conv (no checkerboard artefacts of strided transposed convs);
    the attribute vector is broadcast as extra input channels."""

    def __init__(self, cin: int, cout: int, n_attr: int, last: bool) -> None:
        super().__init__()
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.conv = nn.Conv2d(cin + n_attr, cout, 3, padding=1, bias=last)
        self.post = nn.Sigmoid() if last else nn.Sequential(nn.BatchNorm2d(cout), nn.ReLU(inplace=True))

    def forward(self, h: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        ymap = y[:, :, None, None].expand(-1, -1, h.shape[2], h.shape[3]).to(h.dtype)
        return self.post(self.conv(self.up(torch.cat([h, ymap], dim=1))))


class Decoder(nn.Module):
    """(z, y) -> image in [0, 1]. ``y`` holds attribute values, 0 = absent, 1 = present."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        w = cfg.widths[::-1]
        self.bottom = cfg.bottom_shape
        self.w0 = w[0]
        self.fc = nn.Sequential(
            nn.Linear(cfg.z_dim + cfg.num_attributes, w[0] * cfg.bottom_pixels, bias=False),
            nn.BatchNorm1d(w[0] * cfg.bottom_pixels),
            nn.ReLU(inplace=True),
        )
        outs = (*w[1:], 3)
        self.blocks = nn.ModuleList(
            _UpBlock(a, b, cfg.num_attributes, last=i == len(w) - 1)
            for i, (a, b) in enumerate(zip(w, outs))
        )

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        y = y.to(z.dtype)
        h = self.fc(torch.cat([z, y], dim=1)).view(-1, self.w0, *self.bottom)
        for block in self.blocks:
            h = block(h, y)
        return h


class AuxNet(nn.Module):
    """z -> attribute logits. Trained to find attributes in z; the encoder is trained to defeat it."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(cfg.z_dim, cfg.aux_hidden), nn.ReLU(inplace=True),
            nn.Linear(cfg.aux_hidden, cfg.aux_hidden), nn.ReLU(inplace=True),
            nn.Linear(cfg.aux_hidden, cfg.num_attributes),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class Discriminator(nn.Module):
    """Image -> real/fake logit; with ``cfg.conditional_discriminator``, (image, attributes) -> logit
    (a projection discriminator: the attributes, as +-1, are embedded and dotted with the image's
    features; the embedding starts at zero, i.e. as the unconditional D)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        features = cfg.widths[-1] * cfg.bottom_pixels
        self.net = nn.Sequential(*_conv_trunk(cfg), nn.Linear(features, 1))
        self.embed = nn.Linear(cfg.num_attributes, features, bias=False) if cfg.conditional_discriminator else None
        if self.embed is not None:
            nn.init.zeros_(self.embed.weight)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Logits ``N``; ``y`` (``N x attributes`` in [0, 1]) is required by a conditional D, ignored otherwise."""
        if self.embed is None:
            return self.net(x).squeeze(1)
        if y is None:
            raise ValueError("a conditional discriminator needs the attributes each image claims")
        h = self.net[:-1](x)
        return self.net[-1](h).squeeze(1) + (self.embed(2 * y.to(h.dtype) - 1) * h).sum(1)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The output of each stride-2 block (the learned similarity of the ``rec_feat`` loss term)."""
        feats = []
        for block in self.net[:-2]:  # the conv blocks, then Flatten and the Linear head
            x = block(x)
            feats.append(x)
        return feats


class AttributeCritic(nn.Module):
    """Image -> attribute logits. Learns from real images only; during the edit terms it is frozen and
    judges the decoder's flipped renderings (unlike the encoder's head, it never sees a decoded image
    while it learns)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.net = nn.Sequential(*_conv_trunk(cfg), nn.Linear(cfg.widths[-1] * cfg.bottom_pixels,
                                                                cfg.num_attributes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class MaskNet(nn.Module):
    """Where a region editor's edit applies: (input, its reconstruction, the decoded edit, the
    attribute values drawn and the encoder's reading) -> mask ``N x 1 x H x W`` in [0, 1].

    A small U-Net at half the image's resolution (a mask is smooth), upsampled bilinearly. It sees
    the photo (what is there now), both decodings (where the decoder changes something) and the
    attribute change asked for, so an unchanged attribute can leave the mask closed. The output
    starts nearly closed (bias -3). With ``config.mirror_mask`` the mask is the union of what the
    head says and its left-right mirror image.
    """

    def __init__(self, cfg: ModelConfig, width: int = 16) -> None:
        super().__init__()
        a = cfg.num_attributes
        act = nn.LeakyReLU(0.2, inplace=True)
        self.inp = nn.Sequential(nn.Conv2d(9 + 2 * a, width, 3, stride=2, padding=1), act)
        self.down1 = nn.Sequential(nn.Conv2d(width, 2 * width, 3, stride=2, padding=1), act)
        self.down2 = nn.Sequential(nn.Conv2d(2 * width, 4 * width, 3, stride=2, padding=1), act)
        self.up2 = nn.Sequential(nn.Conv2d(6 * width, 2 * width, 3, padding=1), act)
        self.up1 = nn.Sequential(nn.Conv2d(3 * width, width, 3, padding=1), act)
        self.out = nn.Conv2d(width, 1, 3, padding=1)
        nn.init.constant_(self.out.bias, -3.0)
        self.mirror = cfg.mirror_mask

    def forward(self, x: torch.Tensor, x_rec: torch.Tensor, x_edit: torch.Tensor, y_drawn: torch.Tensor,
                y_hat: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        ys = torch.cat([y_drawn, y_drawn - y_hat], dim=1).to(x.dtype)[:, :, None, None].expand(-1, -1, h, w)
        h0 = self.inp(torch.cat([x, x_rec.to(x.dtype), x_edit.to(x.dtype), ys], dim=1))
        h1 = self.down1(h0)
        h2 = self.down2(h1)
        u = nn.functional.interpolate(h2, size=h1.shape[2:], mode="nearest")
        u = self.up2(torch.cat([u, h1], dim=1))
        u = nn.functional.interpolate(u, size=h0.shape[2:], mode="nearest")
        u = self.up1(torch.cat([u, h0], dim=1))
        mask = torch.sigmoid(nn.functional.interpolate(self.out(u), size=(h, w), mode="bilinear",
                                                       align_corners=False))
        return torch.maximum(mask, mask.flip(-1)) if self.mirror else mask
