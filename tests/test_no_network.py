"""The app, started in-process, connects to nothing but loopback while it starts and edits, and refuses
photos given as URLs before Gradio would fetch them."""
import ipaddress
import socket
from pathlib import Path
from typing import Any, Iterator

import gradio as gr
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from model.pipeline import FaceEditor
from tests.app_server import free_port
from web.server import build_app, launch
from web.url_refusal import refuse_urls

pytestmark = pytest.mark.slow

PORTRAIT = Path(__file__).resolve().parent.parent / "examples" / "portrait.jpg"
URL = "https://example.com/face.jpg"


def is_local(address: Any) -> bool:
    """Loopback IPs, "localhost" and Unix socket paths are local."""
    if not isinstance(address, tuple):  # AF_UNIX path
        return True
    host = address[0]
    if host in ("localhost", "", None):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture
def outbound(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every attempt to look up or connect to a non-loopback host; each is refused with OSError."""
    attempts: list[str] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_create_connection, real_getaddrinfo = socket.create_connection, socket.getaddrinfo

    def refuse(what: str) -> OSError:
        attempts.append(what)
        return OSError(f"test: no network ({what})")

    def connect(self: socket.socket, address: Any) -> None:
        if not is_local(address):
            raise refuse(f"connect {address}")
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if not is_local(address):
            raise refuse(f"connect_ex {address}")
        return real_connect_ex(self, address)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        if not is_local(address):
            raise refuse(f"create_connection {address}")
        return real_create_connection(address, *args, **kwargs)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> list:
        if not is_local((host.decode() if isinstance(host, bytes) else host, 0)):
            raise refuse(f"getaddrinfo {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield attempts


def test_the_guard_catches_outbound_attempts(outbound: list[str]) -> None:
    with pytest.raises(OSError, match="no network"):
        socket.create_connection(("93.184.215.14", 443), timeout=1)
    with socket.socket(socket.AF_INET6) as s, pytest.raises(OSError, match="no network"):
        s.connect(("2001:db8::1", 80))
    with socket.socket() as s, pytest.raises(OSError, match="no network"):
        s.connect_ex(("10.1.2.3", 80))
    with pytest.raises(OSError, match="no network"):
        socket.getaddrinfo("example.com", 443)
    assert len(outbound) == 4


def test_serving_and_editing_makes_no_outbound_connection(outbound: list[str], face_editor: FaceEditor) -> None:
    port = free_port()
    demo = build_app(face_editor)
    launch(demo, "127.0.0.1", port, prevent_thread_lock=True)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        _, report = client.predict(handle_file(str(PORTRAIT)), {"Smiling": 1.0}, -1, "detail", api_name="/edit")
        assert len(report["faces"]) == 1
        with pytest.raises(AppError, match="not a URL"):
            client.predict(handle_file(URL), {"Smiling": 1.0}, -1, "detail", api_name="/edit")
        with pytest.raises(AppError, match="not a URL"):  # a file nested anywhere in the arguments
            client.predict(handle_file(str(PORTRAIT)), {"Smiling": handle_file(URL)}, -1, "detail", api_name="/edit")
        _, report = client.predict(handle_file(str(PORTRAIT)), {}, -1, "detail", api_name="/edit")
        assert len(report["faces"]) == 1
    finally:
        demo.close()
    assert outbound == []


def test_refuse_urls_looks_at_every_file_and_only_at_files() -> None:
    def file(path: str) -> dict:
        return {"path": path, "meta": {"_type": "gradio.FileData"}, "url": f"http://127.0.0.1:7860/file={path}"}

    refuse_urls([file("/tmp/gradio/abc/photo.jpg"), {"Smiling": 1.0}, "https://example.com/not-a-file", -1])
    for data in ([file(URL)], [file("/tmp/a.jpg"), {"deep": [file("http://10.0.0.1/x.png")]}]):
        with pytest.raises(gr.Error, match="not a URL"):
            refuse_urls(data)
