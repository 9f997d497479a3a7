"""Limits of the web server: time per request, queue, sessions and request size (the limits on the
photos themselves are the library's, in :mod:`model.limits`)."""
from __future__ import annotations

#: One request (reading, detecting, editing) is abandoned with a message once it has run this long.
#: Within the limits of :mod:`model.limits` a request takes at most ~10 s on 2 cores (a 50-megapixel
#: photo), so this only trips on a starved machine, and keeps it from working on answers nobody waits for.
REQUEST_TIMEOUT_S: float = 60.0

#: Edits run at most this many at a time; further requests wait in a queue of this size.
CONCURRENCY_LIMIT: int = 2
QUEUE_SIZE: int = 32

#: A photo's cached analysis is dropped after this many idle seconds, and at most this many sessions
#: are remembered (the oldest go first). A session holds its photo (up to ~150 MB decoded at
#: model.limits.MAX_IMAGE_PIXELS), so 40 sessions bound that memory to ~6 GB in the worst case.
SESSION_TTL_S: int = 1800
MAX_SESSIONS: int = 40

#: Largest request body outside file uploads (API calls carry a few short fields; uploads are capped
#: at model.limits.MAX_FILE_BYTES by Gradio itself).
MAX_REQUEST_BYTES: int = 1024 * 1024

#: Live tab: at most this many webcam streams are edited at once; a further stream is told the server
#: is busy (its frames are then looked at only every LIVE_BUSY_WAIT_S), and beyond twice as many
#: streams the rest wait in Gradio's queue.
LIVE_STREAMS: int = 2
LIVE_BUSY_WAIT_S: float = 1.0
#: A live stream ends after this many seconds (start it again to go on), so that no one holds a slot.
LIVE_TIME_LIMIT_S: int = 600
#: The browser sends a webcam frame this often (the most a stream is edited: 15 frames a second);
#: frames that arrive while one is being edited replace each other, so only the newest waits.
LIVE_FRAME_INTERVAL_S: float = 1 / 15
#: A stream that sent no frame for this long gives up its place among the LIVE_STREAMS edited ones ...
LIVE_IDLE_S: float = 5.0
#: ... and after this long everything kept of it (its tracker, its last frame) is dropped, as it is
#: when its browser session ends.
LIVE_FORGET_S: float = 120.0
#: Frames larger than this (longer side, pixels) are scaled down before editing.
LIVE_MAX_SIDE: int = 960
