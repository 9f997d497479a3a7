"""Training batches: seeded, resumable, sharded, and balanced for rare attributes."""
import pytest
import torch

from training.sampling import BatchSampler, rare_attributes


def labels(n: int = 2000) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return (torch.rand(n, 3, generator=g) < torch.tensor([0.5, 0.06, 0.12])).float()


def test_uniform_batches_cover_each_image_once_per_epoch() -> None:
    s = BatchSampler(labels(), 50, seed=1)
    idx = torch.cat([i for _, i in s.epoch(0)])
    assert s.steps == 40 and len(idx) == 2000 and len(idx.unique()) == 2000


def test_balanced_batches_hold_a_quarter_of_each_rare_attribute() -> None:
    y = labels()
    assert rare_attributes(y, 0.15) == [1, 2]
    s = BatchSampler(y, 64, seed=1, rare_share=0.25)
    for _, idx in s.epoch(0):
        assert len(idx) == 64
        share = y[idx].mean(0)
        assert share[1] >= 0.25 and share[2] >= 0.25
    uniform = BatchSampler(y, 64, seed=1)
    assert y[next(uniform.epoch(0))[1]][:, 1].mean() < 0.25


def test_batches_depend_only_on_seed_epoch_and_skip() -> None:
    a = BatchSampler(labels(), 64, seed=3, rare_share=0.25)
    b = BatchSampler(labels(), 64, seed=3, rare_share=0.25)
    full = list(a.epoch(2))
    resumed = list(b.epoch(2, skip=5))
    assert [s for s, _ in resumed] == list(range(5, a.steps))
    assert all(torch.equal(x, y) for (_, x), (_, y) in zip(full[5:], resumed))
    assert not torch.equal(full[0][1], next(a.epoch(3))[1])


def test_ranks_get_disjoint_uniform_parts() -> None:
    r0 = torch.cat([i for _, i in BatchSampler(labels(), 50, seed=0, rank=0, world=2).epoch(0)])
    r1 = torch.cat([i for _, i in BatchSampler(labels(), 50, seed=0, rank=1, world=2).epoch(0)])
    assert not set(r0.tolist()) & set(r1.tolist())


def test_impossible_balance_is_refused() -> None:
    with pytest.raises(ValueError, match="fill the batch"):
        BatchSampler(labels(), 8, seed=0, rare_share=0.5)
    with pytest.raises(ValueError, match="no positive"):
        BatchSampler(torch.zeros(100, 2), 8, seed=0, rare_share=0.25)
