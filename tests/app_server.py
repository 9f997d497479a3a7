"""Run ``python app.py`` in a subprocess, wait until it answers, stop it the way ``docker stop`` does.

Used by the end-to-end tests and by ``benchmark/load_test.py``.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Sequence

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """``python app.py --port <free port> ARGS`` with its own Gradio temp folder and log file.

    ``with AppServer(folder, ["--weights", w]) as server: Client(server.url)``; :meth:`stop` sends
    SIGTERM and waits, so the app's shutdown (and file clean-up) runs.
    """

    def __init__(self, folder: Path, args: Sequence[str] = (), env: dict[str, str] | None = None,
                 start_timeout_s: float = 240.0) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.temp_dir = self.folder / "gradio"  # $GRADIO_TEMP_DIR: uploads, outputs, the app's scratch files
        self.log_path = self.folder / "server.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.args = [sys.executable, "app.py", "--port", str(self.port), *args]
        self.env = {**os.environ, "GRADIO_TEMP_DIR": str(self.temp_dir), **(env or {})}
        self.start_timeout_s = start_timeout_s
        self.proc: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def start(self) -> "AppServer":
        with self.log_path.open("w") as log:
            self.proc = subprocess.Popen(self.args, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.start_timeout_s
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app.py exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url, timeout=5) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"app.py did not answer on {self.url}:\n{self.log()}")
            time.sleep(0.5)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout_s: float = 30.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout_s``; returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def __enter__(self) -> "AppServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
