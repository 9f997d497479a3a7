"""Edit the faces of a live video frame by frame: find faces now and then, track them in between,
steady their landmarks, then encode, decode and paste every frame.

    live = LiveEditor(editor, live_detector())     # one per video stream: it holds the tracking state
    out = live.process(frame, {"Smiling": 1.0})    # frame: H x W x 3 uint8 RGB; out.image likewise

Detection (MTCNN, on the frame scaled down to :data:`LIVE_DETECT_SIDE`) runs on the first frame,
every :data:`REDETECT_EVERY` frames, and whenever tracking fails or a face moves fast; in between,
each face's 5 landmarks follow the video by pyramidal Lucas-Kanade optical flow with a
forward-backward check. The landmarks that align and paste the face are exponentially smoothed,
with a weight that rises with the face's speed (:func:`smooth_landmarks`), so that a still face
does not jitter and a moving one does not lag. Every frame is then encoded and decoded afresh and
pasted back with the photo editor's default paste; the encoder and decoder run under bfloat16
autocast where the CPU computes bfloat16 natively (``benchmark/live_speed.py`` compares the two).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Mapping, Sequence

import cv2
import numpy as np
import torch
from PIL import Image

from .faces import Face, FaceDetector
from .pipeline import Analysis, FaceEditor

#: Frames are searched for faces with their longer side scaled to this (webcam faces are large).
LIVE_DETECT_SIDE: int = 320
#: Smallest face looked for, in pixels of that scaled frame (a face of 80 px in a 640 x 480 frame).
LIVE_MIN_FACE: int = 40
#: Faces are searched for afresh at least every this many frames.
REDETECT_EVERY: int = 10
#: At most this many faces (the largest) are tracked and edited per frame.
MAX_LIVE_FACES: int = 4
#: A scheduled detection that finds nothing while the flow still follows the faces keeps them this many times.
MAX_MISSES: int = 3
#: Optical flow fails for a landmark whose forward-backward error exceeds this share of the eye distance.
MAX_FLOW_ERROR: float = 0.05
#: A face whose landmarks move more than this share of its eye distance in one frame is searched for afresh.
REDETECT_MOVE: float = 0.25
#: Smoothing weight of a new landmark measurement for a still face ...
SMOOTH_STILL: float = 0.35
#: ... rising linearly to 1 (no smoothing) at this speed, in eye distances per frame.
SMOOTH_FULL_SPEED: float = 0.15
#: Lucas-Kanade window and pyramid depth.
FLOW_WINDOW: tuple[int, int] = (21, 21)
FLOW_LEVELS: int = 3


@cache
def cpu_has_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (Linux: avx512_bf16 or amx_bf16 in /proc/cpuinfo)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def live_detector() -> FaceDetector:
    """The MTCNN detector for video frames (scaled down to LIVE_DETECT_SIDE; stateless, can be shared)."""
    return FaceDetector(min_face_size=LIVE_MIN_FACE, max_side=LIVE_DETECT_SIDE)


def eye_distance(landmarks: np.ndarray) -> float:
    """Distance between the two eye landmarks (the scale of a face), at least one pixel."""
    return max(float(np.linalg.norm(landmarks[1] - landmarks[0])), 1.0)


def smooth_landmarks(previous: np.ndarray, measured: np.ndarray, still: float = SMOOTH_STILL,
                     full_speed: float = SMOOTH_FULL_SPEED) -> np.ndarray:
    """One step of exponential smoothing whose weight grows with speed: ``previous + w * (measured -
    previous)``, ``w`` = ``still`` for a face that keeps still, rising linearly to 1 at a mean landmark
    movement of ``full_speed`` eye distances."""
    speed = float(np.linalg.norm(measured - previous, axis=1).mean()) / eye_distance(previous)
    weight = still + (1.0 - still) * min(1.0, speed / full_speed)
    return previous + weight * (measured - previous)


@dataclass
class Track:
    """One face followed through the video."""

    landmarks: np.ndarray  # (5, 2) latest measurement (detection or optical flow), frame pixels
    smoothed: np.ndarray  # (5, 2) the smoothed landmarks the face is aligned and pasted with
    box: np.ndarray  # (4,) left, top, right, bottom: the detection box, moved along with the landmarks

    def face(self) -> Face:
        return Face(box=self.box, score=1.0, landmarks=self.smoothed)


class FaceTracker:
    """Faces of one video stream: detected now and then (:class:`model.faces.FaceDetector`), tracked
    by optical flow in between, landmarks smoothed over time."""

    def __init__(self, detector: FaceDetector, redetect_every: int = REDETECT_EVERY,
                 max_faces: int = MAX_LIVE_FACES) -> None:
        self.detector = detector
        self.redetect_every = redetect_every
        self.max_faces = max_faces
        self.tracks: list[Track] = []
        self.since_detection = 0  # frames since the last detection that found the faces
        self.misses = 0  # detections in a row that found nothing while the flow still followed the faces
        self._gray: np.ndarray | None = None  # the previous frame, grey

    def reset(self) -> None:
        """Forget every face and the last frame."""
        self.tracks, self.since_detection, self.misses, self._gray = [], 0, 0, None

    def update(self, frame: np.ndarray) -> bool:
        """Follow the faces into ``frame`` (H x W x 3 uint8 RGB); returns whether detection ran.
        The faces are then in :attr:`tracks`, left to right."""
        gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        followed = (bool(self.tracks) and self._gray is not None and self._gray.shape == gray.shape
                    and self._follow(self._gray, gray))
        self._gray = gray
        self.since_detection += 1
        if followed and self.since_detection < self.redetect_every:
            return False
        self._detect(frame, followed)
        return True

    def _follow(self, before: np.ndarray, after: np.ndarray) -> bool:
        """Move every track's landmarks by optical flow; False (tracks left as they were) if a landmark
        is lost or a face moved too fast to trust the flow."""
        points = np.concatenate([t.landmarks for t in self.tracks]).astype(np.float32).reshape(-1, 1, 2)
        flow = dict(winSize=FLOW_WINDOW, maxLevel=FLOW_LEVELS)
        moved, found, _ = cv2.calcOpticalFlowPyrLK(before, after, points, None, **flow)
        back, found_back, _ = cv2.calcOpticalFlowPyrLK(after, before, moved, None, **flow)
        if not (found.all() and found_back.all()):
            return False
        moved, error = moved.reshape(-1, 5, 2), np.linalg.norm(back - points, axis=2).reshape(-1, 5)
        new = []
        for track, landmarks, err in zip(self.tracks, moved.astype(np.float64), error):
            scale = eye_distance(track.landmarks)
            step = float(np.linalg.norm(landmarks - track.landmarks, axis=1).mean())
            if err.max() > MAX_FLOW_ERROR * scale or step > REDETECT_MOVE * scale:
                return False
            new.append(landmarks)
        for track, landmarks in zip(self.tracks, new):
            shift = (landmarks - track.landmarks).mean(axis=0)
            track.box = track.box + np.tile(shift, 2)
            track.landmarks = landmarks
            track.smoothed = smooth_landmarks(track.smoothed, landmarks)
        return True

    def _detect(self, frame: np.ndarray, followed: bool) -> None:
        """Detect afresh; a detection near an existing track continues it (and its smoothing). When
        nothing is found but the flow still follows the faces (``followed``), they are kept for up to
        MAX_MISSES frames, each of which tries again."""
        faces = self.detector.detect(Image.fromarray(frame))
        if not faces and followed and self.misses < MAX_MISSES:
            self.misses += 1
            return
        if len(faces) > self.max_faces:
            faces = sorted(faces, key=lambda f: f.box[0] - f.box[2])[:self.max_faces]  # widest first
        tracks = []
        for face in sorted(faces, key=lambda f: f.box[0] + f.box[2]):
            match = self._nearest(face.landmarks)
            smoothed = face.landmarks if match is None else smooth_landmarks(match.smoothed, face.landmarks)
            tracks.append(Track(face.landmarks, smoothed, face.box))
        self.tracks, self.since_detection, self.misses = tracks, 0, 0

    def _nearest(self, landmarks: np.ndarray) -> Track | None:
        """The track whose face is centred within one eye distance of ``landmarks``' centre, if any."""
        centre = landmarks.mean(axis=0)
        best, best_d = None, eye_distance(landmarks)
        for track in self.tracks:
            d = float(np.linalg.norm(track.landmarks.mean(axis=0) - centre))
            if d < best_d:
                best, best_d = track, d
        return best


@dataclass
class LiveFrame:
    """One processed frame: the picture and what happened to it."""

    image: np.ndarray  # H x W x 3 uint8: the frame, with its faces edited if any change was asked for
    faces: int  # faces found
    edited: bool  # whether the faces were edited (a face was found and a change asked for)
    detected: bool  # whether face detection ran on this frame (else the faces were tracked)


class LiveEditor:
    """Edits the frames of one video stream (it holds that stream's :class:`FaceTracker`). ``bf16``:
    run the encoder and decoder under bfloat16 autocast (default: where the CPU has native bfloat16)."""

    def __init__(self, editor: FaceEditor, detector: FaceDetector, redetect_every: int = REDETECT_EVERY,
                 bf16: bool | None = None) -> None:
        self.editor = editor
        self.tracker = FaceTracker(detector, redetect_every)
        self.bf16 = cpu_has_bf16() if bf16 is None else bf16

    def process(self, frame: np.ndarray, changes: Mapping[str, float]) -> LiveFrame:
        """Track the faces into ``frame`` (H x W x 3 uint8 RGB) and, if ``changes`` asks for any,
        encode, edit, decode and paste each of them. Raises ValueError for bad ``changes``."""
        self.editor.check_changes(changes)
        detected = self.tracker.update(frame)
        faces = [t.face() for t in self.tracker.tracks]
        if not faces or not changes:
            return LiveFrame(frame, len(faces), False, detected)
        return LiveFrame(self.edit(frame, faces, changes), len(faces), True, detected)

    def edit(self, frame: np.ndarray, faces: Sequence[Face], changes: Mapping[str, float]) -> np.ndarray:
        """``frame`` with ``faces`` aligned, encoded, edited, decoded and pasted back (default paste)."""
        aligned, inputs = self.editor.align(frame, faces)
        chosen = list(range(len(faces)))
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            mu, probs, reconstructions = self.editor.encode(inputs)
            analysis = Analysis(frame, aligned, inputs, mu.float(), probs.float(), reconstructions.float(),
                                regions=self.editor.cut_regions(frame, aligned))
            return self.editor.compose(analysis, chosen, changes)[0]
