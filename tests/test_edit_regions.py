"""evaluation.edit_regions: an edit drawn inside its region is read from the inside half only, one
drawn around it from the outside half only."""
import torch

from evaluation.edit_regions import region_mask, split_edits

SIZE = 64


class Painter:
    """A stand-in editor: the reconstruction is grey; the edit whitens ``where`` (a mask)."""

    def __init__(self, where: torch.Tensor) -> None:
        self.where = where

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return torch.full_like(x, 0.5)

    def edit(self, x: torch.Tensor, changes: dict) -> torch.Tensor:
        return torch.full_like(x, 0.5) + 0.5 * self.where


class Looker:
    """A stand-in judge that reads Smiling where the mean of ``looks_at`` is bright."""

    attributes = ("Smiling",)

    def __init__(self, looks_at: torch.Tensor) -> None:
        self.looks_at = looks_at

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return ((x * self.looks_at).sum((1, 2, 3)) / (3 * self.looks_at.sum()) > 0.6)[:, None]


def test_a_judge_that_looks_at_the_mouth_reads_only_the_inside_half() -> None:
    lips = (region_mask(SIZE, "Smiling", 0.6) == 1).float()
    cheeks = ((region_mask(SIZE, "Smiling", 1.6) > 0) & ~(region_mask(SIZE, "Smiling", 1.0) > 0)).float()
    faces = torch.rand(5, 3, SIZE, SIZE)
    for drawn, inside, outside in ((lips, 1.0, 0.0), (cheeks, 0.0, 1.0)):
        r = split_edits(Painter(drawn), Looker(drawn), faces, "Smiling", (1.0,))
        assert r["reconstruction"] == 0.0 and r["edit"] == 1.0
        assert r["inside x1"] == inside and r["outside x1"] == outside


def test_a_smaller_scale_is_a_smaller_region_around_the_same_centre() -> None:
    big, small = region_mask(SIZE, "Smiling", 1.0), region_mask(SIZE, "Smiling", 0.6)
    assert (small <= big).all() and small.sum() < 0.5 * big.sum()
    row, col = int(0.80 * SIZE), SIZE // 2  # the smile region's centre (0.5, 0.8)
    assert big[row, col] == small[row, col] == 1
