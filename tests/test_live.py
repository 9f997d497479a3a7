"""The live tab: face tracking and landmark smoothing on real example frames through real MTCNN, the
per-session stream limit, and the real server driven by headless Chromium with a fake webcam (a .y4m
made from an example photo): edited frames, a toggle that changes the next frames, no file written
for the stream, frames dropped rather than queued when they come faster than they are edited, and
nothing of a stream kept after its session. Screenshots go to ``artifacts/`` (not committed)."""
from __future__ import annotations

import base64
import io
import re
import time
from pathlib import Path
from typing import Iterator

import cv2
import gradio as gr
import numpy as np
import pytest
from PIL import Image

from benchmark.live_speed import moving_crops
from model.faces import FaceDetector, crop_matrix, paste_crop_size
from model.live import (REDETECT_EVERY, SMOOTH_FULL_SPEED, SMOOTH_STILL, FaceTracker, LiveEditor, eye_distance,
                        live_detector, smooth_landmarks)
from model.paste import crop_footprint
from model.pipeline import FaceEditor
from tests.app_server import REPO, AppServer, free_port
from web.live_events import NO_FACE, LiveStreams
from web.scratch import ScratchFiles

EXAMPLES = REPO / "examples"
ARTIFACTS = REPO / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic", "--use-fake-ui-for-media-stream",
                 "--use-fake-device-for-media-stream"]
SIZE = (640, 480)
STATUS_JS = "document.querySelector('#live-status').innerText"


# -- helpers ---------------------------------------------------------------------------------------
def still_frame(photo: str = "portrait.jpg") -> np.ndarray:
    """An example photo as one 640 x 480 RGB webcam frame."""
    return np.asarray(Image.open(EXAMPLES / photo).convert("RGB").resize(SIZE, Image.Resampling.LANCZOS))


def write_y4m(path: Path, frames: list[np.ndarray], fps: int = 30) -> Path:
    """Frames as an uncompressed YUV 4:2:0 video, the format Chromium's fake webcam plays (looping)."""
    h, w = frames[0].shape[:2]
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            f.write(b"FRAME\n" + cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420).tobytes())
    return path


def face_region(detector: FaceDetector, frame: np.ndarray) -> np.ndarray:
    """Mask of the frame's pixels that an edit of its one face may change (its aligned crop's footprint)."""
    (face,) = detector.detect(Image.fromarray(frame))
    size = paste_crop_size(face.landmarks)
    x0, y0, x1, y1 = crop_footprint(crop_matrix(face.landmarks, size), size, frame.shape)
    mask = np.zeros(frame.shape[:2], bool)
    mask[y0:y1, x0:x1] = True
    return mask


def decode_data_url(url: str) -> np.ndarray:
    assert url.startswith("data:image/jpeg;base64,"), url[:40]
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB"))


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def launch_chromium(playwright, camera: Path):
    return playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                      args=[*CHROMIUM_ARGS, f"--use-file-for-fake-video-capture={camera}"])


def start_camera(page) -> None:
    """Open the Live tab, allow the webcam and press Record."""
    page.get_by_role("tab", name="Live").click()
    page.locator("#live-camera div[title='grant webcam access'] button").click()
    page.locator("#live-camera button.capture-button").click(timeout=30_000)


def next_view(page, old: str | None, timeout_ms: int = 60_000) -> str:
    """Wait for the edited view to show a frame other than ``old``; return its data URL."""
    page.wait_for_function("old => { const i = document.querySelector('#live-view img');"
                           " return i && i.src.startsWith('data:') && i.src !== old; }", arg=old, timeout=timeout_ms)
    return page.locator("#live-view img").get_attribute("src")


def wait_status(page, text: str, timeout_ms: int = 60_000) -> None:
    page.wait_for_function(f"t => {STATUS_JS}.includes(t)", arg=text, timeout=timeout_ms)


# -- tracking and smoothing ------------------------------------------------------------------------
def test_smoothing_holds_a_still_face_and_follows_a_fast_one() -> None:
    rng = np.random.default_rng(0)
    landmarks = np.array([[100, 100], [160, 100], [130, 135], [105, 165], [155, 165]], float)
    jitter = rng.normal(0, 0.5, landmarks.shape)  # a hundredth of the eye distance
    still = smooth_landmarks(landmarks, landmarks + jitter)
    assert np.allclose(still - landmarks, jitter * (SMOOTH_STILL + (1 - SMOOTH_STILL) * np.linalg.norm(
        jitter, axis=1).mean() / eye_distance(landmarks) / SMOOTH_FULL_SPEED))
    moved = landmarks + SMOOTH_FULL_SPEED * eye_distance(landmarks) * np.array([1.0, 0.0])
    assert np.allclose(smooth_landmarks(landmarks, moved), moved)


def test_tracker_follows_a_moving_face_with_few_detections(face_detector: FaceDetector) -> None:
    frames = moving_crops(EXAMPLES / "portrait.jpg", 40)
    tracker = FaceTracker(live_detector())
    detections = 0
    for frame in frames:
        detections += tracker.update(frame)
        (track,) = tracker.tracks
        (truth,) = face_detector.detect(Image.fromarray(frame))  # full-size MTCNN on every frame
        error = np.linalg.norm(track.smoothed - truth.landmarks, axis=1).mean() / eye_distance(truth.landmarks)
        assert error < 0.1
    assert len(frames) // REDETECT_EVERY <= detections <= len(frames) // REDETECT_EVERY + 4


def test_smoothed_landmarks_jitter_less_than_detections() -> None:
    """A still face under sensor noise: the tracked, smoothed landmarks move less than detecting afresh."""
    rng = np.random.default_rng(1)
    frame = still_frame().astype(np.float32)
    frames = [np.clip(frame + rng.normal(0, 8, frame.shape), 0, 255).astype(np.uint8) for _ in range(30)]
    detector = live_detector()
    tracker = FaceTracker(detector)
    tracked, detected = [], []
    for f in frames:
        tracker.update(f)
        tracked.append(tracker.tracks[0].smoothed)
        detected.append(detector.detect(Image.fromarray(f))[0].landmarks)

    def jitter(points: list[np.ndarray]) -> float:
        return float(np.linalg.norm(np.diff(np.stack(points[5:]), axis=0), axis=2).mean())

    assert jitter(detected) > 0.2  # the noise does move the detections
    assert jitter(tracked) < 0.5 * jitter(detected)


def test_tracker_detects_again_when_the_face_jumps() -> None:
    photo = np.asarray(Image.open(EXAMPLES / "portrait.jpg").convert("RGB"))
    here, there = photo[100:580, 200:840], photo[100:580, 300:940]  # the face 100 px further left
    tracker = FaceTracker(live_detector())
    assert tracker.update(here)
    assert not tracker.update(here)
    before = tracker.tracks[0].landmarks.copy()
    assert tracker.update(there)  # optical flow cannot follow a jump: detected afresh
    shift = (tracker.tracks[0].landmarks - before).mean(axis=0)
    assert abs(shift[0] + 100) < 5 and abs(shift[1]) < 5


# -- editing frames --------------------------------------------------------------------------------
def test_live_editor_edits_the_face_only_and_passes_faceless_frames(face_editor: FaceEditor,
                                                                   face_detector: FaceDetector) -> None:
    live = LiveEditor(face_editor, live_detector())
    frame = still_frame()
    out = live.process(frame, {"Eyeglasses": 1.0})
    assert out.faces == 1 and out.edited
    diff = (out.image != frame).any(axis=-1)
    inside = face_region(face_detector, frame)
    assert diff[inside].mean() > 0.05 and not diff[~inside].any()
    assert np.array_equal(live.process(frame, {}).image, frame)  # nothing asked: nothing changed
    empty = np.ascontiguousarray(np.asarray(Image.open(EXAMPLES / "portrait.jpg").convert("RGB"))[:240, :320])
    out = live.process(empty, {"Eyeglasses": 1.0})
    assert out.faces == 0 and not out.edited and np.array_equal(out.image, empty)


def test_streams_over_the_limit_are_told_the_server_is_busy(face_editor: FaceEditor) -> None:
    streams = LiveStreams(face_editor, ScratchFiles(), max_streams=1, busy_wait_s=0.0)
    n = len(face_editor.attributes)
    eyeglasses = [a == "Eyeglasses" for a in face_editor.attributes] + [1.0] * n
    frame = still_frame()
    url, status = streams.edit_frame("a", frame, *eyeglasses)
    assert status.startswith("Editing 1 face: Eyeglasses 1.00")
    assert not np.array_equal(decode_data_url(url), frame)
    image, status = streams.edit_frame("b", frame, *eyeglasses)
    assert isinstance(image, type(gr.skip())) and "server is busy" in status
    streams.forget("a")  # its session ended
    assert "a" not in streams.sessions
    _, status = streams.edit_frame("b", frame, *eyeglasses)
    assert status.startswith("Editing")
    empty = np.full((480, 640, 3), 128, np.uint8)
    url, status = streams.edit_frame("b", empty, *eyeglasses)
    assert status == NO_FACE and np.abs(decode_data_url(url).astype(int) - 128).max() <= 2


def test_bad_control_values_get_a_message_and_the_frame_unedited(face_editor: FaceEditor) -> None:
    streams = LiveStreams(face_editor, ScratchFiles())
    n = len(face_editor.attributes)
    frame = still_frame()
    for value in (5.0, "lots"):
        url, status = streams.edit_frame("a", frame, True, *[False] * (n - 1), value, *[1.0] * (n - 1))
        assert status.startswith("**Cannot edit:**") and decode_data_url(url).shape == frame.shape


# -- the real server in Chromium -------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(weights_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    with AppServer(tmp_path_factory.mktemp("live-server"), ["--weights", str(weights_dir)]) as app:
        yield app


@pytest.mark.slow
def test_live_tab_edits_the_webcam_in_chromium(server: AppServer, face_detector: FaceDetector,
                                               tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    frame = still_frame()
    sent = frame[:, ::-1]  # the page mirrors the webcam, as a mirror would
    inside = face_region(face_detector, np.ascontiguousarray(sent))
    camera = write_y4m(tmp_path / "camera.y4m", [frame])

    def face_change(url: str) -> tuple[float, float]:
        """Shares of the pixels inside and outside the face's region that differ from the frame sent by
        more than the two JPEG encodings do (25 levels)."""
        diff = np.abs(decode_data_url(url).astype(np.int16) - sent.astype(np.int16)).max(axis=-1) > 25
        return float(diff[inside].mean()), float(diff[~inside].mean())

    ARTIFACTS.mkdir(exist_ok=True)
    hosts = set()
    with sync_playwright() as p:
        browser = launch_chromium(p, camera)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 1000})
            page.on("request", lambda r: hosts.add(r.url.split("/")[2]))
            page.goto(server.url)
            page.get_by_role("tab", name="Live").click()
            assert "never written to disk or logged" in page.locator("#live-privacy").inner_text()
            files_before = files_under(server.temp_dir)
            start_camera(page)
            wait_status(page, "Tracking 1 face")
            unedited = next_view(page, None)
            inner, outer = face_change(unedited)
            assert inner < 0.01 and outer < 0.01  # the camera's own frame

            page.locator("#live-toggle-Eyeglasses input").click()
            wait_status(page, "Editing 1 face: Eyeglasses 1.00")
            edited = next_view(page, unedited)
            inner, outer = face_change(edited)
            assert inner > 0.03 and outer < 0.01  # the face changed, nothing else
            page.screenshot(path=str(ARTIFACTS / "live_tab.png"))

            page.locator("#live-value-Eyeglasses input[type=number]").fill("1.5")
            page.locator("#live-value-Eyeglasses input[type=number]").press("Enter")
            wait_status(page, "Eyeglasses 1.50")
            other = next_view(page, edited)
            assert other != edited and face_change(other)[0] > 0.03

            page.locator("#live-toggle-Eyeglasses input").click()  # off: the next frames are the camera's
            wait_status(page, "Tracking 1 face")
            again = next_view(page, other)
            assert face_change(again)[0] < 0.01

            assert files_under(server.temp_dir) == files_before  # the stream wrote nothing
            assert "data:image" not in server.log() and "base64" not in server.log()

            page.locator("#live-hold").click()  # the current frame goes to the photo tab's editor
            page.wait_for_function("document.querySelector('#status').innerText.includes('Found 1 face')",
                                   timeout=60_000)
            assert page.locator("#photo img").count() == 1
        finally:
            browser.close()
    assert hosts == {server.url.split("/")[2]}


@pytest.mark.slow
def test_frames_are_dropped_not_queued_and_forgotten_with_the_session(
        face_editor: FaceEditor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With editing slowed to 0.4 s a frame (six frames sent meanwhile), the frames that arrive in the
    meantime replace each other: once the camera stops, no backlog is edited. When the page closes,
    the stream's state and Gradio's copies of its last frames are gone."""
    from playwright.sync_api import sync_playwright

    from web.server import build_app, launch

    started: list[float] = []
    edit = LiveEditor.process

    def slow(self, frame, changes):
        started.append(time.monotonic())
        time.sleep(0.4)
        return edit(self, frame, changes)

    monkeypatch.setattr(LiveEditor, "process", slow)
    demo = build_app(face_editor)
    port = free_port()
    launch(demo, "127.0.0.1", port, prevent_thread_lock=True)
    streams = next(f.fn.__self__ for f in demo.fns.values() if getattr(f.fn, "__name__", "") == "stream")
    camera = write_y4m(tmp_path / "camera.y4m", [still_frame()])
    posted: list[float] = []
    try:
        with sync_playwright() as p:
            browser = launch_chromium(p, camera)
            page = browser.new_page(viewport={"width": 1366, "height": 1000})
            page.on("request", lambda r: posted.append(time.monotonic())
                    if r.method == "POST" and re.search(r"/stream/[^/]+$", r.url) else None)
            page.goto(f"http://127.0.0.1:{port}/")
            start_camera(page)
            next_view(page, None)
            time.sleep(4)
            page.locator("#live-camera button.capture-button").click()  # Stop
            stopped = time.monotonic()
            time.sleep(2)
            sent = sum(t < stopped for t in posted)
            edited = sum(t < stopped for t in started)
            assert sent >= 2 * edited  # most frames were never edited ...
            assert sum(t > stopped for t in started) <= 1  # ... and none waited to be edited later
            session = next(iter(streams.sessions))
            holder = demo.state_holder.session_data[session]
            assert any("data:image" in str(v) for v in holder.config_values.values())
            page.close()
            deadline = time.monotonic() + 30
            while streams.sessions and time.monotonic() < deadline:
                time.sleep(0.2)
            assert not streams.sessions  # the session ended: its stream is forgotten ...
            assert not any("data:image" in str(v) for v in holder.config_values.values())  # ... frames too
            browser.close()
    finally:
        demo.close()
