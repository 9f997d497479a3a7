"""Replay a synthesised 640 x 480 face video through the live tab's per-frame function; print the end-to-end
frames per second and frame latency, for one client and for several streaming at once.

    python -m benchmark.live_speed [--weights W] [--frames 150] [--clients 1 2] [--threads 0]

The video is an example photo seen through a moving, zooming, slightly turning 640 x 480 window
(:func:`moving_crops`; generated, nothing is stored). Each frame goes the way a webcam frame goes
through the server: a JPEG data URL as the browser sends it, the camera component's own decoding,
:meth:`web.live_events.LiveStreams.edit_frame` (tracking, encoding, decoding, pasting, JPEG data URL
back) and the view component's postprocessing. Each client replays the frames back to back, as a
camera faster than the server does (the server always takes the newest frame), so its fps is the
rate at which frames are edited; latency is one frame's time from data URL in to data URL out.
Then it times each stage of one client's frames (the encoder and decoder also in the other
precision, bfloat16 or float32, on the same frames) and adds the stages up: with their fastest
times, an estimate for an idle machine when other processes share the CPU. The last line is
``fps <one client's fps>``.
"""
from __future__ import annotations

import argparse
import base64
import os
import statistics
import threading
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
import torch
from gradio.data_classes import ImageData
from PIL import Image

from model.live import REDETECT_EVERY, cpu_has_bf16
from model.pipeline import FaceEditor, default_weights
from web.live_events import LiveStreams, data_url
from web.live_tab import live_camera, live_view
from web.scratch import ScratchFiles

REPO = Path(__file__).resolve().parent.parent
SIZE = (640, 480)
BROWSER_JPEG_QUALITY = 92  # canvas.toDataURL("image/jpeg")'s default
WARMUP = 10  # frames per client not counted (first detection, first model calls)
CHANGES = {"Eyeglasses": 1.0}
STAGES = ("decode the browser's JPEG", "detect (MTCNN, scaled down)", "track (optical flow)",
          "align, encode, decode, paste", "encode the JPEG sent back")


def moving_crops(photo: Path, frames: int, size: tuple[int, int] = SIZE, seed: int = 0) -> list[np.ndarray]:
    """``frames`` RGB frames of ``size`` showing ``photo`` through a window that drifts, zooms and turns
    smoothly around the photo's centre (up to ~6 px a frame), as a head moves before a webcam."""
    image = np.asarray(Image.open(photo).convert("RGB"))
    h, w = image.shape[:2]
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, 2 * np.pi, 4)
    base = min(w / size[0], h / size[1]) * 0.8  # photo pixels per frame pixel, leaving room to move
    out = []
    for i in range(frames):
        t = i / 15.0  # seconds at 15 fps
        cx = w / 2 + 0.08 * w * np.sin(0.9 * t + phase[0])
        cy = h / 2 + 0.05 * h * np.sin(1.3 * t + phase[1])
        scale = base * (1.0 + 0.12 * np.sin(0.7 * t + phase[2]))
        angle = 5.0 * np.sin(0.5 * t + phase[3])
        # frame pixel -> photo pixel: rotate and scale about the frame centre onto (cx, cy)
        m = cv2.getRotationMatrix2D((size[0] / 2, size[1] / 2), angle, scale)
        m[:, 2] += np.array([cx, cy]) - np.array([size[0] / 2, size[1] / 2])
        out.append(cv2.warpAffine(image, m, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                  borderMode=cv2.BORDER_REFLECT))
    return out


def browser_payload(frame: np.ndarray) -> ImageData:
    """A frame as the browser sends it: a JPEG data URL."""
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY,
                                                                               BROWSER_JPEG_QUALITY])
    assert ok
    return ImageData(url="data:image/jpeg;base64," + base64.b64encode(jpeg.tobytes()).decode("ascii"))


class Replay:
    """The server side of the live tab (the same components and handler as the app) for replaying frames."""

    def __init__(self, editor: FaceEditor) -> None:
        self.streams = LiveStreams(editor, ScratchFiles(), max_streams=8)
        self.camera, self.view = live_camera(), live_view()
        attributes = editor.attributes
        self.values = [a in CHANGES for a in attributes] + [CHANGES.get(a, 1.0) for a in attributes]

    def frame(self, session: str, payload: ImageData) -> str:
        """One frame, data URL in, data URL out; returns the status line."""
        array = self.camera.preprocess(payload)
        url, status = self.streams.edit_frame(session, array, *self.values)
        self.view.postprocess(url)
        return status

    def client(self, session: str, payloads: list[ImageData], latencies: list[float], spans: list[float],
               start: threading.Barrier) -> None:
        for payload in payloads[:WARMUP]:
            self.frame(session, payload)
        start.wait(timeout=600)
        t0 = time.perf_counter()
        for payload in payloads[WARMUP:]:
            t = time.perf_counter()
            status = self.frame(session, payload)
            latencies.append(time.perf_counter() - t)
            if not status.startswith("Editing"):
                raise RuntimeError(f"frame not edited: {status}")
        spans.append(time.perf_counter() - t0)


def replay(editor: FaceEditor, payloads: list[ImageData], clients: int) -> tuple[list[float], list[list[float]]]:
    """Each of ``clients`` threads replays ``payloads`` as its own session, all at once; returns each
    client's fps and frame latencies."""
    rig = Replay(editor)
    latencies: list[list[float]] = [[] for _ in range(clients)]
    spans: list[list[float]] = [[] for _ in range(clients)]
    start = threading.Barrier(clients)
    threads = [threading.Thread(target=rig.client, args=(f"client-{k}", payloads, latencies[k], spans[k], start))
               for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if any(not s for s in spans):
        raise RuntimeError("a client failed")
    return [len(lat) / s[0] for lat, s in zip(latencies, spans)], latencies


def stage_times(editor: FaceEditor, frames: list[np.ndarray], payloads: list[ImageData]) -> dict[str, list[float]]:
    """Each stage of the per-frame work, timed on its own over one client's frames (seconds)."""
    rig = Replay(editor)
    live = rig.streams.session("stages")[0].live
    tracker = live.tracker
    times: dict[str, list[float]] = defaultdict(list)
    for i, (frame, payload) in enumerate(zip(frames, payloads)):
        t0 = time.perf_counter()
        array = rig.camera.preprocess(payload)
        t1 = time.perf_counter()
        tracker.reset()
        tracker.update(array)  # always detects: no faces to follow
        t2 = time.perf_counter()
        tracker.update(frames[min(i + 1, len(frames) - 1)])  # the next frame, followed by optical flow
        t3 = time.perf_counter()
        faces = [t.face() for t in tracker.tracks]
        image = live.edit(array, faces, CHANGES)
        t4 = time.perf_counter()
        data_url(image)
        t5 = time.perf_counter()
        live.bf16 = not live.bf16  # the other precision on the same frame, for comparison
        t = time.perf_counter()
        live.edit(array, faces, CHANGES)
        other = time.perf_counter() - t
        live.bf16 = not live.bf16
        if i >= WARMUP:
            for stage, seconds in zip(STAGES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
                times[stage].append(seconds)
            times[f"{STAGES[3]} ({'fp32' if live.bf16 else 'bf16'})"].append(other)
    return times


def per_frame(times: dict[str, float], redetect_every: int) -> float:
    """Seconds per frame from stage times, detection running on one frame in ``redetect_every``."""
    decode, detect, track, edit, encode = (times[s] for s in STAGES)
    return decode + (detect + (redetect_every - 1) * track) / redetect_every + edit + encode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default=None, help="checkpoint (default: $IFCVAE_WEIGHTS, else weights/)")
    ap.add_argument("--frames", type=int, default=150, help="frames per client, after %d warm-up frames" % WARMUP)
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 2], help="numbers of clients streaming at once")
    ap.add_argument("--photo", type=Path, default=REPO / "examples" / "portrait.jpg")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default, as the app)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    editor = FaceEditor.load(args.weights or default_weights())
    frames = moving_crops(args.photo, args.frames + WARMUP)
    payloads = [browser_payload(f) for f in frames]
    print(f"{SIZE[0]} x {SIZE[1]} video of {args.photo.name} ({len(frames)} frames, 1 face), edit {CHANGES}, "
          f"torch threads {torch.get_num_threads()}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f} at the start")
    fps_one = None
    for clients in args.clients:
        fps, latencies = replay(editor, payloads, clients)
        lat = [x for client in latencies for x in client]
        p50, p95 = np.percentile(lat, 50) * 1000, np.percentile(lat, 95) * 1000
        print(f"{clients} client(s) at once: fps per client {', '.join(f'{f:.1f}' for f in fps)} "
              f"(total {sum(fps):.1f}); frame latency p50 {p50:.0f} ms, p95 {p95:.0f} ms")
        if clients == 1:
            fps_one = fps[0]
    times = stage_times(editor, frames, payloads)
    print(f"stages of one client's frames, median / fastest (the app's precision here: "
          f"{'bf16' if cpu_has_bf16() else 'fp32'}):")
    for stage, values in times.items():
        print(f"  {stage:37s} {statistics.median(values) * 1000:6.1f} / {min(values) * 1000:6.1f} ms")
    for name, pick in (("median", statistics.median), ("fastest", min)):
        seconds = per_frame({s: pick(v) for s, v in times.items()}, REDETECT_EVERY)
        print(f"sum of the {name} stage times (detection every {REDETECT_EVERY} frames): {seconds * 1000:.1f} ms "
              f"a frame, {1 / seconds:.1f} fps")
    if fps_one is not None:
        print(f"fps {fps_one:.1f}")


if __name__ == "__main__":
    main()
