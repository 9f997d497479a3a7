"""Load any common photo as an upright 8-bit RGB image, or fail with a message a user can act on.

JPEG, PNG, WebP, GIF (first frame), BMP and TIFF are read with Pillow; the EXIF orientation is
applied; grayscale, palette, RGBA (composited on white), CMYK and 16-bit images become RGB.
"""
from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .limits import MAX_FILE_BYTES, MAX_IMAGE_PIXELS

Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS

ImageSource = Union[str, os.PathLike, bytes, BinaryIO, Image.Image]

_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")
_ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")


class ImageError(ValueError):
    """The input is not a usable image; the message says why, in words meant for the user."""


def _megabytes(n: int) -> str:
    return f"{n / 2**20:.1f} MB"


def check_file_size(n_bytes: int) -> None:
    """Refuse files above :data:`MAX_FILE_BYTES` and empty files."""
    if n_bytes == 0:
        raise ImageError("the file is empty")
    if n_bytes > MAX_FILE_BYTES:
        raise ImageError(f"the file is too large ({_megabytes(n_bytes)}; the limit is {_megabytes(MAX_FILE_BYTES)})")


def check_image_size(size: tuple[int, int]) -> None:
    """Refuse images above :data:`MAX_IMAGE_PIXELS` (decompression bombs included)."""
    w, h = size
    if w * h > MAX_IMAGE_PIXELS:
        raise ImageError(f"the image is too large ({w} x {h} = {w * h / 1e6:.0f} megapixels; "
                         f"the limit is {MAX_IMAGE_PIXELS / 1e6:.0f} megapixels)")
    if w < 1 or h < 1:
        raise ImageError("the image has no pixels")


def load_image(source: ImageSource) -> Image.Image:
    """A file path, bytes, binary file or PIL image -> upright RGB PIL image (fully loaded)."""
    if isinstance(source, Image.Image):
        check_image_size(source.size)
        return to_rgb(_upright(source))
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise ImageError(f"no such file: {path}")
        check_file_size(path.stat().st_size)
        with path.open("rb") as f:
            return _decode(f)
    if isinstance(source, bytes):
        check_file_size(len(source))
        return _decode(io.BytesIO(source))
    return _decode(source)


def _decode(f: BinaryIO) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(f)
        with im:
            check_image_size(im.size)
            im.load()  # first frame of animations
            return to_rgb(_upright(im))
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError("this is not an image (or not in a format this app reads: "
                         "JPEG, PNG, WebP, GIF, BMP or TIFF)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"the image is too large (the limit is {MAX_IMAGE_PIXELS / 1e6:.0f} megapixels)") from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise ImageError(f"the image file is damaged or truncated and cannot be read ({e})") from None


def _upright(im: Image.Image) -> Image.Image:
    """Apply the EXIF orientation; a broken EXIF block is ignored rather than refused."""
    try:
        return ImageOps.exif_transpose(im)
    except (OSError, SyntaxError, ValueError, TypeError, KeyError):
        return im


def to_rgb(im: Image.Image) -> Image.Image:
    """Any Pillow mode -> 8-bit RGB (16-bit rescaled, transparency composited on white)."""
    if im.mode in _SIXTEEN_BIT_MODES or im.mode == "F":
        a = np.asarray(im, dtype=np.float64)
        if im.mode == "F" and a.size and np.nanmax(a) <= 1.0:
            a = a * 255.0
        elif im.mode != "F" and (im.mode != "I" or (a.size and a.max() > 255)):
            a = a / 257.0
        im = Image.fromarray(np.clip(np.nan_to_num(a), 0, 255).round().astype(np.uint8), "L")
    if im.mode in _ALPHA_MODES or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if im.mode != "RGB":
        try:
            return im.convert("RGB")
        except ValueError as e:
            raise ImageError(f"unsupported colour mode {im.mode} ({e})") from None
    return im


#: zlib level for the PNGs written (1: fast, files ~15% larger than the default 6).
PNG_COMPRESS_LEVEL: int = 1


def save_png(image: np.ndarray, path: str | os.PathLike) -> None:
    """Write an H x W x 3 uint8 array as a PNG (fast compression)."""
    Image.fromarray(image).save(path, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
