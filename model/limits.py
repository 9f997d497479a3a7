"""Input limits of the editor, in one place (the app, the CLI and the pipeline all read them here)."""
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

#: One request (reading, detecting, editing) is abandoned with a message once it has run this long.
#: Within the limits above a request takes at most ~10 s on 2 cores (a 50-megapixel photo), so this
#: only trips on a starved machine, and keeps it from working on answers nobody waits for.
REQUEST_TIMEOUT_S: float = 60.0

#: Web app: edits run at most this many at a time; further requests wait in a queue of this size.
CONCURRENCY_LIMIT: int = 2
QUEUE_SIZE: int = 32

#: Web app: a photo's cached analysis is dropped after this many idle seconds, and at most this
#: many sessions are remembered (the oldest go first). A session holds its photo (up to ~150 MB
#: decoded at MAX_IMAGE_PIXELS), so 40 sessions bound that memory to ~6 GB in the worst case.
SESSION_TTL_S: int = 1800
MAX_SESSIONS: int = 40

#: Web app: largest request body outside file uploads (API calls carry a few short fields; uploads
#: are capped at MAX_FILE_BYTES by Gradio itself).
MAX_REQUEST_BYTES: int = 1024 * 1024
