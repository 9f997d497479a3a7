"""Metric functions of the evaluation on inputs with known answers."""
import math

import numpy as np
import pytest
import torch

from evaluation.metrics import (
    EditTally, accuracy, balanced_accuracy, distance_summary, mse, others_kept, psnr, share, ssim,
)


def b(rows: list[list[int]]) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.bool)


def test_accuracy_and_balanced_accuracy() -> None:
    labels = b([[1, 0], [0, 0], [0, 0], [0, 1]])
    pred = b([[1, 0], [0, 0], [0, 0], [0, 0]])
    assert accuracy(pred, labels).tolist() == [1.0, 0.75]
    # attribute 1: positives recall 0/1, negatives recall 3/3 -> 0.5 although accuracy is 0.75
    assert balanced_accuracy(pred, labels).tolist() == [1.0, 0.5]
    # "always absent" on an imbalanced attribute: high accuracy, balanced accuracy 0.5
    labels = torch.zeros(100, 1, dtype=torch.bool)
    labels[:10] = True
    pred = torch.zeros_like(labels)
    assert accuracy(pred, labels).item() == pytest.approx(0.9)
    assert balanced_accuracy(pred, labels).item() == pytest.approx(0.5)


def test_balanced_accuracy_with_one_class_only_is_its_recall() -> None:
    labels = b([[0], [0], [0], [0]])
    pred = b([[0], [1], [0], [0]])
    assert balanced_accuracy(pred, labels).item() == pytest.approx(0.75)
    assert math.isnan(balanced_accuracy(pred[:0], labels[:0]).item())


def test_mse_and_psnr() -> None:
    a = torch.zeros(2, 3, 4, 4)
    c = a.clone()
    c[0] += 0.1  # MSE 0.01 -> 20 dB
    c[1] += 0.5  # MSE 0.25 -> 6.02 dB
    assert mse(a, c).tolist() == pytest.approx([0.01, 0.25])
    assert psnr(a, c).tolist() == pytest.approx([20.0, 10 * math.log10(4)], abs=1e-4)
    assert math.isinf(psnr(a, a)[0].item())


def test_ssim_is_one_for_identical_images_and_drops_with_noise() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 64, 64, generator=g)
    noisy = (x + 0.3 * torch.randn(x.shape, generator=g)).clamp(0, 1)
    assert ssim(x, x).tolist() == pytest.approx([1.0, 1.0])
    assert (ssim(x, noisy) < 0.9).all()


def test_others_kept_ignores_the_edited_column() -> None:
    before = b([[1, 0, 0, 1], [1, 1, 1, 1]])
    after = b([[0, 0, 0, 1], [0, 1, 0, 0]])  # column 0 always changes (the edit)
    assert others_kept(before, after, edited=0).tolist() == pytest.approx([1.0, 1 / 3])


def test_edit_tally_counts_success_baseline_and_identity() -> None:
    tally = EditTally(column=1, target=True)
    rec = b([[0, 0, 1], [0, 1, 1], [1, 0, 1]])    # the judge on reconstructions: 1 of 3 already "on"
    edit = b([[0, 1, 1], [0, 1, 0], [1, 0, 1]])   # on edits: 2 of 3 "on"
    detail = b([[0, 0, 1], [0, 1, 1], [1, 1, 1]])  # as pasted by the app: 2 of 3 "on"
    tally.add(rec, edit, detail)
    tally.add(b([[0, 0, 0]]), b([[1, 1, 0]]), b([[0, 0, 0]]))  # a second batch: success, not baseline
    tally.add_identity([0.3, float("nan"), 0.7, 0.5], [0.2, 0.1, float("nan"), 0.9], [0.1, 0.2, 0.3, 0.8])
    s = tally.summary(threshold=0.6)
    assert s["images"] == 4
    assert s["success"] == pytest.approx(3 / 4)
    assert s["baseline"] == pytest.approx(1 / 4)
    assert s["others_kept"] == pytest.approx((1 + 0.5 + 1 + 0.5) / 4)
    assert s["identity_original"] == {"pairs": 3, "of": 4, "mean_distance": pytest.approx(0.5),
                                      "same_person": pytest.approx(2 / 3)}
    assert s["identity_reconstruction"]["same_person"] == pytest.approx(2 / 3)
    assert s["detail_success"] == pytest.approx(2 / 4)
    assert s["identity_detail"] == {"pairs": 4, "of": 4, "mean_distance": pytest.approx(0.35),
                                    "same_person": pytest.approx(3 / 4)}


def test_edit_tally_towards_off_and_empty() -> None:
    tally = EditTally(column=0, target=False)
    assert tally.summary(0.6)["success"] is None
    tally.add(b([[1], [1]]), b([[0], [1]]), b([[1], [0]]))
    s = tally.summary(0.6)
    assert (s["success"], s["baseline"], s["detail_success"]) == (0.5, 0.0, 0.5)
    assert s["identity_original"] == {"pairs": 0, "of": 0, "mean_distance": None, "same_person": None}


def test_share_and_distance_summary() -> None:
    assert share(torch.tensor([True, False, True, True])) == 0.75
    assert share(np.array([])) is None
    assert distance_summary([float("nan")] * 2, 0.6)["pairs"] == 0
