"""Loading photos: every common format and mode becomes upright 8-bit RGB; bad files get clear errors."""
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from PIL import Image

from model.faces import FaceDetector
from model.images import ImageError, load_image, save_png
from model.limits import MAX_FILE_BYTES, MAX_IMAGE_PIXELS

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def face(celeba_tiny: Path) -> Image.Image:
    return Image.open(celeba_tiny / "img_align_celeba" / "000053.jpg").convert("RGB")


def gray16(im: Image.Image) -> Image.Image:
    """16-bit grayscale with the same brightness as the 8-bit luminance."""
    return Image.fromarray(np.asarray(im.convert("L")).astype(np.uint16) * 257)


def with_transparent_border(im: Image.Image) -> Image.Image:
    rgba = im.convert("RGBA")
    alpha = np.zeros((im.height, im.width), np.uint8)
    alpha[10:-10, 10:-10] = 255
    rgba.putalpha(Image.fromarray(alpha))
    return rgba


# name -> (file suffix, conversion before saving, save options, expected: "rgb" or "gray", tolerance)
FORMATS: dict[str, tuple[str, Callable[[Image.Image], Image.Image], dict, str, float]] = {
    "jpeg": (".jpg", lambda im: im, {"quality": 95}, "rgb", 4.0),
    "png": (".png", lambda im: im, {}, "rgb", 0.0),
    "webp": (".webp", lambda im: im, {"lossless": True}, "rgb", 0.0),
    "bmp": (".bmp", lambda im: im, {}, "rgb", 0.0),
    "tiff": (".tif", lambda im: im, {}, "rgb", 0.0),
    "gif": (".gif", lambda im: im.quantize(256), {}, "rgb", 8.0),
    "grayscale png": (".png", lambda im: im.convert("L"), {}, "gray", 0.0),
    "rgba png": (".png", with_transparent_border, {}, "rgb", 0.0),
    "palette png": (".png", lambda im: im.quantize(256), {}, "rgb", 8.0),
    "cmyk jpeg": (".jpg", lambda im: im.convert("CMYK"), {"quality": 95}, "rgb", 6.0),
    "cmyk tiff": (".tif", lambda im: im.convert("CMYK"), {}, "rgb", 1.0),
    "16-bit png": (".png", gray16, {}, "gray", 0.0),
    "16-bit tiff": (".tif", gray16, {}, "gray", 0.0),
}


@pytest.mark.parametrize("name", FORMATS)
def test_formats_load_as_rgb_and_the_face_is_found(name: str, face: Image.Image, tmp_path: Path,
                                                   face_detector: FaceDetector) -> None:
    suffix, convert, options, expected, tolerance = FORMATS[name]
    path = tmp_path / f"photo{suffix}"
    convert(face).save(path, **options)
    im = load_image(path)
    assert im.mode == "RGB" and im.size == face.size
    got = np.asarray(im).astype(float)
    want = np.asarray(face.convert("L").convert("RGB") if expected == "gray" else face).astype(float)
    if name == "rgba png":  # transparent pixels are composited on white
        assert (got[:10] == 255).all()
        got, want = got[10:-10, 10:-10], want[10:-10, 10:-10]
    assert np.abs(got - want).mean() <= tolerance
    assert len(face_detector.detect(im)) == 1


def test_gif_first_frame(face: Image.Image, tmp_path: Path) -> None:
    path = tmp_path / "animated.gif"
    black = Image.new("RGB", face.size)
    face.save(path, save_all=True, append_images=[black], duration=100, loop=0)
    assert np.asarray(load_image(path)).mean() > 40  # the face, not the black second frame


def test_exif_orientation_is_applied(face: Image.Image, tmp_path: Path) -> None:
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    face.transpose(Image.Transpose.ROTATE_90).save(path, quality=95, exif=exif)
    assert Image.open(path).size == (face.height, face.width)
    im = load_image(path)
    assert im.size == face.size
    assert np.abs(np.asarray(im).astype(float) - np.asarray(face)).mean() < 4


def test_shipped_sideways_example_is_upright(face_detector: FaceDetector) -> None:
    im = load_image(EXAMPLES / "sideways.jpg")
    assert im.size == (600, 800)
    (found,) = face_detector.detect(im)
    eyes_y, mouth_y = found.landmarks[:2, 1].mean(), found.landmarks[3:, 1].mean()
    assert eyes_y < mouth_y


def test_sources_other_than_paths(face: Image.Image, tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    face.save(path)
    for source in (path.read_bytes(), path.open("rb"), face.convert("L"), str(path)):
        assert load_image(source).mode == "RGB"


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"hello, I am a text file", "not an image"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not an image"),
])
def test_non_images_are_refused_clearly(content: bytes, message: str, tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(content)
    with pytest.raises(ImageError, match=message):
        load_image(path)


def test_truncated_file(tmp_path: Path) -> None:
    data = (EXAMPLES / "portrait.jpg").read_bytes()
    path = tmp_path / "truncated.jpg"
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(ImageError, match="damaged or truncated"):
        load_image(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="no such file"):
        load_image(tmp_path / "nope.jpg")


def test_file_too_large(tmp_path: Path) -> None:
    path = tmp_path / "huge.jpg"
    with path.open("wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)  # sparse: no need to write the bytes
    with pytest.raises(ImageError, match="too large"):
        load_image(path)


@pytest.mark.parametrize("factor", [1.2, 2.5])  # below and beyond PIL's own decompression-bomb error
def test_too_many_pixels(factor: float, tmp_path: Path) -> None:
    side = int((MAX_IMAGE_PIXELS * factor) ** 0.5)
    path = tmp_path / "bomb.png"
    Image.new("1", (side, side)).save(path)  # a few kB on disk
    assert path.stat().st_size < 10 * 2**20
    with pytest.raises(ImageError, match="too large"):
        load_image(path)


def test_save_png_round_trip(face: Image.Image, tmp_path: Path) -> None:
    path = tmp_path / "out.png"
    save_png(np.asarray(face), path)
    assert np.array_equal(np.asarray(Image.open(path)), np.asarray(face))
