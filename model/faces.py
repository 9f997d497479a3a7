"""Find faces with MTCNN and align them onto the CelebA frame the model was trained on.

A face's 5 landmarks are matched to :data:`model.preprocessing.LANDMARK_TEMPLATE` with a
least-squares similarity transform (photo -> CelebA frame); composed with the training crop
(:func:`model.preprocessing.crop_to_frame_matrix`) it warps the photo straight into the square
crop, at whatever resolution is asked for.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from facenet_pytorch import MTCNN
from PIL import Image
from skimage.transform import SimilarityTransform

from .limits import DETECT_MAX_SIDE, MIN_FACE_SCORE, MIN_FACE_SIZE, PASTE_CROP_RANGE
from .preprocessing import CROP_BOX, LANDMARK_TEMPLATE, crop_to_frame_matrix


@dataclass(frozen=True)
class Face:
    """One detected face, in pixel coordinates of the image given to :meth:`FaceDetector.detect`."""

    box: np.ndarray  # (4,) left, top, right, bottom
    score: float  # MTCNN probability
    landmarks: np.ndarray  # (5, 2) x, y: left eye, right eye, nose, left / right mouth corner


class FaceDetector:
    """facenet-pytorch's MTCNN (weights ship inside the package; nothing is downloaded)."""

    def __init__(self, min_face_size: int = MIN_FACE_SIZE, min_score: float = MIN_FACE_SCORE,
                 max_side: int = DETECT_MAX_SIDE, device: str = "cpu") -> None:
        self.mtcnn = MTCNN(keep_all=True, select_largest=False, min_face_size=min_face_size, device=device)
        self.min_face_size = min_face_size
        self.min_score = min_score
        self.max_side = max_side

    def detect(self, image: Image.Image) -> list[Face]:
        """All faces in an RGB image, left to right; large images are scaled down to detect."""
        w, h = image.size
        scale = min(1.0, self.max_side / max(w, h))
        small = image
        if scale < 1.0:
            small = image.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BILINEAR,
                                 reducing_gap=2.0)
        if min(small.size) < self.min_face_size:  # MTCNN fails on images smaller than its smallest face
            return []
        boxes, probs, points = self.mtcnn.detect(small, landmarks=True)
        if boxes is None:
            return []
        # facenet-pytorch returns object arrays under numpy 2
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        probs = np.asarray(probs, dtype=np.float64).reshape(-1)
        points = np.asarray(points, dtype=np.float64).reshape(-1, 5, 2)
        # back to full-size pixel coordinates (pixel centres scale about -0.5)
        sx, sy = small.size[0] / w, small.size[1] / h
        to_full = np.array([sx, sy])
        boxes = ((boxes.reshape(-1, 2, 2) + 0.5) / to_full - 0.5).reshape(-1, 4)
        points = (points + 0.5) / to_full - 0.5
        faces = [Face(box=b, score=float(p), landmarks=pt) for b, p, pt in zip(boxes, probs, points)
                 if p >= self.min_score]
        return sorted(faces, key=lambda f: f.box[0] + f.box[2])


def frame_transform(landmarks: np.ndarray) -> np.ndarray:
    """3 x 3 similarity matrix, photo pixel -> CelebA-frame pixel, fitting ``landmarks`` to the template."""
    tform = SimilarityTransform.from_estimate(np.asarray(landmarks, dtype=np.float64), LANDMARK_TEMPLATE)
    if not tform:
        raise ValueError(f"cannot align landmarks {np.asarray(landmarks).tolist()}")
    return tform.params


def photo_per_frame(landmarks: np.ndarray) -> float:
    """Photo pixels per CelebA-frame pixel for the face with these landmarks."""
    m = frame_transform(landmarks)
    return 1.0 / float(np.hypot(m[0, 0], m[1, 0]))


def crop_size_in_photo(landmarks: np.ndarray) -> float:
    """Side, in photo pixels, of the training crop around this face."""
    return (CROP_BOX[2] - CROP_BOX[0]) * photo_per_frame(landmarks)


def paste_crop_size(landmarks: np.ndarray) -> int:
    """Resolution of the aligned crop that keeps the face's own detail (clamped to PASTE_CROP_RANGE)."""
    lo, hi = PASTE_CROP_RANGE
    return int(np.clip(round(crop_size_in_photo(landmarks)), lo, hi))


def crop_matrix(landmarks: np.ndarray, size: int) -> np.ndarray:
    """2 x 3 affine matrix, photo pixel -> pixel of the ``size`` x ``size`` training crop of this face."""
    crop_to_frame = np.vstack([crop_to_frame_matrix(size), [0.0, 0.0, 1.0]])
    return (np.linalg.inv(crop_to_frame) @ frame_transform(landmarks))[:2]


def warp_to_crop(image: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """Warp an H x W x C photo into the ``size`` x ``size`` crop (bilinear, edges replicated)."""
    return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
