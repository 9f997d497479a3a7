"""Identity judge: dlib's 128-D face-recognition embedding, with HOG detection and 5-point alignment.

The model files come from the ``face-recognition-models`` wheel (requirements-dev.txt); its
directory is located with ``importlib`` because importing that package needs ``pkg_resources``.
dlib's usual same-person threshold on the embedding distance is 0.6.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np
import torch

try:
    import dlib
except ImportError as e:  # a development extra, not needed by the app
    raise ImportError("the identity judge needs dlib: pip install -r requirements-dev.txt") from e

#: dlib's documented same-person threshold on the Euclidean distance between embeddings.
SAME_PERSON_THRESHOLD = 0.6


def model_dir() -> Path:
    """The ``models/`` folder inside the installed ``face_recognition_models`` package."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("face_recognition_models is not installed: pip install -r requirements-dev.txt")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


class FaceEmbedder:
    """RGB images -> 128-D embeddings (``None`` where no face is detected).

    Small crops are first resized to ``upsample`` pixels (bicubic), since the HOG detector
    needs faces of about 80 pixels or more.
    """

    def __init__(self, upsample: int = 256) -> None:
        models = model_dir()
        self.upsample = upsample
        self.detector = dlib.get_frontal_face_detector()
        self.shapes = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
        self.net = dlib.face_recognition_model_v1(str(models / "dlib_face_recognition_resnet_model_v1.dat"))

    def embed(self, image: np.ndarray) -> np.ndarray | None:
        """One ``H x W x 3`` uint8 RGB image -> embedding of its largest detected face, or ``None``."""
        if self.upsample and image.shape[0] != self.upsample:
            image = cv2.resize(image, (self.upsample, self.upsample), interpolation=cv2.INTER_CUBIC)
        image = np.ascontiguousarray(image)
        faces = self.detector(image, 0)
        if not faces:
            return None
        face = max(faces, key=lambda r: r.area())
        return np.asarray(self.net.compute_face_descriptor(image, self.shapes(image, face)), dtype=np.float32)

    def embed_batch(self, images: torch.Tensor) -> list[np.ndarray | None]:
        """uint8 ``N x 3 x H x W`` tensor -> one embedding (or ``None``) per image."""
        return [self.embed(im) for im in images.permute(0, 2, 3, 1).cpu().numpy()]


def distance(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """Euclidean distance between two embeddings; NaN when either face was not found."""
    if a is None or b is None:
        return float("nan")
    return float(np.linalg.norm(a - b))
