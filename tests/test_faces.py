"""Face detection (real MTCNN) and alignment onto the training crop of the CelebA frame."""
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from examples.make_examples import place_face
from model.faces import FaceDetector, crop_matrix, frame_transform, paste_crop_size, warp_to_crop
from model.limits import DETECT_MAX_SIDE
from model.preprocessing import (
    LANDMARK_TEMPLATE, crop_and_resize, crop_to_frame_matrix, resize_crop,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
S = 64  # model input size


def celeba(celeba_tiny: Path, name: str) -> Image.Image:
    return Image.open(celeba_tiny / "img_align_celeba" / name).convert("RGB")


def aligned_crop(image: Image.Image, detector: FaceDetector) -> tuple[torch.Tensor, np.ndarray]:
    """The one face's S x S model input (float) and its landmarks, as the pipeline makes them."""
    (face,) = detector.detect(image)
    size = paste_crop_size(face.landmarks)
    crop = warp_to_crop(np.asarray(image), crop_matrix(face.landmarks, size), size)
    return resize_crop(torch.from_numpy(crop).permute(2, 0, 1), S).float(), face.landmarks


def homogeneous(m: np.ndarray) -> np.ndarray:
    return np.vstack([m, [0.0, 0.0, 1.0]])


def test_celeba_face_is_found_near_the_template(celeba_tiny: Path, face_detector: FaceDetector) -> None:
    faces = face_detector.detect(celeba(celeba_tiny, "000053.jpg"))
    assert len(faces) == 1
    assert faces[0].score > 0.95
    assert faces[0].landmarks.shape == (5, 2) and faces[0].box.shape == (4,)
    assert np.abs(faces[0].landmarks - LANDMARK_TEMPLATE).max() < 5


def test_crop_composition_reproduces_the_training_crop_exactly(celeba_tiny: Path) -> None:
    """Warping with the frame's own identity alignment through crop_to_frame_matrix == crop_and_resize."""
    image = celeba(celeba_tiny, "000001.jpg")
    size = 150  # the crop box's own resolution
    photo_to_crop = np.linalg.inv(homogeneous(crop_to_frame_matrix(size)))[:2]
    crop = warp_to_crop(np.asarray(image), photo_to_crop, size)
    ours = resize_crop(torch.from_numpy(crop).permute(2, 0, 1), S)
    assert (ours.int() - crop_and_resize(image, S).int()).abs().max() <= 1


def test_aligning_a_celeba_image_reproduces_its_training_crop(celeba_tiny: Path,
                                                               face_detector: FaceDetector) -> None:
    """The template is the mean CelebA landmark set, so CelebA images need (almost) no alignment."""
    image = celeba(celeba_tiny, "000053.jpg")  # a face whose landmarks sit on the template
    ours, _ = aligned_crop(image, face_detector)
    assert (ours - crop_and_resize(image, S).float()).abs().mean() < 5
    scales, shifts = [], []
    for path in sorted((celeba_tiny / "img_align_celeba").glob("*.jpg")):
        (face,) = face_detector.detect(Image.open(path).convert("RGB"))
        m = frame_transform(face.landmarks)
        scales.append(np.hypot(m[0, 0], m[1, 0]))
        assert abs(np.degrees(np.arctan2(m[1, 0], m[0, 0]))) < 5
        shifts.append(m[:2, :2] @ [89, 109] + m[:2, 2] - [89, 109])  # where the frame centre moves
    assert 0.8 < min(scales) and max(scales) < 1.2 and abs(np.mean(scales) - 1) < 0.05
    assert np.abs(np.mean(shifts, axis=0)).max() < 3


@pytest.mark.parametrize("scale, angle, centre", [(2.4, 25, (1100, 450)), (1.5, -20, (420, 800))])
def test_rotated_scaled_off_centre_face_aligns_like_the_original(
        celeba_tiny: Path, face_detector: FaceDetector, scale: float, angle: float, centre: tuple) -> None:
    face = np.asarray(celeba(celeba_tiny, "000053.jpg"))
    reference, landmarks = aligned_crop(Image.fromarray(face), face_detector)
    canvas = np.full((1200, 1600, 3), 128, np.float32)  # larger than DETECT_MAX_SIDE: detected scaled down
    assert max(canvas.shape) > DETECT_MAX_SIDE
    frame_to_canvas = place_face(canvas, face, centre, scale, angle, feather=0)
    photo = Image.fromarray(np.clip(canvas, 0, 255).round().astype(np.uint8))
    ours, found = aligned_crop(photo, face_detector)
    # landmarks come back in full-size canvas pixels, where the original's land
    expected = landmarks @ frame_to_canvas[:, :2].T + frame_to_canvas[:, 2]
    assert np.abs(found - expected).max() / scale < 5  # in frame pixels
    # both alignments put the same frame points in the crop's corners (within 2.5 model pixels)
    corners = np.array([[0, 0, 1], [S - 1, 0, 1], [0, S - 1, 1], [S - 1, S - 1, 1]], float)
    from_original = corners @ np.linalg.inv(homogeneous(crop_matrix(landmarks, S))).T
    via_canvas = corners @ (np.linalg.inv(homogeneous(frame_to_canvas))
                            @ np.linalg.inv(homogeneous(crop_matrix(found, S)))).T
    assert np.abs(from_original - via_canvas).max() * S / 150 < 2.5
    # and the pixels nearly match: no further apart than the crop and itself shifted by two pixels
    two_pixel_shift = (reference[:, :, 2:] - reference[:, :, :-2]).abs().mean()
    assert (ours - reference).abs().mean() < two_pixel_shift


def test_two_faces_left_to_right(face_detector: FaceDetector) -> None:
    from model.images import load_image

    faces = face_detector.detect(load_image(EXAMPLES / "group.jpg"))
    assert len(faces) == 2
    assert faces[0].box[2] < faces[1].box[0]  # left face first, boxes apart
    for f in faces:
        x0, y0, x1, y1 = f.box
        assert (x0 < f.landmarks[:, 0]).all() and (f.landmarks[:, 0] < x1).all()
        assert (y0 < f.landmarks[:, 1]).all() and (f.landmarks[:, 1] < y1).all()


@pytest.mark.parametrize("kind", ["blank", "noise", "tiny"])
def test_no_face(face_detector: FaceDetector, kind: str) -> None:
    rng = np.random.default_rng(0)
    image = {"blank": Image.new("RGB", (640, 480), (200, 180, 160)),
             "noise": Image.fromarray(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)),
             "tiny": Image.new("RGB", (3, 2))}[kind]
    assert face_detector.detect(image) == []


def test_warp_replicates_edges() -> None:
    """Parts of the crop beyond the photo repeat the photo's edge instead of going black."""
    photo = np.zeros((10, 10, 3), np.uint8)
    photo[:, -1] = 255  # bright right-hand column
    photo_x_minus_5 = np.array([[1.0, 0.0, -5.0], [0.0, 1.0, 0.0]])  # crop pixel x shows photo pixel x + 5
    out = warp_to_crop(photo, photo_x_minus_5, 10)
    assert (out[:, 4:] == 255).all() and (out[:, :4] == 0).all()
