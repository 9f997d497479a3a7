"""The two measurement sweeps (paste blend settings, tuning steps) on the fixture's test faces."""
import argparse
import json
import math
from pathlib import Path

import pytest
import torch

from evaluation import paste_sweep, tuning_sweep
from evaluation.metrics import psnr
from model import IFcVAEGAN
from model.paste import Blend
from model.preprocessing import to_model_input
from tests.conftest import REPO
from training.celeba import CelebA, load_crops


def test_paste_settings_are_parsed_or_refused() -> None:
    assert paste_sweep.parse_settings("inf:1,0.1:2,0.2:1:0.05") == [Blend(0.0, math.inf, 1.0, None, None),
                                                                     Blend(0.0, 0.1, 2.0, None, None),
                                                                     Blend(0.05, 0.2, 1.0, None, None)]
    for bad in ("0.1", "a:1", "0.1:1:2:3", "", "0.25:1:0.05:0.1:0.02"):
        with pytest.raises(argparse.ArgumentTypeError, match="full_at:blur"):
            paste_sweep.parse_settings(bad)


@pytest.mark.slow
def test_paste_sweep_rows_cover_every_setting_attribute_and_direction(celeba_tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "sweep.json"
    rows = paste_sweep.main(["--weights", str(REPO / "weights"), "--judge", str(REPO / "judge"),
                             "--data", str(celeba_tiny), "--split", "test", "--limit", "4", "--identity-limit", "2",
                             "--settings", "inf:1,0:0", "--threads", "1", "--cache-dir", str(tmp_path / "cache"),
                             "--out", str(out)])
    attributes = IFcVAEGAN.load(REPO / "weights").attributes
    settings = [("decoded", None, None), (math.inf, 1.0, 0.0), (0.0, 0.0, 0.0)]
    assert {(r["full_at"], r["blur"], r["start"]) for r in rows} == set(settings)
    assert len(rows) == len(settings) * len(attributes) * 2
    for s in settings:
        for a in attributes:
            cells = [r for r in rows if (r["full_at"], r["blur"], r["start"]) == s and r["attribute"] == a]
            assert sum(r["images"] for r in cells) == 4  # each face edited once, against its label
            assert sum(r["identity_images"] for r in cells) <= 2
    assert all(r["success"] is None or 0 <= r["success"] <= 1 for r in rows)
    assert json.loads(out.read_text())["rows"][0].keys() == rows[0].keys()


@pytest.mark.slow
def test_tuning_sweep_measures_the_shared_decoder_at_zero_steps(celeba_tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "tuning.json"
    rows = tuning_sweep.main(["--weights", str(REPO / "weights"), "--judge", str(REPO / "judge"),
                              "--data", str(celeba_tiny), "--split", "test", "--n", "2", "--steps", "0", "3",
                              "--threads", "1", "--cache-dir", str(tmp_path / "cache"), "--out", str(out)])
    assert set(rows) == {0, 3}
    assert all(len(values) == 2 for r in rows.values() for values in r.values())
    model = IFcVAEGAN.load(REPO / "weights").eval()
    x = to_model_input(load_crops(CelebA(celeba_tiny, "test"), model.config.image_size, tmp_path / "cache")[:2])
    with torch.no_grad():
        mu, _, logits = model.encode(x)
        shared = psnr(x, model.decode(mu, torch.sigmoid(logits)))
    assert rows[0]["psnr"] == pytest.approx(shared.tolist(), abs=1e-3)
    for key in ("rec_same", "edit_same", "edit_success", "paste_same", "paste_success"):
        assert all(0 <= v <= 1 for r in rows.values() for v in r[key])
    assert set(json.loads(out.read_text())["per_face"]) == {"0", "3"}
