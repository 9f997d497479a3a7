"""Hostile and odd uploads, generated (never downloaded) from the example photos and the CelebA fixtures.

Each :class:`Case` says what a sensible answer is: the photo edited, a refusal whose message matches
``refusal``, or either (a face cut by the border may or may not be found).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from model.limits import MAX_FACES, MAX_FILE_BYTES

REPO = Path(__file__).resolve().parent.parent
PORTRAIT = REPO / "examples" / "portrait.jpg"
FACES = REPO / "tests" / "fixtures" / "celeba_tiny" / "img_align_celeba"
EXIF_ORIENTATION = 0x0112
NOT_AN_IMAGE = "not an image"
NO_FACE = "no face found"


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    edited: bool  # an edit is a sensible answer
    refusal: str | None  # a refusal with a message matching this regex is a sensible answer
    faces: int = 1  # faces an edit should report


def edited(name: str, path: Path, faces: int = 1) -> Case:
    return Case(name, path, True, None, faces)


def refused(name: str, path: Path, message: str) -> Case:
    return Case(name, path, False, message)


def either(name: str, path: Path, message: str) -> Case:
    return Case(name, path, True, message)


def crowd(n: int, columns: int, cell: tuple[int, int]) -> Image.Image:
    """``n`` CelebA fixture faces, shrunk, in a grid on a grey wall."""
    names = sorted(FACES.glob("*.jpg"))
    rows = math.ceil(n / columns)
    canvas = Image.new("RGB", (columns * cell[0], rows * cell[1]), (128, 120, 110))
    for i in range(n):
        face = Image.open(names[i % len(names)]).convert("RGB").resize(cell, Image.Resampling.LANCZOS)
        canvas.paste(face, ((i % columns) * cell[0], (i // columns) * cell[1]))
    return canvas


def build(folder: Path) -> list[Case]:
    """Write the corpus into ``folder``; returns its cases."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    portrait = Image.open(PORTRAIT).convert("RGB")
    jpeg = PORTRAIT.read_bytes()
    cases: list[Case] = []

    def path(name: str) -> Path:
        return folder / name

    path("empty.jpg").write_bytes(b"")
    cases.append(refused("zero bytes", path("empty.jpg"), "the file is empty"))
    path("random.jpg").write_bytes(rng.bytes(50_000))
    cases.append(refused("random bytes named .jpg", path("random.jpg"), NOT_AN_IMAGE))
    path("truncated.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    cases.append(refused("truncated JPEG", path("truncated.jpg"), "damaged or truncated"))
    path("huge_file.jpg").write_bytes(jpeg + rng.bytes(MAX_FILE_BYTES + 1 - len(jpeg)))
    cases.append(refused("file over the upload limit", path("huge_file.jpg"), "exceeds the maximum file size"))
    Image.new("RGB", (1, 1), (200, 150, 120)).save(path("one_pixel.png"))
    cases.append(refused("1 x 1 image", path("one_pixel.png"), NO_FACE))
    Image.new("1", (20_000, 20_000)).save(path("bomb.png"))  # 400 megapixels in ~50 kB
    cases.append(refused("20,000 x 20,000 PNG (decompression bomb)", path("bomb.png"), "too large"))

    frames = [portrait, portrait.transpose(Image.Transpose.FLIP_LEFT_RIGHT), portrait.convert("L").convert("RGB")]
    frames[0].save(path("animated.gif"), save_all=True, append_images=frames[1:], duration=200, loop=0)
    cases.append(edited("animated GIF (first frame)", path("animated.gif")))
    portrait.convert("CMYK").save(path("cmyk.jpg"), quality=90)
    cases.append(edited("CMYK JPEG", path("cmyk.jpg")))
    rgb16 = (np.asarray(portrait).astype(np.uint16) * 257)[..., ::-1]  # BGR for OpenCV
    cv2.imwrite(str(path("sixteen_bit.png")), np.ascontiguousarray(rgb16))
    cases.append(edited("16-bit RGB PNG", path("sixteen_bit.png")))
    portrait.convert("L").save(path("grayscale.jpg"), quality=90)
    cases.append(edited("grayscale JPEG", path("grayscale.jpg")))
    alpha = Image.new("L", portrait.size, 0)
    ImageDraw.Draw(alpha).ellipse((300, 80, 980, 760), fill=255)  # transparent around the head
    rgba = portrait.copy()
    rgba.putalpha(alpha)
    rgba.save(path("transparent.png"))
    cases.append(edited("RGBA PNG with transparency", path("transparent.png")))
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 8  # the stored pixels must turn 90 degrees counter-clockwise to be upright
    portrait.transpose(Image.Transpose.ROTATE_270).save(path("exif_rotated.jpg"), quality=90, exif=exif)
    cases.append(edited("EXIF-rotated JPEG", path("exif_rotated.jpg")))

    portrait.crop((0, 0, 300, 768)).save(path("no_face.jpg"), quality=90)
    cases.append(refused("photo with no face", path("no_face.jpg"), NO_FACE))
    crowd(30, 6, (105, 128)).save(path("thirty_faces.jpg"), quality=90)
    cases.append(edited("30 small faces (at most MAX_FACES edited)", path("thirty_faces.jpg"), faces=MAX_FACES))
    portrait.crop((590, 150, 1024, 700)).save(path("cut_by_border.jpg"), quality=90)
    cases.append(either("face cut by the border", path("cut_by_border.jpg"), NO_FACE))
    portrait.resize((96, 72), Image.Resampling.LANCZOS).save(path("small_face.jpg"), quality=90)  # face ~18 px
    cases.append(either("very small face", path("small_face.jpg"), NO_FACE))

    long_name = "long_name_" + "x" * 230 + ".jpg"  # 244 characters: the edited file's name must still fit
    path(long_name).write_bytes(jpeg)
    cases.append(edited("file name of 244 characters", path(long_name)))

    path("drawing.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">'
                                   '<circle cx="32" cy="32" r="30" fill="peachpuff"/></svg>')
    cases.append(refused("SVG drawing", path("drawing.svg"), NOT_AN_IMAGE))
    path("notes.txt").write_text("This is a text file, not a photo.\n")
    cases.append(refused("text file", path("notes.txt"), NOT_AN_IMAGE))
    return cases
