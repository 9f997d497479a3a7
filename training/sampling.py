"""Which training images go into each batch: seeded, resumable, sharded across ranks, and optionally
balanced so that rare attributes are not rare in a batch."""
from __future__ import annotations

import math
from collections.abc import Iterator

import torch


def rare_attributes(labels: torch.Tensor, below: float) -> list[int]:
    """Columns of ``labels`` whose positive share is under ``below``."""
    return [j for j, share in enumerate(labels.float().mean(0).tolist()) if share < below]


class BatchSampler:
    """Index batches of one epoch at a time (``steps`` per epoch on each rank).

    Uniform: a seeded permutation of the images, split across ranks. Balanced (``rare_share`` > 0):
    in each batch, ``ceil(rare_share * batch)`` images are drawn from the positives of every
    attribute rarer than ``rare_below`` (cycling through a seeded permutation of them), the rest
    uniformly as before. Batches depend only on (seed, epoch, rank), so a resumed run sees exactly
    the batches it would have seen.
    """

    def __init__(self, labels: torch.Tensor, batch: int, seed: int, rank: int = 0, world: int = 1,
                 rare_share: float = 0.0, rare_below: float = 0.15) -> None:
        self.n, self.batch, self.seed, self.rank, self.world = len(labels), batch, seed, rank, world
        self.rare = rare_attributes(labels, rare_below) if rare_share > 0 else []
        self.per_rare = math.ceil(rare_share * batch) if self.rare else 0
        if self.per_rare * len(self.rare) >= batch:
            raise ValueError(f"{len(self.rare)} rare attributes x {self.per_rare} images fill the batch of {batch}")
        self.positives = [torch.nonzero(labels[:, j] > 0.5).squeeze(1) for j in self.rare]
        if any(len(p) == 0 for p in self.positives):
            raise ValueError("a rare attribute has no positive image to balance with")
        self.uniform = batch - self.per_rare * len(self.rare)
        self.steps = (self.n // world) // self.uniform if self.rare else (self.n // world) // batch

    def epoch(self, epoch: int, skip: int = 0) -> Iterator[tuple[int, torch.Tensor]]:
        """``(step, indices)`` for the steps of ``epoch`` from ``skip`` on."""
        g = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
        perm = torch.randperm(self.n, generator=g)
        per_rank = self.n // self.world
        mine = perm[self.rank * per_rank:(self.rank + 1) * per_rank]
        pools = [pos[torch.randperm(len(pos), generator=g)] for pos in self.positives]
        for s in range(self.steps):
            if s < skip:
                continue
            parts = [mine[s * self.uniform:(s + 1) * self.uniform]]
            for pool in pools:
                start = ((s * self.world + self.rank) * self.per_rare) % len(pool)
                parts.append(pool[(start + torch.arange(self.per_rare)) % len(pool)])
            yield s, torch.cat(parts)
