"""Contact sheets of what users get: full-resolution photos beside the photos the editor returns.

Each tile is one face: the photo on the left, the returned photo on the right (both at the
photo's own size), and under them one caption line (what the judges read, dlib's distance).
Tiles fill rows of :data:`TILES_PER_ROW` under a title line.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

#: Tiles (faces) per row of a sheet.
TILES_PER_ROW = 4
#: Pixels between the photo and the returned photo, between tiles and around the sheet.
PAIR_GAP = 2
PAD = 8
#: Heights of the title line and of each tile's caption line.
TITLE_HEIGHT = 22
CAPTION_HEIGHT = 16
BACKGROUND = (255, 255, 255)
#: Caption colours: every check passed, some passed, none passed.
GOOD, MIXED, BAD = (0, 120, 0), (170, 110, 0), (190, 0, 0)


@dataclass
class Tile:
    """One face of a sheet: the photo, what came back (``None``: the editor found no face), the
    caption, and how many of the caption's checks passed out of how many."""

    photo: Image.Image
    returned: Image.Image | None
    caption: str
    passed: int
    checks: int


def tile_size(frame: tuple[int, int]) -> tuple[int, int]:
    """(width, height) of one tile for photos of size ``frame`` (width, height)."""
    w, h = frame
    return 2 * w + PAIR_GAP, h + CAPTION_HEIGHT


def sheet_size(count: int, frame: tuple[int, int]) -> tuple[int, int]:
    """(width, height) of a sheet of ``count`` tiles (at least one) for photos of size ``frame``."""
    cols, rows = min(count, TILES_PER_ROW), math.ceil(count / TILES_PER_ROW)
    tw, th = tile_size(frame)
    return cols * tw + (cols + 1) * PAD, TITLE_HEIGHT + rows * th + (rows + 1) * PAD


def tile_origin(index: int, frame: tuple[int, int]) -> tuple[int, int]:
    """Top-left pixel of tile ``index``'s photo in the sheet."""
    tw, th = tile_size(frame)
    row, col = divmod(index, TILES_PER_ROW)
    return PAD + col * (tw + PAD), TITLE_HEIGHT + PAD + row * (th + PAD)


def contact_sheet(tiles: list[Tile], title: str) -> Image.Image:
    """The sheet of ``tiles`` (all photos the same size) under ``title``."""
    if not tiles:
        raise ValueError("a contact sheet needs at least one face")
    frame = tiles[0].photo.size
    if any(t.photo.size != frame for t in tiles):
        raise ValueError(f"all photos of a sheet must be {frame}")
    sheet = Image.new("RGB", sheet_size(len(tiles), frame), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=12)
    draw.text((PAD, 4), title, fill=(0, 0, 0), font=ImageFont.load_default(size=14))
    for i, tile in enumerate(tiles):
        x, y = tile_origin(i, frame)
        sheet.paste(tile.photo.convert("RGB"), (x, y))
        if tile.returned is not None:
            sheet.paste(tile.returned.convert("RGB").resize(frame), (x + frame[0] + PAIR_GAP, y))
        colour = GOOD if tile.passed == tile.checks else BAD if tile.passed == 0 else MIXED
        draw.text((x + 2, y + frame[1] + 1), tile.caption, fill=colour, font=font)
    return sheet


def save_sheet(tiles: list[Tile], title: str, path: Path) -> Path:
    """Draw :func:`contact_sheet` and write it at ``path``: JPEG (quality 92, no chroma subsampling:
    a sheet is a megapixel or more, and an evaluation writes a dozen) or, by the suffix, PNG."""
    path.parent.mkdir(parents=True, exist_ok=True)
    contact_sheet(tiles, title).save(path, optimize=True, quality=92, subsampling=0)
    return path
