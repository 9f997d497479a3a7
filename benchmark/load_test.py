"""Load test: many concurrent gradio_client users editing real photos through the real server.

    python -m benchmark.load_test [--weights W] [--clients 16] [--edits 10] [--total 500] [--max-seconds 300]

Starts ``python app.py`` on a free port (its own Gradio temp folder), then ``--clients`` threads, each
with its own ``gradio_client.Client``, call ``/edit`` ``--edits`` times each on the example photos
and the CelebA fixture photos (random attribute changes): the latency phase. The same clients then
go on until ``--total`` edits in all (the soak phase; cut short after ``--max-seconds``). Prints
errors (goal 0), latency percentiles, throughput, the server's memory (VmRSS from
/proc/<pid>/status, goal: flat from the start of the soak to the end) and the disk its files take.
"""
from __future__ import annotations

import argparse
import itertools
import os
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path

from gradio_client import Client, handle_file

from model.pipeline import default_weights
from tests.app_server import REPO, AppServer

PHOTOS = sorted((REPO / "examples").glob("*.jpg")) + sorted(
    (REPO / "tests" / "fixtures" / "celeba_tiny" / "img_align_celeba").glob("*.jpg"))
ATTRIBUTES = ("Smiling", "Eyeglasses", "Bangs", "No_Beard", "Male", "Young")


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak RSS) of a process, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields


def disk_mb(folder: Path) -> tuple[int, float]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files) / 2**20


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


class Load:
    """What the client threads share: the soak phase's budget, the latencies and the errors."""

    def __init__(self, soak_edits: int, deadline: float) -> None:
        self.lock = threading.Lock()
        self.soak_left, self.deadline = soak_edits, deadline
        self.latencies: list[tuple[str, float]] = []  # (phase, seconds)
        self.errors: list[str] = []

    def soak_one(self) -> bool:
        """Claim one more soak edit, unless the budget or the time is spent."""
        with self.lock:
            if self.soak_left <= 0 or time.monotonic() > self.deadline:
                return False
            self.soak_left -= 1
            return True

    @property
    def done(self) -> int:
        with self.lock:
            return len(self.latencies) + len(self.errors)


def client_thread(url: str, seed: int, edits: int, load: Load, phase_barrier: threading.Barrier) -> None:
    """One user: ``edits`` edits, wait for the others, then soak edits while the budget lasts."""
    rng = random.Random(seed)
    photos = itertools.cycle(rng.sample(PHOTOS, len(PHOTOS)))
    client = None

    def one(phase: str) -> None:
        photo = next(photos)
        changes = {a: float(rng.random() < 0.5) for a in rng.sample(ATTRIBUTES, rng.randint(1, 3))}
        t = time.perf_counter()
        try:
            path, report = client.predict(handle_file(str(photo)), changes, -1, "detail", api_name="/edit")
            if not Path(path).is_file() or not report["faces"]:
                raise RuntimeError(f"empty answer for {photo.name}: {report}")
            with load.lock:
                load.latencies.append((phase, time.perf_counter() - t))
        except Exception as e:  # noqa: BLE001 - every failure is counted and shown
            with load.lock:
                load.errors.append(f"{phase} {photo.name}: {type(e).__name__}: {e}")

    try:
        client = Client(url, verbose=False)
        for _ in range(edits):
            one("latency")
    except Exception as e:  # noqa: BLE001 - e.g. the server went away
        with load.lock:
            load.errors.append(f"client {seed}: {type(e).__name__}: {e}")
    finally:
        phase_barrier.wait()
    while client is not None and load.soak_one():
        one("soak")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--weights", default=None, help="checkpoint (default: $IFCVAE_WEIGHTS, else weights/)")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--edits", type=int, default=10, help="edits per client in the latency phase")
    ap.add_argument("--total", type=int, default=500, help="edits in all, latency phase included")
    ap.add_argument("--max-seconds", type=float, default=300.0, help="the soak phase stops after this")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="load-test-") as tmp, \
            AppServer(Path(tmp), ["--weights", args.weights or default_weights()]) as server:
        print(f"server pid {server.pid} on {server.url}; {os.cpu_count()} CPUs, load average "
              f"{os.getloadavg()[0]:.1f} before the test; {len(PHOTOS)} photos")
        warm = Client(server.url, verbose=False)
        for photo in PHOTOS[:4]:  # first requests load lazily-initialised code paths
            warm.predict(handle_file(str(photo)), {"Smiling": 1.0}, -1, "detail", api_name="/edit")
        memory = {"after warm-up": memory_mb(server.pid)}
        start = time.monotonic()
        load = Load(args.total - args.clients * args.edits, start + args.max_seconds)
        barrier = threading.Barrier(args.clients + 1)
        threads = [threading.Thread(target=client_thread, args=(server.url, i, args.edits, load, barrier), daemon=True)
                   for i in range(args.clients)]
        for t in threads:
            t.start()
        barrier.wait()  # every client finished its latency-phase edits
        latency_s = time.monotonic() - start
        memory[f"after {load.done} edits (latency phase)"] = memory_mb(server.pid)
        next_mark = 100 * (load.done // 100 + 1)
        while any(t.is_alive() for t in threads):
            time.sleep(0.2)
            if load.done >= next_mark:
                memory[f"after {load.done} edits"] = memory_mb(server.pid)
                next_mark += 100
        elapsed = time.monotonic() - start
        memory[f"after {load.done} edits (end)"] = memory_mb(server.pid)
        files, megabytes = disk_mb(server.temp_dir)
        alive = server.alive()
        tracebacks = server.log().count("Traceback")

    lat = [s for phase, s in load.latencies if phase == "latency"]
    every = [s for _, s in load.latencies]
    print(f"\nlatency phase: {args.clients} clients x {args.edits} edits in {latency_s:.1f} s "
          f"({len(lat) / latency_s:.2f} edits/s)")
    if lat:
        print(f"  latency p50 {percentile(lat, 50):.2f} s, p95 {percentile(lat, 95):.2f} s, max {max(lat):.2f} s")
    print(f"all phases: {len(every)} edits in {elapsed:.1f} s ({len(every) / elapsed:.2f} edits/s); "
          f"p50 {percentile(every, 50):.2f} s, p95 {percentile(every, 95):.2f} s")
    print(f"errors: {len(load.errors)}; server alive: {alive}; tracebacks in its log: {tracebacks}")
    for e in load.errors[:10]:
        print(f"  {e}")
    print("server memory (VmRSS / peak VmHWM, MB):")
    for when, m in memory.items():
        print(f"  {when:38s} {m['VmRSS']:7.0f} / {m['VmHWM']:7.0f}")
    print(f"Gradio temp folder at the end: {files} files, {megabytes:.0f} MB (deleted after the cache TTL "
          "and at shutdown)")


if __name__ == "__main__":
    main()
