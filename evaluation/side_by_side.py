"""The same photos edited by several checkpoints, side by side: photo | checkpoint 1 | checkpoint 2 ...

Each photo goes through the full pipeline (detection, alignment, edit, default paste) of each
checkpoint with the same change, as ``python -m model edit PHOTO --set A=V`` would return it::

    python -m evaluation.side_by_side --data ../shared/celeba --weights weights runs/v3/last \\
        --names shipped v3 --set Eyeglasses=1 --images 190356.jpg 186388.jpg --out sheet.jpg

writes one JPEG: a title line, then one row per photo (the photo, then each checkpoint's result,
all at the photo's own size, with the checkpoint's name above each column).
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from model.__main__ import parse_setting
from model.pipeline import FaceEditor, NoFaceError

PAD = 6
HEADER = 20
BACKGROUND = (255, 255, 255)


def edited_photos(editor: FaceEditor, photos: Sequence[Image.Image], changes: Mapping[str, float]) -> list[Image.Image | None]:
    """Each photo as the editor returns it with ``changes`` on every face (None: no face found)."""
    out: list[Image.Image | None] = []
    for photo in photos:
        try:
            out.append(Image.fromarray(editor.edit(editor.analyze(photo), changes).image))
        except NoFaceError:
            out.append(None)
    return out


def side_by_side(photos: Sequence[Image.Image], columns: Mapping[str, Sequence[Image.Image | None]],
                 title: str) -> Image.Image:
    """One row per photo: the photo, then each named column's image (grey where there is none)."""
    w, h = photos[0].size
    names = ["photo", *columns]
    sheet = Image.new("RGB", (len(names) * (w + PAD) + PAD, HEADER * 2 + len(photos) * (h + PAD) + PAD), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    draw.text((PAD, 2), title, fill=(0, 0, 0), font=ImageFont.load_default(size=14))
    font = ImageFont.load_default(size=12)
    for c, name in enumerate(names):
        draw.text((PAD + c * (w + PAD), HEADER + 2), name, fill=(0, 0, 0), font=font)
    for r, photo in enumerate(photos):
        y = 2 * HEADER + r * (h + PAD)
        for c, image in enumerate([photo, *(col[r] for col in columns.values())]):
            tile = image.convert("RGB").resize((w, h)) if image is not None else Image.new("RGB", (w, h), (200, 200, 200))
            sheet.paste(tile, (PAD + c * (w + PAD), y))
    return sheet


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Edit the same photos with several checkpoints, side by side.")
    ap.add_argument("--data", required=True, help="CelebA folder (the photos are read from img_align_celeba/)")
    ap.add_argument("--images", nargs="+", required=True, help="image file names in the CelebA folder")
    ap.add_argument("--weights", nargs="+", required=True, help="checkpoint folders, one column each")
    ap.add_argument("--names", nargs="+", default=None, help="column names (default: the folders)")
    ap.add_argument("--set", nargs="+", required=True, metavar="ATTRIBUTE=VALUE", help="the change, e.g. Smiling=1")
    ap.add_argument("--out", type=Path, required=True, help="the sheet (.jpg or .png)")
    args = ap.parse_args(argv)
    names = args.names or args.weights
    if len(names) != len(args.weights):
        print("--names needs one name per --weights folder", file=sys.stderr)
        return 2
    try:
        changes = dict(parse_setting(item) for item in args.set)
        photos = [Image.open(Path(args.data) / "img_align_celeba" / name).convert("RGB") for name in args.images]
        columns = {name: edited_photos(FaceEditor.load(w), photos, changes) for name, w in zip(names, args.weights)}
    except (OSError, ValueError, argparse.ArgumentTypeError) as e:
        print(f"side_by_side: {e}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    title = "default paste, " + ", ".join(f"{k}={v:g}" for k, v in changes.items())
    side_by_side(photos, columns, title).save(args.out, quality=92, subsampling=0)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
