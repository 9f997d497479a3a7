"""Whatever is uploaded, the real server (``python app.py``) answers ``/edit`` with an edit or a clear
message, keeps answering, logs no traceback, and deletes what it stored when it shuts down."""
import re
from pathlib import Path
from typing import Iterator

import httpx
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image, ImageOps

from model.limits import MAX_FILE_BYTES
from tests.app_server import AppServer
from tests.hostile_corpus import PORTRAIT, Case, build
from web.limits import MAX_REQUEST_BYTES

pytestmark = pytest.mark.slow

EXAMPLES = PORTRAIT.parent


@pytest.fixture(scope="module")
def server(weights_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    with AppServer(tmp_path_factory.mktemp("hostile"), ["--weights", str(weights_dir)]) as server:
        yield server


@pytest.fixture(scope="module")
def client(server: AppServer) -> Client:
    return Client(server.url, verbose=False)


def send(client: Client, photo: Path) -> tuple[str, object]:
    """("edited", (png path, report)), ("refused", message) or ("crash", what happened)."""
    try:
        return "edited", client.predict(handle_file(str(photo)), {"Smiling": 1.0}, -1, "detail", api_name="/edit")
    except AppError as e:
        return "refused", str(e)
    except Exception as e:  # noqa: BLE001 - anything else is a crash, counted and reported
        if isinstance(e, ValueError) and "maximum file size" in str(e):  # gradio_client applies the
            return "refused", str(e)  # server's max_file_size before uploading
        return "crash", f"{type(e).__name__}: {e}"


def problem(case: Case, outcome: str, detail: object) -> str | None:
    """Why this answer is not sensible for this case, or None."""
    if outcome == "refused":
        if case.refusal is None or not re.search(case.refusal, str(detail)):
            return f"refused with {detail!r}, expected {'an edit' if case.refusal is None else case.refusal!r}"
        return None
    if outcome != "edited":
        return f"crashed: {detail}"
    if not case.edited:
        return f"edited, expected a refusal matching {case.refusal!r}"
    png, report = detail
    with Image.open(case.path) as im:
        upright = ImageOps.exif_transpose(im).size
    with Image.open(png) as out:
        if out.format != "PNG" or out.size != upright:
            return f"edited to a {out.format} of {out.size}, expected a PNG of {upright}"
    if len(report["faces"]) != case.faces:
        return f"{len(report['faces'])} faces edited, expected {case.faces}"
    return None


def test_hostile_corpus_gets_an_edit_or_a_clear_message(server: AppServer, client: Client, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture) -> None:
    cases = build(tmp_path / "corpus")
    counts = {"edited": 0, "refused": 0, "crash": 0}
    rows, problems = [], []
    for case in cases:
        outcome, detail = send(client, case.path)
        counts[outcome] += 1
        shown = f"{len(detail[1]['faces'])} face(s)" if outcome == "edited" else str(detail)[:110]
        rows.append(f"  {case.name:42s} {outcome:8s} {shown}")
        if (why := problem(case, outcome, detail)) is not None:
            problems.append(f"{case.name}: {why}")
        normal, result = send(client, PORTRAIT)  # the server still answers a normal request
        if normal != "edited":
            problems.append(f"after {case.name}: a normal photo got {normal}: {result}")
    summary = (f"hostile corpus: {len(cases)} inputs, {counts['edited']} edited, "
               f"{counts['refused']} refused with a message, {counts['crash']} crashes")
    with capsys.disabled():
        print("\n" + summary + "\n" + "\n".join(rows))
    assert not problems, "\n".join(problems)
    assert server.alive()
    assert "Traceback" not in server.log(), server.log()


@pytest.mark.parametrize("args, message", [
    (("photo.jpg", {}), "expected the photo as a file"),
    ((None, {}), "expected the photo as a file"),
    (({"path": "photo.jpg"}, {}), "expected the photo as a file"),
])
def test_endpoint_explains_malformed_arguments(server: AppServer, client: Client, args: tuple,
                                               message: str) -> None:
    with pytest.raises(AppError, match=message):
        client.predict(*args, -1, "detail", api_name="/edit")
    assert send(client, PORTRAIT)[0] == "edited"
    assert "Traceback" not in server.log(), server.log()


def test_server_refuses_an_upload_over_the_limit(server: AppServer) -> None:
    """Raw HTTP, past gradio_client's own check: the server stops reading at MAX_FILE_BYTES."""
    body = b"\xff\xd8" + bytes(MAX_FILE_BYTES)
    r = httpx.post(server.url + "gradio_api/upload", files={"files": ("big.jpg", body, "image/jpeg")}, timeout=60)
    assert r.status_code == 413 and "maximum allowed size" in r.text
    assert server.alive()


def test_server_refuses_an_oversized_api_call(server: AppServer, client: Client) -> None:
    """A huge JSON body (with or without Content-Length) gets 413 before Gradio reads it into memory."""
    big = b'{"data": ["' + b"x" * (2 * MAX_REQUEST_BYTES) + b'"]}'
    url = server.url + "gradio_api/call/edit"
    r = httpx.post(url, content=big, headers={"content-type": "application/json"}, timeout=60)
    assert r.status_code == 413 and "too large" in r.json()["error"]

    def chunks():  # no Content-Length: the body arrives in pieces and is cut off once over the limit
        for _ in range(4 * MAX_REQUEST_BYTES // 65536):
            yield b"x" * 65536

    r = httpx.post(url, content=chunks(), headers={"content-type": "application/json"}, timeout=60)
    assert r.status_code == 413 and "too large" in r.text
    assert server.alive() and send(client, PORTRAIT)[0] == "edited"  # normal calls are untouched
    assert "Traceback" not in server.log(), server.log()


def test_shutdown_deletes_uploads_and_outputs(weights_dir: Path, tmp_path: Path) -> None:
    """After edits (and a refusal), SIGTERM leaves only Gradio's cached copies of the examples."""
    own = tmp_path / "own photo.png"
    Image.open(EXAMPLES / "group.jpg").save(own)
    with AppServer(tmp_path / "server", ["--weights", str(weights_dir)]) as server:
        client = Client(server.url, verbose=False)
        for photo in (own, EXAMPLES / "portrait.jpg"):
            assert send(client, photo)[0] == "edited"
        notes = tmp_path / "notes.txt"
        notes.write_text("not a photo")
        assert send(client, notes)[0] == "refused"
        stored = [p for p in server.temp_dir.rglob("*") if p.is_file()]
        assert any(p.name.startswith("own photo-edited") for p in stored)
        assert server.stop() == 0
    left = [p for p in server.temp_dir.rglob("*") if p.is_file()]
    examples = {p.name: p.read_bytes() for p in EXAMPLES.glob("*.jpg")}
    assert all(p.name in examples and p.read_bytes() == examples[p.name] for p in left), left
    assert "Traceback" not in server.log(), server.log()
