"""Pack a CelebA folder's labels and training crops into one small file, to carry to another machine.

    python -m training.pack --data ../shared/celeba --out celeba64.npz --splits train val

The crops are cut and resized as everywhere else (``model/preprocessing.py``) and stored as WebP
(``--quality``, 90 by default; the README's Training section gives the sizes and fidelity measured).
With ``--region eyes`` (or ``mouth``) the crops are that region editor's box of the CelebA frame at the
frame's own resolution instead (``model.preprocessing.EDIT_REGIONS``), for ``training.train --region``.
``--data celeba64.npz`` then works wherever a CelebA folder does: training, evaluation, the judge.
The file holds plain arrays only (it loads without pickle).
"""
from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from model.preprocessing import EDIT_REGIONS
from training.celeba import PACK_SUFFIX, SPLITS, CelebA, load_crops


def encode(crop: np.ndarray, quality: int) -> bytes:
    """One ``3 x H x W`` uint8 crop -> WebP bytes."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(crop.transpose(1, 2, 0))).save(buf, "WEBP", quality=quality)
    return buf.getvalue()


def pack(data: str | Path, out: str | Path, size: int = 64, splits: tuple[str, ...] = tuple(SPLITS),
         quality: int = 90, cache_dir: str | Path | None = None, region: str | None = None) -> Path:
    """Write the pack of ``splits`` of the CelebA folder ``data`` to ``out`` (a ``.npz`` file): whole-face
    crops of ``size``, or with ``region`` (a name of ``EDIT_REGIONS``) crops of that box."""
    out = Path(out)
    if out.suffix != PACK_SUFFIX:
        raise ValueError(f"the pack's name must end in {PACK_SUFFIX}: {out}")
    box = None if region is None else EDIT_REGIONS[region]
    names, attributes, partition, identities, blobs = [], [], [], [], []
    for split in splits:
        celeba = CelebA(data, split)
        crops = load_crops(celeba, size, cache_dir, region=box).numpy()
        names += celeba.names
        attributes.append(celeba.attributes.numpy())
        partition += [SPLITS[split]] * len(celeba)
        identities += celeba.identities or []
        blobs += [encode(c, quality) for c in tqdm(crops, desc=f"pack {split}")]
    offsets = np.cumsum([0] + [len(b) for b in blobs], dtype=np.int64)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp.npz")
    np.savez(tmp, version=np.int64(1), size=np.int64(size), names=np.asarray(names, dtype=str),
             attributes=np.concatenate(attributes), partition=np.asarray(partition, dtype=np.int8),
             identities=np.asarray(identities, dtype=np.int64), offsets=offsets,
             blob=np.frombuffer(b"".join(blobs), dtype=np.uint8), region=np.asarray(box or (), dtype=np.int64))
    tmp.replace(out)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Pack a CelebA folder's labels and crops into one .npz file.")
    ap.add_argument("--data", required=True, help="CelebA folder (CelebA's own layout)")
    ap.add_argument("--out", required=True, help=f"the pack to write (ends in {PACK_SUFFIX})")
    ap.add_argument("--size", type=int, default=64, help="crop size in pixels (the model's image_size)")
    ap.add_argument("--splits", nargs="+", default=list(SPLITS), choices=list(SPLITS))
    ap.add_argument("--region", choices=sorted(EDIT_REGIONS), default=None,
                    help="pack a region editor's crops (its box at the frame's own resolution) instead")
    ap.add_argument("--quality", type=int, default=90, help="WebP quality")
    ap.add_argument("--cache-dir", default=None, help="where decoded crops are cached")
    args = ap.parse_args(argv)
    try:
        out = pack(args.data, args.out, args.size, tuple(args.splits), args.quality, args.cache_dir, args.region)
    except (OSError, ValueError) as e:
        raise SystemExit(f"error: {e}") from e
    n = {s: len(CelebA(out, s)) for s in args.splits}
    what = f"{args.size} px" if args.region is None else f"the {args.region} region {EDIT_REGIONS[args.region]}"
    print(f"wrote {out}: {out.stat().st_size / 2**20:.1f} MiB, {n} images of {what}")


if __name__ == "__main__":
    main()
