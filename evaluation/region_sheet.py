"""A sheet of what the region editors change, beside the whole-face editor, on the same photos.

    python -m evaluation.region_sheet --weights runs/compose --data ../shared/celeba --out docs/regions.jpg

``--weights`` is a checkpoint folder with region editors in its sub-folders (``eyes/``, ``mouth/``).
For each attribute they edit and each direction, the first ``--faces`` faces of the user-level
evaluation's seeded sample (the faces of its contact sheets) go through the real pipeline three ways,
and each row shows: the photo | the whole-face editor alone | with the region editors | with the
region editors tuned to the face ("Sharper likeness", ``--tune-steps``) | the region editor's mask
(white: the pixels it changes). Nothing is judged here: it is a picture to look at.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from evaluation.user_level import DIRECTIONS, choose_faces, load_frame
from model.pipeline import FaceEditor, NoFaceError
from model.preprocessing import CELEBA_FRAME
from model.tuning import DEFAULT_TUNE_STEPS
from training.celeba import CelebA

COLUMNS = ("photo", "whole face", "region editor", "region, tuned", "mask")
CAPTION, PAD = 16, 4


def mask_tile(result, size: tuple[int, int]) -> Image.Image:
    """The first region edit's mask, in a tile of ``size`` (black where there is none)."""
    tile = Image.new("RGB", size, "black")
    if result is not None and result.regions:
        mask = (result.regions[0].mask[0, 0].float().clamp(0, 1).numpy() * 255).astype(np.uint8)
        m = Image.fromarray(mask).convert("RGB")
        m = m.resize((size[0], round(size[0] * m.height / m.width)))
        tile.paste(m, (0, (size[1] - m.height) // 2))
    return tile


def rows_for(editor: FaceEditor, whole: FaceEditor, frame: Image.Image, attribute: str, target: float,
             tune_steps: int) -> list[Image.Image]:
    """The five tiles of one face."""
    try:
        analysis = editor.analyze(frame)  # one detection for both ways (the same whole-face model)
        plain = whole.edit(analysis, {attribute: target})
        regional = editor.edit(analysis, {attribute: target})
        tuned = editor.edit(editor.analyze(frame, tune_steps=tune_steps), {attribute: target})
    except NoFaceError:
        blank = Image.new("RGB", frame.size, "grey")
        return [frame, blank, blank, blank, blank]
    return [frame, *(Image.fromarray(r.image) for r in (plain, regional, tuned)), mask_tile(regional, frame.size)]


def sheet(rows: list[tuple[str, list[Image.Image]]]) -> Image.Image:
    w, h = CELEBA_FRAME
    out = Image.new("RGB", (PAD + len(COLUMNS) * (w + PAD), CAPTION + len(rows) * (h + CAPTION + PAD) + PAD), "white")
    draw = ImageDraw.Draw(out)
    font = ImageFont.load_default(size=12)
    for c, name in enumerate(COLUMNS):
        draw.text((PAD + c * (w + PAD), 2), name, fill="black", font=font)
    for r, (label, tiles) in enumerate(rows):
        y = CAPTION + r * (h + CAPTION + PAD)
        draw.text((PAD, y), label, fill="black", font=font)
        for c, tile in enumerate(tiles):
            out.paste(tile.convert("RGB").resize((w, h)), (PAD + c * (w + PAD), y + CAPTION))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Region editors beside the whole-face editor, on the same photos.")
    ap.add_argument("--weights", required=True, help="checkpoint folder with region editors in sub-folders")
    ap.add_argument("--data", required=True, help="CelebA folder")
    ap.add_argument("--split", default="test", choices=["train", "val", "test"])
    ap.add_argument("--out", required=True, type=Path, help="the sheet to write (.jpg or .png)")
    ap.add_argument("--faces", type=int, default=4, help="faces per attribute and direction")
    ap.add_argument("--tune-steps", type=int, default=DEFAULT_TUNE_STEPS)
    ap.add_argument("--seed", type=int, default=0, help="the user-level sample's seed")
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        editor = FaceEditor.load(args.weights)
        whole = FaceEditor(editor.model, editor.detector)
        celeba = CelebA(args.data, args.split)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if not editor.owner:
        print(f"error: {args.weights} has no region editor for the editor's attributes", file=sys.stderr)
        return 1
    attributes = [a for a in editor.attributes if a in editor.owner]
    cells = choose_faces(celeba.labels(editor.attributes), editor.attributes, args.faces, args.seed)
    rows = []
    for attribute in attributes:
        for direction, target in DIRECTIONS.items():
            for index in cells[attribute, direction]:
                tiles = rows_for(editor, whole, load_frame(celeba, index), attribute, float(target), args.tune_steps)
                rows.append((f"{attribute} {'on' if target else 'off'}: {celeba.names[index]}", tiles))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet(rows).save(args.out, quality=85)
    print(f"wrote {args.out}: {len(rows)} faces")
    return 0


if __name__ == "__main__":
    sys.exit(main())
