"""CelebA in its own folder layout, as a dataset of training crops with a decoded-image cache.

Works on the full CelebA download and on any subset of it (such as ``../shared/celeba``)::

    img_align_celeba/000001.jpg ...
    list_attr_celeba.txt        count, 40 names, then ``name v1 .. v40`` with 1 / -1
    list_eval_partition.txt     ``name split`` (0 train, 1 val, 2 test)
    identity_CelebA.txt         optional, ``name identity``

or a pack of it (``python -m training.pack``): one ``.npz`` file with the labels and the training
crops already cut and resized, WebP-compressed, small enough to carry to another machine.
"""
from __future__ import annotations

import hashlib
import io
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from model.config import CELEBA_ATTRIBUTES
from model.preprocessing import CROP_BOX, crop_and_resize, crop_region

SPLITS = {"train": 0, "val": 1, "test": 2}
#: File suffix of a pack (``training/pack.py``): a CelebA folder's labels and crops in one ``.npz``.
PACK_SUFFIX = ".npz"


class CelebA:
    """Index of one split of a CelebA folder: file names, 40 binary attributes, identities."""

    def __init__(self, root: str | Path, split: str = "train") -> None:
        self.root = Path(root)
        if split not in SPLITS and split != "all":
            raise ValueError(f"split must be one of {[*SPLITS, 'all']}, got {split!r}")
        self.split = split
        #: for a pack: its crop size, the region box its crops are of (None: whole-face crops) and, per
        #: image of this split, the compressed crop
        self.pack_size: int | None = None
        self.pack_region: tuple[int, ...] | None = None
        self.pack_images: list[bytes] = []
        if self.root.suffix == PACK_SUFFIX and self.root.is_file():
            self._read_pack()
            return
        for f in ("list_attr_celeba.txt", "list_eval_partition.txt", "img_align_celeba"):
            if not (self.root / f).exists():
                raise FileNotFoundError(f"{self.root / f} not found: is {self.root} a CelebA folder?")
        names, attrs = _read_attributes(self.root / "list_attr_celeba.txt")
        part = _read_pairs(self.root / "list_eval_partition.txt")
        keep = [i for i, n in enumerate(names) if split == "all" or part.get(n) == str(SPLITS[split])]
        self.names: list[str] = [names[i] for i in keep]
        self.attributes = torch.from_numpy(attrs[keep])  # N x 40, {0, 1} uint8
        ids_file = self.root / "identity_CelebA.txt"
        ids = _read_pairs(ids_file) if ids_file.exists() else {}
        self.identities: list[int] | None = [int(ids[n]) for n in self.names] if ids else None

    def _read_pack(self) -> None:
        """Index this split of a pack (no pickle: plain arrays only)."""
        try:
            with np.load(self.root, allow_pickle=False) as z:
                pack = {k: z[k] for k in z.files}
            if int(pack["version"]) != 1:
                raise ValueError(f"unknown pack version {int(pack['version'])}")
            part = pack["partition"]
            keep = np.arange(len(part)) if self.split == "all" else np.flatnonzero(part == SPLITS[self.split])
            offsets, blob = pack["offsets"], pack["blob"]
            self.names = [str(pack["names"][i]) for i in keep]
            self.attributes = torch.from_numpy(pack["attributes"][keep].astype(np.uint8))
            ids = pack["identities"]
            self.identities = [int(ids[i]) for i in keep] if len(ids) else None
            self.pack_size = int(pack["size"])
            region = pack.get("region", np.zeros(0, np.int64))  # packs without the key hold whole faces
            self.pack_region = tuple(int(v) for v in region) if len(region) else None
            self.pack_images = [blob[offsets[i]:offsets[i + 1]].tobytes() for i in keep]
        except (KeyError, ValueError, OSError) as e:
            raise ValueError(f"{self.root} is not a CelebA pack (python -m training.pack): {e}") from e

    def __len__(self) -> int:
        return len(self.names)

    def image_path(self, name: str) -> Path:
        if self.pack_size is not None:
            raise ValueError(f"{self.root} is a pack of {self.pack_size} px crops: the original images need the CelebA folder")
        return self.root / "img_align_celeba" / name

    def labels(self, attributes: tuple[str, ...]) -> torch.Tensor:
        """``N x len(attributes)`` float labels in {0, 1}."""
        idx = [CELEBA_ATTRIBUTES.index(a) for a in attributes]
        return self.attributes[:, idx].float()


def _read_attributes(path: Path) -> tuple[list[str], np.ndarray]:
    lines = path.read_text().splitlines()
    header = lines[1].split()
    if tuple(header) != CELEBA_ATTRIBUTES:
        raise ValueError(f"{path}: unexpected attribute names {header[:3]}...")
    names, rows = [], []
    for line in lines[2:]:
        parts = line.split()
        if len(parts) == 41:
            names.append(parts[0])
            rows.append([p == "1" for p in parts[1:]])
    return names, np.asarray(rows, dtype=np.uint8).reshape(-1, 40)


def _read_pairs(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            out[parts[0]] = parts[1]
    return out


def load_crops(celeba: CelebA, size: int, cache_dir: str | Path | None = None, workers: int = 4,
               progress: bool = True, region: tuple[int, int, int, int] | None = None) -> torch.Tensor:
    """All images of ``celeba`` as ``N x 3 x size x size`` uint8 training crops, or with ``region``
    (a box of the CelebA frame) as ``N x 3 x H x W`` crops of that box at the frame's own resolution.

    Decoded once and kept as a ``.npy`` file in ``cache_dir`` (default: ``~/.cache/ifcvae``, see :func:`_default_cache`), keyed by the file list, crop and size, so later epochs and runs
    never decode the JPEGs again. A pack's crops are decoded directly (no cache) and must be the crops
    asked for (``size``, or ``region``: ``python -m training.pack --region``).
    """
    box = CROP_BOX if region is None else tuple(region)
    shape = (size, size) if region is None else (box[3] - box[1], box[2] - box[0])
    if celeba.pack_size is not None:
        if celeba.pack_region != (None if region is None else box):
            held = "whole-face crops" if celeba.pack_region is None else f"crops of the region {celeba.pack_region}"
            want = "whole-face crops" if region is None else f"crops of the region {box}"
            raise ValueError(f"{celeba.root} holds {held}, not {want}: pack it again (python -m training.pack, "
                             "--region for a region editor)")
        if region is None and celeba.pack_size != size:
            raise ValueError(f"{celeba.root} holds {celeba.pack_size} px crops, not {size} px: pack it again "
                             f"with --size {size}")
        crops = np.empty((len(celeba), 3, *shape), dtype=np.uint8)
        for i, data in enumerate(tqdm(celeba.pack_images, desc=f"unpack {celeba.split}", disable=not progress)):
            crops[i] = _decode(data)
        return torch.from_numpy(crops)
    label = f"{size}px" if region is None else f"{shape[0]}x{shape[1]}px"
    key = hashlib.sha1(f"{celeba.names}|{box}|{size if region is None else label}".encode()).hexdigest()[:16]
    cache = Path(cache_dir) if cache_dir else _default_cache()
    file = cache / f"celeba_{celeba.split}_{label}_{key}.npy"
    if file.exists():
        arr = np.load(file)
        if arr.shape == (len(celeba), 3, *shape):
            return torch.from_numpy(arr)

    def one(name: str) -> np.ndarray:
        with Image.open(celeba.image_path(name)) as im:
            rgb = im.convert("RGB")
            return (crop_and_resize(rgb, size) if region is None else crop_region(rgb, box)).numpy()

    out = np.empty((len(celeba), 3, *shape), dtype=np.uint8)
    with ThreadPoolExecutor(workers) as pool:
        it = pool.map(one, celeba.names)
        for i, img in enumerate(tqdm(it, total=len(celeba), desc=f"decode {celeba.split}",
                                     disable=not progress)):
            out[i] = img
    try:
        cache.mkdir(parents=True, exist_ok=True)
        tmp = file.with_suffix(".tmp.npy")
        np.save(tmp, out)
        tmp.replace(file)
    except OSError:
        pass  # a read-only place: just do without the cache
    return torch.from_numpy(out)


def _decode(data: bytes) -> np.ndarray:
    """One compressed crop -> ``3 x H x W`` uint8."""
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB")).transpose(2, 0, 1).copy()


def _default_cache() -> Path:
    """``$IFCVAE_CACHE``, else ``$XDG_CACHE_HOME/ifcvae``, else ``~/.cache/ifcvae`` (never the data folder)."""
    if os.environ.get("IFCVAE_CACHE"):
        return Path(os.environ["IFCVAE_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ifcvae"
