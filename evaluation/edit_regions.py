"""Where a judge sees an edit: inside the attribute's own region of the face, or around it.

    python -m evaluation.edit_regions --weights weights --data ../shared/celeba --split test --faces 300

For each attribute with a region on the aligned crop (``model.paste.ATTRIBUTE_REGIONS``: the mouth
with the cheeks a smile lifts, the eye band, the forehead, the chin), the decoded edit of faces
labelled without the attribute is split in two: the edit kept only inside the region (the
reconstruction elsewhere), and the edit kept only outside it. ``judge/`` reads the reconstruction,
the edit and both halves; the region is also shrunk (``--scales``: 0.6 keeps about the lips of a
smile). An edit that the judge reads from outside the region only is one that a person, who looks
at the lips or the frames, may not see.
"""
from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from evaluation.judge import AttributeJudge
from evaluation.report import pct
from model import IFcVAEGAN
from model.paste import ATTRIBUTE_REGIONS, REGION_CORE, ellipse_mask
from model.preprocessing import to_model_input
from training.celeba import CelebA, load_crops

BATCH = 100


def region_mask(size: int, attribute: str, scale: float) -> torch.Tensor:
    """``size x size`` feathered mask of ``attribute``'s region with its semi-axes times ``scale``."""
    centre, (ax, ay) = ATTRIBUTE_REGIONS[attribute]
    return torch.from_numpy(ellipse_mask(size, centre, (ax * scale, ay * scale), REGION_CORE).copy())


@torch.inference_mode()
def split_edits(model: IFcVAEGAN, judge: AttributeJudge, images: torch.Tensor, attribute: str,
                scales: tuple[float, ...]) -> dict[str, float]:
    """Share of ``images`` (``N x 3 x S x S`` in [0, 1]) that ``judge`` reads as showing ``attribute`` on
    the reconstruction, on the edit that sets it, and on each half of the edit per region scale."""
    column = judge.attributes.index(attribute)
    reads: dict[str, list[torch.Tensor]] = {}

    def add(name: str, batch: torch.Tensor) -> None:
        reads.setdefault(name, []).append(judge.predict(batch)[:, column])

    for batch in images.split(BATCH):
        rec, edit = model.reconstruct(batch), model.edit(batch, {attribute: 1.0})
        add("reconstruction", rec)
        add("edit", edit)
        for scale in scales:
            mask = region_mask(batch.shape[-1], attribute, scale)
            add(f"inside x{scale:g}", rec * (1 - mask) + edit * mask)
            add(f"outside x{scale:g}", edit * (1 - mask) + rec * mask)
    return {name: torch.cat(v).float().mean().item() for name, v in reads.items()}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="Where judge/ sees each edit: inside its region or around it.")
    ap.add_argument("--weights", default="weights")
    ap.add_argument("--data", required=True, help="CelebA folder")
    ap.add_argument("--split", default="test", choices=["train", "val", "test", "all"])
    ap.add_argument("--faces", type=int, default=300, help="faces without the attribute, per attribute")
    ap.add_argument("--scales", type=float, nargs="+", default=[1.0, 0.6], help="region sizes (1: the paste's)")
    ap.add_argument("--judge", default="judge")
    ap.add_argument("--cache-dir", default=None)
    ap.add_argument("--threads", type=int, default=0)
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        model, judge = IFcVAEGAN.load(args.weights).eval(), AttributeJudge.load(args.judge).eval()
        celeba = CelebA(args.data, args.split)
        crops = load_crops(celeba, model.config.image_size, args.cache_dir, progress=False)
    except (OSError, ValueError) as e:  # CheckpointError, missing folders
        raise SystemExit(f"error: {e}") from e
    labels = celeba.labels(model.attributes)
    attributes = [a for a in model.attributes if a in ATTRIBUTE_REGIONS and a in judge.attributes]
    results = {}
    for attribute in tqdm(attributes, desc="attributes"):
        chosen = np.flatnonzero(labels[:, model.attributes.index(attribute)].numpy() == 0)[: args.faces]
        results[attribute] = split_edits(model, judge, to_model_input(crops[torch.from_numpy(chosen)]), attribute,
                                         tuple(args.scales))
        results[attribute]["n"] = len(chosen)
    columns = ["reconstruction", "edit", *(f"{side} x{s:g}" for s in args.scales for side in ("inside", "outside"))]
    print(f"judge/ reads the attribute on decoded crops of `{args.weights}` ({args.split} split, faces without it):\n")
    print("| attribute | n | " + " | ".join(columns) + " |")
    print("|" + " --- |" * (len(columns) + 2))
    for attribute, r in results.items():
        print(f"| {attribute} | {r['n']} | " + " | ".join(pct(r[c]) for c in columns) + " |")
    return results


if __name__ == "__main__":
    main()
