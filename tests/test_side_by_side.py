"""The side-by-side sheet: the same photos through each checkpoint's full pipeline."""
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from evaluation.side_by_side import HEADER, PAD, side_by_side
from tests.conftest import REPO


def test_rows_hold_the_photo_then_each_checkpoints_result() -> None:
    photos = [Image.new("RGB", (20, 30), (i * 40, 0, 0)) for i in range(3)]
    columns = {"a": [Image.new("RGB", (20, 30), (0, 255, 0))] * 3, "b": [None, *[Image.new("RGB", (20, 30), (0, 0, 255))] * 2]}
    sheet = np.asarray(side_by_side(photos, columns, "title"))
    assert sheet.shape == (2 * HEADER + 3 * (30 + PAD) + PAD, 3 * (20 + PAD) + PAD, 3)
    y = 2 * HEADER + (30 + PAD) + 5  # second row
    assert tuple(sheet[y, PAD + 5]) == (40, 0, 0)
    assert tuple(sheet[y, PAD + (20 + PAD) + 5]) == (0, 255, 0)
    assert tuple(sheet[2 * HEADER + 5, PAD + 2 * (20 + PAD) + 5]) == (200, 200, 200)  # no face: grey


def test_command_edits_real_faces_with_the_shipped_weights(celeba_tiny: Path, tmp_path: Path) -> None:
    names = sorted(p.name for p in (celeba_tiny / "img_align_celeba").iterdir())[:2]
    out = tmp_path / "sheet.jpg"
    r = subprocess.run([sys.executable, "-m", "evaluation.side_by_side", "--data", str(celeba_tiny), "--images", *names,
                        "--weights", "weights", "--names", "shipped", "--set", "Smiling=1", "--out", str(out)],
                       cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    sheet = np.asarray(Image.open(out).convert("RGB")).astype(int)
    w, h = 178, 218
    y0 = 2 * HEADER
    photo = sheet[y0:y0 + h, PAD:PAD + w]
    edited = sheet[y0:y0 + h, 2 * PAD + w:2 * PAD + 2 * w]
    assert np.abs(photo - edited).mean() > 1  # the edit changed the face
    assert np.abs(photo[:10] - edited[:10]).mean() < 3  # the top of the frame (outside the face) stays
    r = subprocess.run([sys.executable, "-m", "evaluation.side_by_side", "--data", str(celeba_tiny), "--images", names[0],
                        "--weights", "weights", "--set", "Smiling", "--out", str(out)],
                       cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 1 and "ATTRIBUTE=VALUE" in r.stderr
