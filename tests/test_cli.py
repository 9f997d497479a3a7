"""``python -m model edit``: one PNG per photo at the input's size, one line per photo, failures reported."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "model", "edit", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.slow
def test_batch_edit_keeps_going_past_bad_files(tmp_path: Path, weights_dir: Path) -> None:
    bad = tmp_path / "notes.jpg"
    bad.write_text("not a photo")
    blank = tmp_path / "wall.png"
    Image.new("RGB", (320, 240), (200, 190, 180)).save(blank)
    out = tmp_path / "out"
    proc = run_cli(str(EXAMPLES / "portrait.jpg"), str(bad), str(blank), str(EXAMPLES / "sideways.jpg"),
                   "--out", str(out), "--set", "Smiling=1", "--set", "Eyeglasses=0", "--weights", str(weights_dir))
    assert proc.returncode == 1, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["portrait.png", "sideways.png"]
    assert Image.open(out / "portrait.png").size == Image.open(EXAMPLES / "portrait.jpg").size
    assert Image.open(out / "sideways.png").size == (600, 800)  # upright, as the EXIF tag says
    lines = proc.stdout.splitlines() + proc.stderr.splitlines()
    assert any("portrait.jpg" in line and "portrait.png" in line for line in lines)
    assert any("notes.jpg" in line and "not an image" in line for line in lines)
    assert any("wall.png" in line and "no face found" in line for line in lines)
    assert "2 of 4 photo(s) failed" in proc.stderr
    edited = np.asarray(Image.open(out / "portrait.png").convert("RGB"))
    assert (edited != np.asarray(Image.open(EXAMPLES / "portrait.jpg").convert("RGB"))).any()


@pytest.mark.slow
def test_bad_settings_stop_before_any_work(tmp_path: Path, weights_dir: Path) -> None:
    proc = run_cli(str(EXAMPLES / "portrait.jpg"), "--out", str(tmp_path), "--set", "Smile=1",
                   "--weights", str(weights_dir))
    assert proc.returncode == 2 and "unknown attribute 'Smile'" in proc.stderr
    proc = run_cli(str(EXAMPLES / "portrait.jpg"), "--out", str(tmp_path), "--set", "Smiling",
                   "--weights", str(weights_dir))
    assert proc.returncode == 2 and "ATTRIBUTE=VALUE" in proc.stderr
    proc = run_cli(str(EXAMPLES / "portrait.jpg"), "--out", str(tmp_path), "--weights", str(tmp_path / "none"))
    assert proc.returncode == 2 and "could not load checkpoint" in proc.stderr
    assert not list(tmp_path.glob("*.png"))


@pytest.mark.slow
def test_tune_fits_a_decoder_per_face_before_editing(tmp_path: Path, weights_dir: Path) -> None:
    common = [str(EXAMPLES / "portrait.jpg"), "--set", "Smiling=1", "--weights", str(weights_dir)]
    assert run_cli(*common, "--out", str(tmp_path / "plain")).returncode == 0
    proc = run_cli(*common, "--tune", "3", "--out", str(tmp_path / "tuned"))
    assert proc.returncode == 0, proc.stderr
    plain, tuned = (np.asarray(Image.open(tmp_path / d / "portrait.png")) for d in ("plain", "tuned"))
    assert plain.shape == tuned.shape and (plain != tuned).any()
    proc = run_cli(*common, "--tune", "-1", "--out", str(tmp_path / "bad"))
    assert proc.returncode == 2 and "steps must be >= 0" in proc.stderr and not (tmp_path / "bad").exists()
