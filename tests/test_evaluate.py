"""The evaluation command end to end on the fixture's test split, and the ablation on the fixture."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from evaluation.evaluate import reference_partners
from model import IFcVAEGAN
from tests.conftest import REPO
from training.celeba import CelebA
from training.edit_sheet import LABEL_WIDTH


def run(module: str, args: list[str], timeout: int = 600) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, "-m", module, *args], cwd=REPO, capture_output=True, text=True,
                       timeout=timeout, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    return r


@pytest.mark.slow
def test_evaluate_shipped_weights_on_fixture(celeba_tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval"
    r = run("evaluation.evaluate", ["--weights", "weights", "--judge", "judge", "--data", str(celeba_tiny),
                                    "--split", "test", "--out", str(out), "--cache-dir", str(tmp_path / "cache"),
                                    "--tune-steps", "5"])
    m = json.loads((out / "metrics.json").read_text())
    model = IFcVAEGAN.load(REPO / "weights")
    test = CelebA(celeba_tiny, "test")
    assert m["images"] == m["identity_images"] == len(test) == 4
    assert list(m["attributes"]) == list(model.attributes)
    labels = test.labels(model.attributes)
    for j, (name, a) in enumerate(m["attributes"].items()):
        assert a["positives"] == int(labels[:, j].sum())
        assert 0 <= a["accuracy"] <= 1 and 0 <= a["judge_accuracy"] <= 1
        on, off = a["edits"]["on"], a["edits"]["off"]
        # off->on edits the faces labelled without the attribute, on->off the others
        assert (on["images"], off["images"]) == (4 - a["positives"], a["positives"])
        for cell in (on, off):
            if cell["images"]:
                assert 0 <= cell["success"] <= 1 and 0 <= cell["others_kept"] <= 1
                assert cell["identity_original"]["of"] == cell["identity_detail"]["of"] == cell["images"]
                assert 0 <= cell["detail_success"] <= 1
    assert m["identity"]["detection_rate"]["original"] == 1.0  # dlib finds all 4 real fixture faces
    # the fixture's 4 test faces are 4 different people: no same-person reference pair, 4 different ones
    ref = m["identity"]["reference"]
    assert ref["same_person_pairs"]["of"] == 0 and ref["different_people_pairs"]["pairs"] == 4
    assert ref["different_people_pairs"]["mean_distance"] > 0
    assert m["reconstruction"]["psnr"] > 10 and 0 < m["reconstruction"]["ssim"] <= 1
    assert m["speed"]["ms_single_image"] > 0
    table = (out / "results.md").read_text()
    assert "| attribute | encoder acc" in table and all(f"| {a} |" in table for a in model.attributes)
    assert "| Smiling |" in r.stdout and "Edits as the app pastes them" in table
    grid = Image.open(out / "samples.png")
    # 4 faces across; rows: originals, reconstructions, one per attribute flipped (64 px + 1 px padding)
    assert grid.size == (4 * 65 + 1, (2 + len(model.attributes)) * 65 + 1)
    sheet = Image.open(out / "edits.png")
    # the same 4 faces after a label margin; rows: originals, reconstructions, each attribute flipped as
    # decoded, then each flipped as the app pastes it
    assert sheet.size == (LABEL_WIDTH + 4 * 65 + 1, (2 + 2 * len(model.attributes)) * 65 + 1)
    tuned = Image.open(out / "edits_tuned.png")  # the same sheet, each face decoded by its tuned decoder
    assert tuned.size == sheet.size
    originals = (slice(0, 65), slice(LABEL_WIDTH, None))
    tuned, sheet = np.asarray(tuned.convert("RGB")), np.asarray(sheet.convert("RGB"))
    assert np.array_equal(tuned[originals], sheet[originals]) and not np.array_equal(tuned, sheet)


def test_reference_partners_pick_same_and_other_people() -> None:
    same, other = reference_partners([7, 3, 7, 7, 5], 4)
    assert same == [2, None, 0, 0]  # another photo of the same person, or None
    assert other == [1, 2, 4, 4]  # the next photo of somebody else, wrapping around
    assert reference_partners([1, 1], 2) == ([1, 0], [None, None])


def test_evaluate_reports_bad_checkpoint_clearly(celeba_tiny: Path, tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"not a checkpoint")
    r = subprocess.run([sys.executable, "-m", "evaluation.evaluate", "--weights", str(tmp_path / "model.bin"),
                        "--data", str(celeba_tiny), "--out", str(tmp_path / "eval")],
                       cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert "cannot load checkpoint" in r.stderr and "pickle" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.slow
def test_ablation_trains_variants_and_tabulates_them(celeba_tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "ablation"
    args = ["--data", str(celeba_tiny), "--out", str(out), "--max-steps", "2", "--variants", "full", "no_aux",
            "--identity-limit", "0", "--cache-dir", str(tmp_path / "cache"),
            "--user-faces", "1", "--strict-judge", "none",
            # passed on to training.train: a tiny network
            "--widths", "8", "16", "16", "32", "--z-dim", "8", "--batch-size", "2", "--threads", "1",
            "--no-progress"]
    run("evaluation.ablation", args)
    table = (out / "ablation.md").read_text()
    assert "| full | none |" in table and "| no_aux | aux |" in table
    assert table.startswith("Command: `python -m evaluation.ablation --data ") and "the same 2 steps" in table
    assert IFcVAEGAN.load(out / "no_aux" / "last").config.loss_weights["aux"] == 0.0
    assert IFcVAEGAN.load(out / "full" / "last").config.loss_weights["aux"] > 0
    for variant in ("full", "no_aux"):
        assert json.loads((out / variant / "eval" / "metrics.json").read_text())["images"] == 4
    sheet = Image.open(out / "ablation.png")  # the two variants' grids side by side (4 faces of 65 px each)
    assert sheet.size == (2 * (4 * 65 + 1) + 10, 16 + (2 + 6) * 65 + 1)
    summary = json.loads((out / "ablation.json").read_text())
    assert summary["no_aux"]["terms_off"] == ["aux"]
    # RQ2 beside RQ4: each variant's returned photos and z-probe
    assert "| variant | user edit off→on |" in table and "| no_aux |" in table.split("What a user gets")[1]
    assert set(summary["full"]["z_probe"]) == set(IFcVAEGAN.load(out / "full" / "last").attributes)
    assert (out / "no_aux" / "user_level" / "metrics.json").exists()
    # a second call reuses the finished evaluations instead of training again
    r = run("evaluation.ablation", args)
    assert "== full" not in r.stdout and "| no_aux | aux |" in r.stdout


def test_comparison_grid_cuts_the_first_faces_at_the_given_tile(tmp_path: Path) -> None:
    from evaluation.ablation import comparison_grid

    for name in ("a", "b"):  # 8 faces of 32 px, 1 px apart, 3 rows
        Image.new("RGB", (8 * 33 + 1, 3 * 33 + 1), "gray").save(tmp_path / f"{name}.png")
    comparison_grid({"a": tmp_path / "a.png", "b": tmp_path / "b.png"}, tmp_path / "out.png", tile=33)
    assert Image.open(tmp_path / "out.png").size == (2 * (4 * 33 + 1) + 10, 16 + 3 * 33 + 1)
