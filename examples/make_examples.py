"""Build the app's example photos from the CelebA test fixtures (we ship no other photos).

    python examples/make_examples.py

Each example places fixture faces, enlarged and tilted, on a synthetic indoor background:
``portrait.jpg`` (one large face off-centre), ``group.jpg`` (two faces) and ``sideways.jpg``
(stored rotated, with an EXIF orientation tag that turns it upright). Deterministic.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
FACES = HERE.parent / "tests" / "fixtures" / "celeba_tiny" / "img_align_celeba"
EXIF_ORIENTATION = 0x0112
ROTATE_90_CW = 6  # EXIF: the stored pixels must be turned 90 degrees clockwise to be upright


def background(width: int, height: int, seed: int) -> np.ndarray:
    """A wall-like backdrop: vertical gradient, soft shapes and fine noise (H x W x 3 float32)."""
    rng = np.random.default_rng(seed)
    def muted(lo: float, hi: float) -> np.ndarray:
        return rng.uniform(lo, hi) + rng.uniform(-15, 15, 3)

    top, bottom = muted(150, 220), muted(60, 130)
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    img = np.broadcast_to(top * (1 - t) + bottom * t, (height, width, 3)).astype(np.float32).copy()
    for _ in range(4):  # picture frames, a door, a window...
        x0, y0 = int(rng.uniform(0, width * 0.8)), int(rng.uniform(0, height * 0.6))
        w, h = int(rng.uniform(0.1, 0.3) * width), int(rng.uniform(0.2, 0.5) * height)
        cv2.rectangle(img, (x0, y0), (x0 + w, y0 + h), muted(40, 220).tolist(), -1)
    img = cv2.GaussianBlur(img, (0, 0), sigmaX=width / 150)
    shade = cv2.resize(rng.normal(0, 5, (height // 64 + 2, width // 64 + 2)).astype(np.float32),
                       (width, height), interpolation=cv2.INTER_CUBIC)
    return img + shade[..., None] + rng.normal(0, 2.0, img.shape).astype(np.float32)


def place_face(canvas: np.ndarray, face: np.ndarray, centre: tuple[float, float], scale: float,
               angle: float, feather: float = 0.25) -> np.ndarray:
    """Paste a CelebA frame onto ``canvas`` (in place) rotated by ``angle`` degrees and scaled about its
    centre, which lands on ``centre``. An elliptical vignette fades out over the outer ``feather``
    fraction of the frame (0: the whole rectangle is pasted). Returns the 2 x 3 frame -> canvas matrix."""
    h, w = face.shape[:2]
    matrix = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), angle, scale)
    matrix[:, 2] += np.asarray(centre) - np.array([(w - 1) / 2, (h - 1) / 2])
    yy, xx = np.mgrid[0:h, 0:w]
    r = np.hypot((xx - (w - 1) / 2) / (w / 2), (yy - (h - 1) / 2) / (h / 2))
    alpha = (np.clip((1.0 - r) / feather, 0.0, 1.0) if feather > 0 else np.ones_like(r)).astype(np.float32)
    size = (canvas.shape[1], canvas.shape[0])
    layers = np.dstack([face.astype(np.float32), alpha])
    warped = cv2.warpAffine(layers, matrix, size, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_CONSTANT)
    a = np.clip(warped[..., 3:], 0.0, 1.0)
    canvas *= 1.0 - a
    canvas += a * warped[..., :3]
    return matrix


def load_face(name: str) -> np.ndarray:
    return np.asarray(Image.open(FACES / name).convert("RGB"))


def to_image(canvas: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(canvas, 0, 255).round().astype(np.uint8))


def main() -> None:
    portrait = background(1024, 768, seed=1)
    place_face(portrait, load_face("000019.jpg"), centre=(640, 400), scale=2.6, angle=-10)
    to_image(portrait).save(HERE / "portrait.jpg", quality=88)

    group = background(1280, 720, seed=2)
    place_face(group, load_face("162771.jpg"), centre=(400, 380), scale=1.9, angle=6)
    place_face(group, load_face("182647.jpg"), centre=(880, 340), scale=1.7, angle=-4)
    to_image(group).save(HERE / "group.jpg", quality=88)

    sideways = background(600, 800, seed=3)
    place_face(sideways, load_face("000053.jpg"), centre=(300, 380), scale=2.0, angle=3)
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = ROTATE_90_CW
    # store the pixels turned 90 degrees counter-clockwise; the tag turns them back
    to_image(sideways).transpose(Image.Transpose.ROTATE_90).save(HERE / "sideways.jpg", quality=88, exif=exif)


if __name__ == "__main__":
    main()
