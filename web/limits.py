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
