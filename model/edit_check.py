"""Independent checks of an edit, on the photo the editor returns: the strict judge's reading of each
edited face before and after, and dlib's identity verdict (original face against edited face).

The editor's own encoder drew the edit, so its reading of the result is not evidence that the edit
shows (it can read a dark smudge as glasses). These checks use models that had no part in the
edit: the strict judge (``model/strict_judge.py``, trained on real photos only) and dlib's face
recognition (``model/identity.py``). Both read the face warped from the photo into the
CelebA-aligned frame with the face's landmarks, at the face's own resolution.

Either check may be unavailable (no strict judge folder, dlib not installed): it is then left out,
with a log line, and the editor works as before.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from .faces import frame_transform
from .identity import SAME_PERSON_THRESHOLD, FaceEmbedder
from .ifcvae import CheckpointError
from .preprocessing import CELEBA_FRAME
from .strict_judge import SHIPPED_STRICT_JUDGE, StrictJudge

log = logging.getLogger(__name__)

#: Environment variable naming the strict judge's folder (default: the shipped ``strict_judge/``).
STRICT_JUDGE_ENV = "IFCVAE_STRICT_JUDGE"


def strict_judge_folder() -> str:
    """$IFCVAE_STRICT_JUDGE, else the shipped ``strict_judge/``."""
    return os.environ.get(STRICT_JUDGE_ENV) or str(SHIPPED_STRICT_JUDGE)


def warp_to_frame(image: np.ndarray, landmarks: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """The face of an ``H x W x 3`` photo with these 5 landmarks, warped into the CelebA-aligned frame
    at ``scale`` times its 178 x 218 pixels (bilinear, edges replicated)."""
    w, h = (round(scale * side) for side in CELEBA_FRAME)
    sx, sy = w / CELEBA_FRAME[0], h / CELEBA_FRAME[1]
    # frame pixel centres: frame pixel x covers [x, x + 1) -> [x * sx, (x + 1) * sx) in the larger frame
    to_scaled = np.array([[sx, 0.0, 0.5 * sx - 0.5], [0.0, sy, 0.5 * sy - 0.5], [0.0, 0.0, 1.0]])
    matrix = (to_scaled @ frame_transform(landmarks))[:2]
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


@dataclass
class FaceReading:
    """One face as the checks read it (``None`` for a check that is unavailable)."""

    probs: np.ndarray | None  # the strict judge's probabilities of the checked attributes
    embedding: np.ndarray | None  # dlib's 128-D embedding


@dataclass
class EditChecks:
    """The checks of ``n`` edited faces: the strict judge's probabilities before and after the edit,
    and dlib's distance from each original face to its edit (``None`` for a check that is unavailable)."""

    attributes: tuple[str, ...]  # the strict judge's columns: the editor's attributes it reads
    before: np.ndarray | None  # n x len(attributes), the original faces
    after: np.ndarray | None  # n x len(attributes), the faces in the returned photo
    distance: np.ndarray | None  # n, dlib's embedding distance, original -> edited

    @property
    def same_person(self) -> np.ndarray | None:
        """Per face, whether dlib takes the edited face for the same person (distance under 0.6)."""
        return None if self.distance is None else self.distance < SAME_PERSON_THRESHOLD


class EditChecker:
    """The strict judge and dlib's embedder, either possibly absent, reading the editor's ``attributes``."""

    def __init__(self, attributes: Sequence[str], judge: StrictJudge | None = None,
                 embedder: FaceEmbedder | None = None) -> None:
        self.judge, self.embedder = judge, embedder
        self.attributes: tuple[str, ...] = () if judge is None else tuple(a for a in attributes
                                                                         if a in judge.attributes)
        self.columns = [] if judge is None else [judge.attributes.index(a) for a in self.attributes]

    @classmethod
    def load(cls, attributes: Sequence[str], judge_folder: str | os.PathLike | None = None) -> "EditChecker":
        """The checks that can be loaded here: the strict judge from ``judge_folder`` (default
        :func:`strict_judge_folder`) and dlib's embedder if dlib is installed; what is missing is logged
        and left out."""
        folder = judge_folder or strict_judge_folder()
        try:
            judge: StrictJudge | None = StrictJudge.load(folder)
        except CheckpointError as e:
            log.warning("edit check: the strict judge is not available, so its reading is not shown (%s)", e)
            judge = None
        try:
            embedder: FaceEmbedder | None = FaceEmbedder()
        except ImportError as e:
            log.warning("edit check: the identity check is not available, so it is not shown (%s)", e)
            embedder = None
        return cls(attributes, judge, embedder)

    @property
    def judges(self) -> bool:
        """Whether the strict judge's reading is available."""
        return self.judge is not None

    @property
    def identifies(self) -> bool:
        """Whether the identity check is available."""
        return self.embedder is not None

    def read(self, frames: Sequence[np.ndarray]) -> list[FaceReading]:
        """uint8 faces in the CelebA-aligned frame (any size of its aspect) -> their readings, in one
        batch per check."""
        probs = embeddings = None
        if self.judge is not None and frames:
            p = self.judge.predict_proba([Image.fromarray(f) for f in frames])
            probs = p[:, self.columns].numpy()
        if self.embedder is not None and frames:
            embeddings = self.embedder.embed_frames(frames)
        return [FaceReading(None if probs is None else probs[i], None if embeddings is None else embeddings[i])
                for i in range(len(frames))]

    def compare(self, before: Sequence[FaceReading], after: Sequence[FaceReading]) -> EditChecks:
        """The checks of faces read ``before`` and ``after`` the edit (one reading of each per face)."""
        def probs(readings: Sequence[FaceReading]) -> np.ndarray | None:
            if self.judge is None:
                return None
            return np.array([r.probs for r in readings], dtype=np.float32).reshape(len(readings), len(self.attributes))

        distance = None
        if self.embedder is not None:
            distance = np.array([float(np.linalg.norm(a.embedding - b.embedding)) for a, b in zip(before, after)],
                                dtype=np.float32)
        return EditChecks(self.attributes, probs(before), probs(after), distance)
