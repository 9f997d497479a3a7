"""Identity check: dlib's 128-D face-recognition embedding and its same-person distance.

dlib and its model files (the ``dlib-bin`` and ``face-recognition-models`` packages) are in
requirements.txt, so every install (the Space, the Docker image) has the check, but they stay
optional: this module imports without them, :func:`dlib_available` says whether they are there, and
:class:`FaceEmbedder` raises ImportError without them (the app then leaves the check out). The model folder is located with ``importlib`` because importing
``face_recognition_models`` itself needs ``pkg_resources``.
"""
from __future__ import annotations

import importlib
import importlib.util
import threading
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import cv2
import numpy as np
import torch

from .preprocessing import CELEBA_FRAME

#: dlib's documented same-person threshold on the Euclidean distance between embeddings.
SAME_PERSON_THRESHOLD = 0.6
#: The square (left, top, right, bottom) of a CelebA-aligned frame that dlib's aligned face chip
#: covers: the median, over CelebA train frames, of the chip dlib cuts with its own detector and
#: 5-point landmarks (``python -m evaluation.identity``).
FRAME_CHIP_BOX: tuple[float, float, float, float] = (35.11, 79.28, 142.72, 186.73)
#: Side of dlib's face chip, the network's input.
CHIP_SIZE = 150
INSTALL_HINT = "pip install -r requirements.txt"


def _dlib() -> ModuleType:
    try:
        return importlib.import_module("dlib")
    except ImportError as e:
        raise ImportError(f"the identity check needs dlib: {INSTALL_HINT}") from e


def model_dir() -> Path:
    """The ``models/`` folder inside the installed ``face_recognition_models`` package."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"face_recognition_models is not installed: {INSTALL_HINT}")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def face_chip(frame: np.ndarray) -> np.ndarray:
    """A uint8 RGB face aligned like a CelebA frame (``H x W x 3``, any size of the 178 x 218 aspect) ->
    dlib's ``150 x 150`` face chip: its :data:`FRAME_CHIP_BOX`, the box's edges on the chip's outer
    pixel centres as dlib lays them."""
    left, top, right, bottom = FRAME_CHIP_BOX
    step = (CHIP_SIZE - 1) / (right - left)  # frame scale at which the chip is cut without resizing
    size = (round(CELEBA_FRAME[0] * step), round(CELEBA_FRAME[1] * step))
    if frame.shape[1] != size[0]:
        shrink = frame.shape[1] > size[0]
        frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    sx, sy = frame.shape[1] / CELEBA_FRAME[0], frame.shape[0] / CELEBA_FRAME[1]
    # chip pixel u -> frame point left + u (right - left) / (CHIP_SIZE - 1) -> pixel (x + 0.5) s - 0.5 of this frame
    to_frame = np.array([[sx * (right - left) / (CHIP_SIZE - 1), 0.0, sx * (left + 0.5) - 0.5],
                         [0.0, sy * (bottom - top) / (CHIP_SIZE - 1), sy * (top + 0.5) - 0.5]])
    return cv2.warpAffine(frame, to_frame, (CHIP_SIZE, CHIP_SIZE), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


def dlib_available() -> bool:
    """Whether dlib and its model files can be loaded."""
    try:
        _dlib()
        model_dir()
    except ImportError:
        return False
    return True


class FaceEmbedder:
    """RGB images -> 128-D embeddings: :meth:`embed` finds the face (dlib's HOG detector and 5-point
    landmarks), :meth:`embed_frames` reads faces already aligned like CelebA frames (:func:`face_chip`).

    For :meth:`embed`, small images are first resized to ``upsample`` pixels (bicubic), since the HOG
    detector needs faces of about 80 pixels or more.
    """

    def __init__(self, upsample: int = 256) -> None:
        dlib = self.dlib = _dlib()
        models = model_dir()
        self.upsample = upsample
        self.detector = dlib.get_frontal_face_detector()
        self.shapes = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
        self.net = dlib.face_recognition_model_v1(str(models / "dlib_face_recognition_resnet_model_v1.dat"))
        self.lock = threading.Lock()  # dlib's network keeps buffers between calls: one call at a time

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

    def embed_frames(self, frames: Sequence[np.ndarray]) -> np.ndarray:
        """uint8 RGB faces aligned like CelebA frames (``H x W x 3``, any size of the 178 x 218 aspect)
        -> ``N x 128`` embeddings, in one batch, without detection or landmarks (:func:`face_chip`)."""
        if not frames:
            return np.empty((0, 128), np.float32)
        chips = [np.ascontiguousarray(face_chip(f)) for f in frames]
        with self.lock:
            descriptors = self.net.compute_face_descriptor(chips)
        return np.asarray(descriptors, dtype=np.float32).reshape(len(frames), 128)


def distance(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """Euclidean distance between two embeddings; NaN when either face was not found."""
    if a is None or b is None:
        return float("nan")
    return float(np.linalg.norm(a - b))
