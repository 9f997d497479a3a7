"""dlib's identity embedder on the fixture faces (64 x 64 training crops, as the evaluation sees them)."""
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from evaluation.identity import SAME_PERSON_THRESHOLD, FaceEmbedder, dlib_chip_boxes, distance
from model import identity
from model.preprocessing import crop_and_resize
from training.celeba import CelebA


@pytest.fixture(scope="module")
def embedder() -> FaceEmbedder:
    return FaceEmbedder()


@pytest.fixture(scope="module")
def crops(celeba_tiny: Path) -> torch.Tensor:
    """The 12 fixture faces (12 different people) as uint8 64 x 64 crops."""
    celeba = CelebA(celeba_tiny, "all")
    assert len(set(celeba.identities)) == len(celeba) == 12
    return torch.stack([crop_and_resize(Image.open(celeba.image_path(n)), 64) for n in celeba.names])


def test_detects_faces_in_small_crops_and_nothing_in_a_blank_image(embedder: FaceEmbedder,
                                                                   crops: torch.Tensor) -> None:
    found = [e is not None for e in embedder.embed_batch(crops)]
    assert sum(found) >= 10, found
    assert embedder.embed(np.full((64, 64, 3), 128, np.uint8)) is None
    emb = next(e for e in embedder.embed_batch(crops[:1]) if e is not None)
    assert emb.shape == (128,)


def test_same_face_is_close_and_different_people_are_far(embedder: FaceEmbedder, crops: torch.Tensor) -> None:
    own = embedder.embed_batch(crops)
    flipped = embedder.embed_batch(crops.flip(-1))
    darker = embedder.embed_batch((crops.float() * 0.8).round().to(torch.uint8))
    same = [distance(a, b) for a, b in zip(own, flipped)] + [distance(a, b) for a, b in zip(own, darker)]
    same = np.array([d for d in same if not np.isnan(d)])
    assert len(same) >= 20
    assert same.max() < 0.4 < SAME_PERSON_THRESHOLD  # measured: flips <= 0.30, 20 % darker <= 0.13
    found = [e for e in own if e is not None]
    diff = np.array([distance(a, b) for i, a in enumerate(found) for b in found[i + 1:]])
    assert diff.mean() > 0.7  # measured 0.81
    assert (diff > SAME_PERSON_THRESHOLD).mean() > 0.9  # measured 65 of 66 pairs
    assert diff.min() > same.max()


def test_distance_is_nan_without_a_face() -> None:
    assert np.isnan(distance(None, np.zeros(128, np.float32)))
    assert distance(np.zeros(2), np.array([3.0, 4.0])) == pytest.approx(5.0)


def test_the_fixed_chip_reads_celeba_frames_as_dlib_does(embedder: FaceEmbedder, celeba_tiny: Path) -> None:
    """embed_frames (a fixed chip of the aligned frame: no detection, no landmarks) against dlib's own
    detection and landmarks, on the 12 fixture frames; the same at twice the frame's size."""
    celeba = CelebA(celeba_tiny, "all")
    frames = [np.asarray(Image.open(celeba.image_path(n)).convert("RGB")) for n in celeba.names]
    boxes = dlib_chip_boxes(embedder, frames)
    assert len(boxes) >= 10
    assert np.abs(np.median(boxes, axis=0) - identity.FRAME_CHIP_BOX).max() < 6, boxes
    fixed = embedder.embed_frames(frames)
    assert fixed.shape == (12, 128) and fixed.dtype == np.float32
    gaps = []
    for frame, emb in zip(frames, fixed):
        faces = embedder.detector(frame, 1)
        if len(faces) == 1:
            own = np.asarray(embedder.net.compute_face_descriptor(frame, embedder.shapes(frame, faces[0])))
            gaps.append(distance(own, emb))
    assert len(gaps) >= 10 and np.mean(gaps) < 0.2 < SAME_PERSON_THRESHOLD, gaps
    big = [np.asarray(Image.fromarray(f).resize((356, 436), Image.BICUBIC)) for f in frames]
    assert np.linalg.norm(embedder.embed_frames(big) - fixed, axis=1).max() < 0.15
    assert embedder.embed_frames([]).shape == (0, 128)
    pairs = np.linalg.norm(fixed[:, None] - fixed[None], axis=-1)[np.triu_indices(12, 1)]
    assert (pairs > SAME_PERSON_THRESHOLD).mean() > 0.9  # 12 different people


def test_without_dlib_the_identity_check_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert identity.dlib_available()
    monkeypatch.setitem(sys.modules, "dlib", None)  # import dlib now fails, as when it is not installed
    assert not identity.dlib_available()
    with pytest.raises(ImportError, match="needs dlib"):
        identity.FaceEmbedder()
