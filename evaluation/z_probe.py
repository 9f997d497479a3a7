"""The z-probe (the paper's RQ1): how much of each attribute a fresh classifier can read from the
identity code ``z`` alone.

An MLP and a linear probe are fitted on the encoder's ``mu`` for one part of a split and scored on
the rest, as balanced accuracy per attribute (0.5: ``z`` tells nothing), beside the encoder's own
head on the same scored faces. The probes' loss weighs each attribute's positives and negatives
equally (a rare attribute such as Eyeglasses is not ignored), the inputs are standardised with the
fitted part's statistics, and each attribute's training step count is chosen on a held-out fifth of
the fitted part, so a probe reads what ``z`` carries rather than what it memorised.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from evaluation.metrics import balanced_accuracy
from model import IFcVAEGAN
from model.preprocessing import to_model_input

#: Share of the split the probes are fitted on (the rest is scored).
FIT_FRACTION = 0.7
#: Hidden width of the MLP probe.
HIDDEN = 256
#: Full-batch Adam steps at most, and how often the held-out part is checked.
STEPS = 600
CHECK_EVERY = 20
LR = 3e-3
WEIGHT_DECAY = 1e-3


@torch.inference_mode()
def encode(model: IFcVAEGAN, images: torch.Tensor, batch_size: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 crops ``N x 3 x S x S`` -> (``mu`` ``N x z_dim``, the head's decisions ``N x A`` bool)."""
    mus, decisions = [], []
    for i in range(0, len(images), batch_size):
        mu, _, logits = model.encode(to_model_input(images[i:i + batch_size]))
        mus.append(mu)
        decisions.append(logits > 0)
    return torch.cat(mus), torch.cat(decisions)


def make_probe(z_dim: int, attributes: int, hidden: int | None) -> nn.Module:
    """A linear probe (``hidden=None``) or a one-hidden-layer MLP, ``z_dim`` -> ``attributes`` logits."""
    if hidden is None:
        return nn.Linear(z_dim, attributes)
    return nn.Sequential(nn.Linear(z_dim, hidden), nn.ReLU(), nn.Linear(hidden, attributes))


def balanced_bce(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """BCE in which each attribute's positives and negatives weigh the same in total."""
    pos = labels.mean(0).clamp(1e-3, 1 - 1e-3)
    weights = labels / (2 * pos) + (1 - labels) / (2 * (1 - pos))
    return F.binary_cross_entropy_with_logits(logits, labels, weight=weights)


def fit_and_predict(x: torch.Tensor, labels: torch.Tensor, x_new: torch.Tensor, hidden: int | None,
                    seed: int = 0) -> torch.Tensor:
    """Fit a probe on standardised features ``x`` (``N x D``) for boolean ``labels`` (``N x A``) and
    return its decisions on ``x_new`` (``M x A`` bool). Full-batch Adam on :func:`balanced_bce`; each
    attribute's decisions are taken at the step with its best balanced accuracy on a held-out fifth
    of ``x``."""
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(x), generator=gen)
    n_val = max(1, len(x) // 5)
    val, fit = order[:n_val], order[n_val:]
    y = labels.float()
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        probe = make_probe(x.shape[1], y.shape[1], hidden)
    opt = torch.optim.Adam(probe.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    best = torch.full((y.shape[1],), -1.0)
    decisions = torch.zeros(len(x_new), y.shape[1], dtype=torch.bool)
    with torch.enable_grad():
        for step in range(1, STEPS + 1):
            loss = balanced_bce(probe(x[fit]), y[fit])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if step % CHECK_EVERY == 0:
                with torch.no_grad():
                    score = balanced_accuracy(probe(x[val]) > 0, labels[val]).nan_to_num(0.0)
                    better = score > best
                    best = torch.where(better, score, best)
                    decisions[:, better] = (probe(x_new) > 0)[:, better]
    return decisions


def z_probe(mu: torch.Tensor, labels: torch.Tensor, head: torch.Tensor, attributes: tuple[str, ...],
            fit_fraction: float = FIT_FRACTION, seed: int = 0,
            probes: tuple[str, ...] = ("mlp", "linear")) -> dict[str, Any]:
    """Balanced accuracy per attribute of the ``probes`` (an MLP and a linear probe) fitted on ``mu``
    (``N x D``) of a seeded ``fit_fraction`` of the faces and scored on the rest, beside the head's
    decisions ``head`` (``N x A`` bool) on the scored faces; ``labels`` ``N x A`` are the true attributes."""
    if not 0 < fit_fraction < 1:
        raise ValueError(f"fit_fraction must be between 0 and 1, not {fit_fraction}")
    n = len(mu)
    n_fit = round(n * fit_fraction)
    if n_fit < 5 or n - n_fit < 1:
        raise ValueError(f"{n} faces are too few for a z-probe (fitting on {n_fit}, scoring {n - n_fit})")
    labels = labels.bool()
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    fit, score = order[:n_fit], order[n_fit:]
    mean, std = mu[fit].mean(0), mu[fit].std(0).clamp_min(1e-6)
    x = (mu.float() - mean) / std

    def scored(decisions: torch.Tensor) -> dict[str, float | None]:
        bal = balanced_accuracy(decisions, labels[score])
        return {a: (None if v != v else v) for a, v in zip(attributes, bal.tolist())}

    out: dict[str, Any] = {"fit": int(n_fit), "scored": int(n - n_fit), "seed": seed}
    for name in probes:
        hidden = {"mlp": HIDDEN, "linear": None}[name]
        out[name] = scored(fit_and_predict(x[fit], labels[fit], x[score], hidden, seed))
    out["head"] = scored(head[score])
    return out
