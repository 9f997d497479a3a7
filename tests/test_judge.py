"""The attribute judge: config, safetensors round trip, the shipped judge/ and its training command."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from evaluation.judge import AttributeJudge, JudgeConfig, augment
from evaluation.metrics import accuracy
from model import CELEBA_ATTRIBUTES, CheckpointError
from model.preprocessing import to_model_input
from tests.conftest import REPO
from training.celeba import CelebA, load_crops

JUDGE = REPO / "judge"


def test_config_checks_attributes_and_round_trips() -> None:
    with pytest.raises(ValueError, match="unknown CelebA attributes"):
        JudgeConfig(attributes=("Smiling", "Halo"))
    with pytest.raises(ValueError, match="unknown judge config keys"):
        JudgeConfig.from_dict({"z_dim": 3})
    cfg = JudgeConfig(widths=(8, 16), attributes=("Smiling",))
    assert JudgeConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg


def test_save_load_round_trip_and_clear_errors(tmp_path: Path) -> None:
    judge = AttributeJudge(JudgeConfig(widths=(8, 16, 16))).eval()
    judge.save(tmp_path / "j")
    assert sorted(p.name for p in (tmp_path / "j").iterdir()) == ["config.json", "model.safetensors"]
    x = torch.rand(3, 3, 64, 64)
    assert torch.equal(AttributeJudge.load(tmp_path / "j")(x), judge(x))
    with pytest.raises(CheckpointError, match="not a judge folder"):
        AttributeJudge.load(tmp_path)
    (tmp_path / "j" / "config.json").write_text(json.dumps({"widths": [8, 32, 16]}))
    with pytest.raises(CheckpointError, match="does not fit"):
        AttributeJudge.load(tmp_path / "j")


def test_predict_resizes_other_sizes() -> None:
    judge = AttributeJudge(JudgeConfig(widths=(8, 16))).eval()
    assert judge.predict(torch.rand(2, 3, 128, 128)).shape == (2, 40)


def test_augment_flips_and_shifts_uint8_crops() -> None:
    x = torch.randint(0, 256, (1, 3, 64, 64), dtype=torch.uint8).repeat(64, 1, 1, 1)
    y = augment(x, shift=0)
    kept = [torch.equal(a, x[0]) for a in y]
    flipped = [torch.equal(a, x[0].flip(-1)) for a in y]
    assert all(k or f for k, f in zip(kept, flipped)) and any(kept) and any(flipped)
    dot = torch.zeros(8, 3, 64, 64, dtype=torch.uint8)
    dot[..., 30, 20] = 255
    moved = augment(dot, shift=4)
    assert moved.shape == dot.shape and moved.dtype == torch.uint8
    for img in moved:
        row, col = divmod(int(img[0].argmax()), 64)
        assert abs(row - 30) <= 4 and min(abs(col - 20), abs(col - 43)) <= 4


def test_shipped_judge_is_small_covers_all_attributes_and_judges_fixture_faces(celeba_tiny: Path,
                                                                              tmp_path: Path) -> None:
    assert (JUDGE / "model.safetensors").stat().st_size < 10 * 2**20
    judge = AttributeJudge.load(JUDGE)
    assert judge.attributes == CELEBA_ATTRIBUTES and judge.config.image_size == 64
    metrics = json.loads((JUDGE / "metrics.json").read_text())
    assert metrics["test"]["mean_accuracy"] >= 0.88
    # the 6 fixture faces outside the judge's training split (val and test)
    faces = [CelebA(celeba_tiny, s) for s in ("val", "test")]
    x = torch.cat([load_crops(c, 64, tmp_path, progress=False) for c in faces])
    y = torch.cat([c.labels(CELEBA_ATTRIBUTES) for c in faces]).bool()
    pred = judge.predict(to_model_input(x))
    acc = accuracy(pred, y)
    assert acc.mean() >= 0.85
    for name in ("Male", "Eyeglasses", "Smiling"):
        assert acc[CELEBA_ATTRIBUTES.index(name)] >= 5 / 6, name


@pytest.mark.slow
def test_training_command_writes_a_loadable_judge(celeba_tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "judge"
    r = subprocess.run([sys.executable, "-m", "evaluation.judge", "--data", str(celeba_tiny), "--out", str(out),
                        "--epochs", "2", "--batch-size", "2", "--cache-dir", str(tmp_path / "cache")],
                       cwd=REPO, capture_output=True, text=True, timeout=300,
                       env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["train_images"] == 6 and metrics["test"]["images"] == 4
    assert set(metrics["test"]["accuracy"]) == set(CELEBA_ATTRIBUTES)
    assert AttributeJudge.load(out).attributes == CELEBA_ATTRIBUTES
