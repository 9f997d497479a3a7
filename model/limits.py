"""Input limits of the editing library (files, images, faces, paste), in one place: the pipeline, the
CLI and the web app all read them here."""
from __future__ import annotations

#: Largest accepted file, in bytes (uploads are refused above this by the server too).
MAX_FILE_BYTES: int = 25 * 1024 * 1024

#: Largest accepted image, in pixels (width x height); also PIL's decompression-bomb limit.
MAX_IMAGE_PIXELS: int = 50_000_000

#: Images whose longer side exceeds this are scaled down (for detection only; edits keep full size).
DETECT_MAX_SIDE: int = 640

#: Smallest face MTCNN looks for, in pixels of the (scaled-down) detection image.
MIN_FACE_SIZE: int = 20

#: Detections with a lower MTCNN probability are ignored.
MIN_FACE_SCORE: float = 0.9

#: At most this many faces (the largest ones) are edited in one photo.
MAX_FACES: int = 12

#: Side of the high-resolution aligned crop used to paste an edit back is clamped to this range.
PASTE_CROP_RANGE: tuple[int, int] = (64, 1024)
