"""What the live tab's events do: edit each webcam frame of a session's stream, hand a frame to the
photo tab, and forget the stream when its session ends.

A stream's state (its :class:`model.live.LiveEditor`, which tracks the faces, and its newest frame,
for "Hold frame") is kept in memory only, per browser session, and dropped when the session ends
or has sent no frame for LIVE_FORGET_S. Frames are never written to disk or logged: they arrive as
JPEG data URLs, are decoded in memory, and go back as JPEG data URLs (:func:`data_url`).
"""
from __future__ import annotations

import base64
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import cv2
import gradio as gr
import numpy as np

from model.live import LiveEditor, live_detector
from model.pipeline import FaceEditor

from .limits import LIVE_BUSY_WAIT_S, LIVE_FORGET_S, LIVE_IDLE_S, LIVE_MAX_SIDE, LIVE_STREAMS
from .scratch import ScratchFiles

JPEG_QUALITY = 85  # of the frames sent back
NOT_STARTED = "Start the camera to see yourself edited live."
NO_FACE = "No face in view: the camera is shown unedited."
NO_FRAME = "Start the camera first: there is no frame to hold."
HELD = "Frame held: it is now the photo in the Photo tab."


def data_url(image: np.ndarray, quality: int = JPEG_QUALITY) -> str:
    """An H x W x 3 uint8 RGB image as a JPEG ``data:`` URL (encoded in memory)."""
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("could not encode the frame as JPEG")
    return "data:image/jpeg;base64," + base64.b64encode(jpeg.tobytes()).decode("ascii")


def within_size(frame: np.ndarray, max_side: int = LIVE_MAX_SIDE) -> np.ndarray:
    """An RGB ``frame``, scaled down (area-averaged) if its longer side exceeds ``max_side``."""
    h, w = frame.shape[:2]
    if max(h, w) <= max_side:
        return np.ascontiguousarray(frame)
    scale = max_side / max(h, w)
    return cv2.resize(frame, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


def busy_message(streams: int) -> str:
    return (f"**The server is busy:** it is editing {streams} live streams, the most it can at once. Your camera "
            "is not being edited; this starts by itself as soon as one of them stops, or try again in a minute.")


def describe(changes: dict[str, float]) -> str:
    return ", ".join(f"{name.replace('_', ' ')} {value:.2f}" for name, value in changes.items())


@dataclass
class LiveSession:
    """What is kept of one browser session's stream, in memory only."""

    live: LiveEditor
    frame: np.ndarray | None = None  # the newest frame as received (for "Hold frame")
    last_seen: float = field(default_factory=time.monotonic)
    admitted: bool = False  # among the LIVE_STREAMS streams being edited


class LiveStreams:
    """The live tab's handlers around one editor: one :class:`LiveSession` per browser session, at most
    ``max_streams`` of them edited at once."""

    def __init__(self, editor: FaceEditor, scratch: ScratchFiles, max_streams: int = LIVE_STREAMS,
                 busy_wait_s: float = LIVE_BUSY_WAIT_S) -> None:
        self.editor, self.scratch = editor, scratch
        self.attributes = editor.attributes
        self.detector = live_detector()  # shared: MTCNN keeps no state between calls
        self.max_streams, self.busy_wait_s = max_streams, busy_wait_s
        self.sessions: dict[str, LiveSession] = {}
        self.lock = threading.Lock()

    # -- sessions --------------------------------------------------------------------------
    def session(self, session_id: str) -> tuple[LiveSession, int]:
        """The session's stream state (made on its first frame) and, if it is not among those being
        edited, how many are (0 when it is). Forgets sessions idle for LIVE_FORGET_S on the way."""
        now = time.monotonic()
        with self.lock:
            for key in [k for k, s in self.sessions.items() if now - s.last_seen > LIVE_FORGET_S]:
                del self.sessions[key]
            for s in self.sessions.values():
                if s.admitted and now - s.last_seen > LIVE_IDLE_S:
                    s.admitted = False
            session = self.sessions.get(session_id)
            if session is None:
                session = self.sessions[session_id] = LiveSession(LiveEditor(self.editor, self.detector))
            session.last_seen = now
            if not session.admitted:
                editing = sum(s.admitted for s in self.sessions.values())
                if editing >= self.max_streams:
                    return session, editing
                session.admitted = True
            return session, 0

    def forget(self, session_id: str) -> None:
        """Drop everything kept of a session's stream."""
        with self.lock:
            self.sessions.pop(session_id, None)

    def changes(self, values: tuple) -> dict[str, float]:
        """The edit the controls ask for: ``values`` = the toggles, then the sliders; an attribute is
        set to its slider's value when its toggle is on."""
        n = len(self.attributes)
        toggles, sliders = values[:n], values[n:2 * n]
        try:
            return {a: float(v) for a, on, v in zip(self.attributes, toggles, sliders) if on}
        except (TypeError, ValueError):
            raise ValueError("the intensities must be numbers") from None

    # -- the per-frame function --------------------------------------------------------------
    def edit_frame(self, session_id: str, frame: np.ndarray | None, *values: bool | float) -> tuple[Any, str]:
        """One webcam frame (RGB) of a session's stream -> (the frame, edited, as a JPEG data URL; the
        status line). ``values``: the toggles, then the sliders. A stream over the limit gets
        ``gr.skip()`` (the view keeps its picture), a message, and a pause of ``busy_wait_s`` (its newer
        frames replace each other meanwhile)."""
        if frame is None:
            return None, NOT_STARTED
        start = time.perf_counter()
        session, editing = self.session(session_id)
        if editing:
            time.sleep(self.busy_wait_s)
            return gr.skip(), busy_message(editing)
        frame = within_size(frame)
        session.frame = frame
        try:
            changes = self.changes(values)
            out = session.live.process(frame, changes)
        except ValueError as e:  # intensities that are not numbers or out of range
            return data_url(frame), f"**Cannot edit:** {e}."
        image = data_url(out.image)
        ms = (time.perf_counter() - start) * 1000
        if not out.faces:
            return image, NO_FACE
        faces = "1 face" if out.faces == 1 else f"{out.faces} faces"
        if not out.edited:
            return image, f"Tracking {faces}. Switch an attribute on to edit it."
        return image, f"Editing {faces}: {describe(changes)} ({ms:.0f} ms per frame)."

    # -- handlers ----------------------------------------------------------------------------
    def stream(self, request: gr.Request, frame: np.ndarray | None, *values: bool | float) -> tuple[Any, str]:
        """The webcam stream's handler (see :meth:`edit_frame`)."""
        return self.edit_frame(request.session_hash or "", frame, *values)

    def hold(self, request: gr.Request) -> tuple:
        """"Hold frame": the session's newest frame becomes the photo tab's photo (a PNG in the scratch
        folder, like an edited photo) and that tab is shown. Updates the photo, the tabs and the status."""
        with self.lock:
            session = self.sessions.get(request.session_hash or "")
        frame = None if session is None else session.frame
        if frame is None:
            return gr.skip(), gr.skip(), NO_FRAME
        return self.scratch.png(frame, "live-frame"), gr.Tabs(selected="photo"), HELD

    def unload(self, forget_values: Callable[[str], None]) -> Callable[[gr.Request], None]:
        """The handler for the end of a browser session: forget its stream, and (``forget_values``)
        the frames Gradio keeps as the session's last values of the live components."""
        def fn(request: gr.Request) -> None:
            self.forget(request.session_hash or "")
            forget_values(request.session_hash or "")
        return fn
