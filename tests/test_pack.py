"""The CelebA pack: one .npz of labels and compressed crops that stands in for the CelebA folder."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from model import IFcVAEGAN
from tests.conftest import REPO
from training.celeba import CelebA, load_crops
from training.pack import pack
from training.train import main as train_main


@pytest.fixture()
def packed(celeba_tiny: Path, tmp_path: Path) -> Path:
    return pack(celeba_tiny, tmp_path / "tiny64.npz", size=64, cache_dir=tmp_path / "cache")


def test_pack_holds_the_same_labels_and_nearly_the_same_crops(celeba_tiny: Path, packed: Path,
                                                             tmp_path: Path) -> None:
    for split in ("train", "val", "test", "all"):
        folder, pk = CelebA(celeba_tiny, split), CelebA(packed, split)
        assert pk.names == folder.names and pk.identities == folder.identities
        assert torch.equal(pk.attributes, folder.attributes)
        a = load_crops(folder, 64, tmp_path / "cache", progress=False).float()
        b = load_crops(pk, 64, progress=False).float()
        assert a.shape == b.shape == (len(folder), 3, 64, 64)
        psnr = 10 * torch.log10(255.0 ** 2 / (a - b).pow(2).mean())
        assert psnr > 30  # WebP at quality 90: close to the crops, not bit-exact
    assert packed.stat().st_size < 12 * 4 * 1024  # about 1.5 kB a face (12 faces)


def test_pack_refuses_other_sizes_and_has_no_originals(packed: Path) -> None:
    val = CelebA(packed, "val")
    with pytest.raises(ValueError, match="--size 32"):
        load_crops(val, 32, progress=False)
    with pytest.raises(ValueError, match="CelebA folder"):
        val.image_path(val.names[0])


def test_not_a_pack(tmp_path: Path) -> None:
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="not a CelebA pack"):
        CelebA(tmp_path / "other.npz", "train")
    r = subprocess.run([sys.executable, "-m", "training.pack", "--data", str(tmp_path), "--out",
                        str(tmp_path / "x.npz")], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "CelebA folder" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.slow
def test_training_runs_on_a_pack(packed: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    train_main(["--data", str(packed), "--out", str(out), "--max-steps", "4", "--widths", "8", "16", "16", "32",
                "--z-dim", "8", "--batch-size", "2", "--no-progress", "--threads", "1"])
    assert IFcVAEGAN.load(out / "last").config.widths == (8, 16, 16, 32)
    assert "acc_Smiling" in (out / "val.csv").read_text()


def test_a_region_pack_holds_that_region_and_nothing_else(celeba_tiny: Path, packed: Path, tmp_path: Path) -> None:
    from model.preprocessing import EDIT_REGIONS

    box = EDIT_REGIONS["mouth"]
    mouths = pack(celeba_tiny, tmp_path / "mouth.npz", cache_dir=tmp_path / "cache", region="mouth")
    folder, pk = CelebA(celeba_tiny, "train"), CelebA(mouths, "train")
    assert pk.pack_region == box and pk.names == folder.names
    a = load_crops(folder, 64, tmp_path / "cache", progress=False, region=box).float()
    b = load_crops(pk, 64, progress=False, region=box).float()
    assert a.shape == b.shape == (len(folder), 3, 64, 96)
    assert 10 * torch.log10(255.0 ** 2 / (a - b).pow(2).mean()) > 30
    with pytest.raises(ValueError, match="not whole-face crops"):
        load_crops(pk, 64, progress=False)
    with pytest.raises(ValueError, match="--region"):
        load_crops(pk, 64, progress=False, region=EDIT_REGIONS["eyes"])
    with pytest.raises(ValueError, match="holds whole-face crops"):
        load_crops(CelebA(packed, "train"), 64, progress=False, region=box)


@pytest.mark.slow
def test_a_region_editor_trains_on_a_region_pack(celeba_tiny: Path, tmp_path: Path) -> None:
    mouths = pack(celeba_tiny, tmp_path / "mouth.npz", cache_dir=tmp_path / "cache", region="mouth")
    out = tmp_path / "run"
    train_main(["--data", str(mouths), "--out", str(out), "--max-steps", "2", "--region", "mouth", "--masked-edit",
                "--attributes", "Smiling", "--weight", "mask=10", "--widths", "8", "16", "16", "32", "--z-dim", "8",
                "--batch-size", "2", "--no-progress", "--threads", "1"])
    assert IFcVAEGAN.load(out / "last").config.image_shape == (64, 96)
