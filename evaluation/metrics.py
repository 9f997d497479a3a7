"""Metric functions of the evaluation, on plain tensors (no models here).

Decisions and labels are boolean tensors ``N x A`` (N images, A attributes); images are float
``N x 3 x H x W`` in [0, 1].
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from skimage.metrics import structural_similarity


def accuracy(pred: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Share of correct decisions per attribute (``A``); NaN where there are no images."""
    if len(pred) == 0:
        return torch.full(pred.shape[1:], float("nan"))
    return (pred == labels).float().mean(0)


def balanced_accuracy(pred: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean of the recall on positives and on negatives, per attribute (``A``).

    Where only one class occurs, its recall alone (as scikit-learn does); NaN without images.
    """
    pos, neg = labels, ~labels
    tpr = (pred & pos).sum(0) / pos.sum(0)
    tnr = (~pred & neg).sum(0) / neg.sum(0)
    return torch.stack([tpr, tnr]).nanmean(0)


def mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean squared error per image (``N``)."""
    return (a.float() - b.float()).pow(2).mean(dim=(1, 2, 3))


def psnr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB per image (``N``), for images in [0, 1]; inf where identical."""
    return 10 * torch.log10(1.0 / mse(a, b))


def ssim(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Structural similarity per image (``N``), scikit-image's default 7 x 7 window over RGB."""
    a_np = a.detach().float().permute(0, 2, 3, 1).cpu().numpy()
    b_np = b.detach().float().permute(0, 2, 3, 1).cpu().numpy()
    return torch.tensor([structural_similarity(x, y, channel_axis=2, data_range=1.0)
                         for x, y in zip(a_np, b_np)], dtype=torch.float64)


def others_kept(before: torch.Tensor, after: torch.Tensor, edited: int) -> torch.Tensor:
    """Per image, the share of the judge's decisions other than column ``edited`` that did not change."""
    keep = torch.ones(before.shape[1], dtype=torch.bool)
    keep[edited] = False
    return (before[:, keep] == after[:, keep]).float().mean(1)


def share(values: torch.Tensor | np.ndarray) -> float | None:
    """Mean of a boolean or float vector as a Python float; ``None`` for an empty one."""
    values = torch.as_tensor(values)
    return values.float().mean().item() if len(values) else None


def distance_summary(distances: list[float], threshold: float) -> dict[str, Any]:
    """Embedding distances (NaN where a face was not detected) -> pairs found, mean, share under threshold."""
    d = np.asarray(distances, dtype=np.float64)
    found = d[~np.isnan(d)]
    return {"pairs": int(len(found)), "of": int(len(d)),
            "mean_distance": float(found.mean()) if len(found) else None,
            "same_person": float((found < threshold).mean()) if len(found) else None}


@dataclass
class EditTally:
    """Running record of one attribute edited towards ``target`` on a set of faces.

    ``column`` is the edited attribute's column in the judge's decisions. Success: the judge calls
    the edit ``target``; baseline: it already calls the plain reconstruction ``target``.
    """

    column: int
    target: bool
    success: list[torch.Tensor] = field(default_factory=list)
    baseline: list[torch.Tensor] = field(default_factory=list)
    kept: list[torch.Tensor] = field(default_factory=list)
    dist_original: list[float] = field(default_factory=list)
    dist_reconstruction: list[float] = field(default_factory=list)
    detail_success: list[torch.Tensor] = field(default_factory=list)
    dist_detail: list[float] = field(default_factory=list)

    def add(self, judged_rec: torch.Tensor, judged_edit: torch.Tensor, judged_detail: torch.Tensor) -> None:
        """The judge's decisions (``N x A``) on the reconstructions, the edits, and the edits as the
        app pastes them (``model.paste.add_change``) of the same faces."""
        self.success.append(judged_edit[:, self.column] == self.target)
        self.baseline.append(judged_rec[:, self.column] == self.target)
        self.kept.append(others_kept(judged_rec, judged_edit, self.column))
        self.detail_success.append(judged_detail[:, self.column] == self.target)

    def add_identity(self, to_original: list[float], to_reconstruction: list[float],
                     detail_to_original: list[float]) -> None:
        """Embedding distances of the edits to the originals and to the reconstructions, and of the
        app-pasted edits to the originals."""
        self.dist_original.extend(to_original)
        self.dist_reconstruction.extend(to_reconstruction)
        self.dist_detail.extend(detail_to_original)

    def summary(self, threshold: float) -> dict[str, Any]:
        def cat(parts: list[torch.Tensor]) -> torch.Tensor:
            return torch.cat(parts) if parts else torch.empty(0)

        success = cat(self.success)
        return {"images": len(success), "success": share(success), "baseline": share(cat(self.baseline)),
                "others_kept": share(cat(self.kept)),
                "identity_original": distance_summary(self.dist_original, threshold),
                "identity_reconstruction": distance_summary(self.dist_reconstruction, threshold),
                "detail_success": share(cat(self.detail_success)),
                "identity_detail": distance_summary(self.dist_detail, threshold)}
