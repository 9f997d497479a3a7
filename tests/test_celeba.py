"""The CelebA reader on a tiny folder in CelebA's own layout."""
from pathlib import Path

import pytest
import torch
from PIL import Image

from model.config import CELEBA_ATTRIBUTES
from model.preprocessing import CELEBA_FRAME, crop_and_resize
from training.celeba import CelebA, load_crops


def test_splits_and_labels(celeba_tiny: Path) -> None:
    sizes = {s: len(CelebA(celeba_tiny, s)) for s in ("train", "val", "test", "all")}
    assert sizes == {"train": 6, "val": 2, "test": 4, "all": 12}
    train = CelebA(celeba_tiny, "train")
    assert train.names[0] == "000001.jpg"
    assert train.attributes.shape == (6, 40)
    # 000001.jpg is smiling without eyeglasses in CelebA's labels
    y = train.labels(("Smiling", "Eyeglasses"))
    assert y[0].tolist() == [1.0, 0.0]
    assert y.dtype == torch.float32
    assert train.identities is not None and len(train.identities) == 6
    row = (celeba_tiny / "list_attr_celeba.txt").read_text().splitlines()[2].split()
    assert train.attributes[0].tolist() == [int(v == "1") for v in row[1:]]
    assert len(CELEBA_ATTRIBUTES) == 40


def test_identity_file_is_optional(celeba_tiny: Path, tmp_path: Path) -> None:
    for f in ("list_attr_celeba.txt", "list_eval_partition.txt"):
        (tmp_path / f).write_text((celeba_tiny / f).read_text())
    (tmp_path / "img_align_celeba").symlink_to(celeba_tiny / "img_align_celeba")
    assert CelebA(tmp_path, "test").identities is None


def test_not_a_celeba_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="CelebA folder"):
        CelebA(tmp_path, "train")
    with pytest.raises(ValueError, match="split"):
        CelebA(tmp_path, "training")


def test_crops_are_cached_and_match_preprocessing(celeba_tiny: Path, tmp_path: Path) -> None:
    val = CelebA(celeba_tiny, "val")
    crops = load_crops(val, 64, cache_dir=tmp_path, progress=False)
    assert crops.shape == (2, 3, 64, 64) and crops.dtype == torch.uint8
    img = Image.open(val.image_path(val.names[1]))
    assert img.size == CELEBA_FRAME
    assert torch.equal(crops[1], crop_and_resize(img, 64))
    cached = list(tmp_path.glob("*.npy"))
    assert len(cached) == 1
    # a second call reads the cache, not the JPEGs
    (tmp_path / "img_align_celeba").mkdir()
    assert torch.equal(load_crops(val, 64, cache_dir=tmp_path, progress=False), crops)
