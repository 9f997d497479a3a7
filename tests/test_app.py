"""End to end: the real server (``python app.py``), its ``/edit`` endpoint through gradio_client, and the
page driven in headless Chromium, with the edit checks (strict judge, dlib) and without them.
Screenshots go to ``artifacts/`` (not committed)."""
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from model.images import load_image
from model.paste import crop_footprint
from model.pipeline import FaceEditor
from tests.app_server import REPO, AppServer

pytestmark = pytest.mark.slow

EXAMPLES = REPO / "examples"
ARTIFACTS = REPO / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def server(weights_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of ``python app.py`` running in a subprocess, shared by this module's tests."""
    with AppServer(tmp_path_factory.mktemp("server"), ["--weights", str(weights_dir)]) as app:
        yield app.url


@pytest.fixture(scope="module")
def client(server: str) -> Client:
    return Client(server, verbose=False)


def footprint(face_editor: FaceEditor, photo: Path) -> np.ndarray:
    """The pixels of the photo covered by its faces' aligned crops."""
    analysis = face_editor.analyze(load_image(photo))
    mask = np.zeros(analysis.image.shape[:2], bool)
    for face in analysis.faces:
        x0, y0, x1, y1 = crop_footprint(face.matrix, face.size, analysis.image.shape)
        mask[y0:y1, x0:x1] = True
    return mask


def test_edit_endpoint_changes_the_face_only(client: Client, face_editor: FaceEditor) -> None:
    photo = EXAMPLES / "portrait.jpg"
    original = np.asarray(load_image(photo))
    same, report = client.predict(handle_file(str(photo)), {}, -1, "detail", api_name="/edit")
    assert np.array_equal(np.asarray(Image.open(same).convert("RGB")), original)
    (face,) = report["faces"]
    assert face["identity"] == {"distance": 0.0, "same_person": True}  # nothing changed: the same person
    assert face["checked"]["before"] == face["checked"]["after"] and set(face["checked"]["after"]) == set(face["after"])
    flipped = {a: float(p < 0.5) for a, p in face["before"].items()}
    path, report = client.predict(handle_file(str(photo)), flipped, -1, "detail", api_name="/edit")
    edited = Image.open(path)
    assert edited.format == "PNG" and edited.size == (original.shape[1], original.shape[0])
    diff = (np.asarray(edited.convert("RGB")) != original).any(axis=-1)
    inside = footprint(face_editor, photo)
    assert not diff[~inside].any()
    assert diff[inside].mean() > 0.05
    assert set(report["faces"][0]["after"]) == set(flipped)
    checked, identity = report["faces"][0]["checked"], report["faces"][0]["identity"]
    assert checked["before"] == face["checked"]["before"] and checked["after"] != checked["before"]
    assert all(0 <= p <= 1 for p in checked["after"].values())
    assert identity["distance"] > 0 and identity["same_person"] == (identity["distance"] < 0.6)


def test_edit_endpoint_tunes_on_request(client: Client, face_editor: FaceEditor) -> None:
    photo = EXAMPLES / "portrait.jpg"
    changes = {"Smiling": 1.0, "Eyeglasses": 1.0}
    plain, _ = client.predict(handle_file(str(photo)), changes, -1, "plain", False, api_name="/edit")
    tuned, report = client.predict(handle_file(str(photo)), changes, -1, "plain", True, api_name="/edit")
    plain, tuned = (np.asarray(Image.open(p).convert("RGB")) for p in (plain, tuned))
    diff = (plain != tuned).any(axis=-1)
    inside = footprint(face_editor, photo)
    assert diff[inside].mean() > 0.05 and not diff[~inside].any()
    assert report["faces"][0]["after"]["Eyeglasses"] > 0.5  # the tuned decoder still draws the edit


def test_cli_and_endpoint_give_the_same_photo(client: Client, weights_dir: Path, tmp_path: Path) -> None:
    photo = EXAMPLES / "group.jpg"
    changes = {"Smiling": 1.0, "Eyeglasses": 0.0}
    api_path, _ = client.predict(handle_file(str(photo)), changes, -1, "detail", api_name="/edit")
    proc = subprocess.run([sys.executable, "-m", "model", "edit", str(photo), "--out", str(tmp_path),
                           "--set", "Smiling=1", "--set", "Eyeglasses=0", "--weights", str(weights_dir)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    cli = np.asarray(Image.open(tmp_path / "group.png"))
    api = np.asarray(Image.open(api_path))
    assert cli.shape == api.shape and np.array_equal(cli, api)


@pytest.mark.parametrize("make, args, message", [
    (lambda p: p.write_text("plain text"), ({"Smiling": 1.0},), "not an image"),
    (lambda p: Image.new("RGB", (300, 200), (120, 140, 160)).save(p, format="JPEG"), ({},), "no face found"),
    (None, ({"Smile": 1.0},), "unknown attribute"),
    (None, ({}, 5), "face 5 does not exist"),
    (None, ({}, -1, "sharpen"), "paste must be one of"),
    (None, ("Smiling=1",), "expected changes as"),
    (None, ({}, -1, "detail", "yes"), "tune as true or false"),
])
def test_endpoint_explains_bad_input(client: Client, tmp_path: Path, make, args: tuple, message: str) -> None:
    photo = EXAMPLES / "portrait.jpg"
    if make is not None:
        photo = tmp_path / "upload.jpg"
        make(photo)
    with pytest.raises(AppError, match=message):
        client.predict(handle_file(str(photo)), *args, api_name="/edit")


def test_page_edits_a_photo_in_chromium(server: str) -> None:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    hosts = set()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.on("request", lambda r: hosts.add(r.url.split("/")[2]))
            page.goto(server)
            page.locator("#photo input[type=file]").set_input_files(str(EXAMPLES / "portrait.jpg"))
            page.wait_for_function("document.querySelector('#status').innerText.includes('Found 1 face')",
                                   timeout=60_000)
            page.wait_for_selector("#result img", timeout=60_000)
            before = page.locator("#result img").get_attribute("src")
            smiling = page.locator("#toggle-Smiling input")
            was_on = smiling.is_checked()
            smiling.click()
            page.wait_for_function("old => { const img = document.querySelector('#result img');"
                                   " return img && img.src !== old; }", arg=before, timeout=60_000)
            assert smiling.is_checked() != was_on
            assert page.locator("#value-Smiling input[type=number]").input_value() == ("0" if was_on else "1")
            table = page.locator("#probs").inner_text()
            for name in ("Smiling", "Eyeglasses", "encoder", "judge", " → "):
                assert name in table
            verdict = page.locator("#verdict").inner_text()
            assert "Did the edit take?" in verdict and f"Smiling {'off' if was_on else 'on'}: " in verdict
            assert page.locator("#identity").is_visible()
            identity = page.locator("#identity").inner_text()
            assert "distance" in identity and ("same person" in identity or "changed" in identity)
            assert page.locator("#crops img").count() == 1
            crops = page.locator("#crops img").get_attribute("src")
            page.locator("#tune input").click()  # sharper likeness: the faces are analysed again, tuned
            page.wait_for_function("old => { const img = document.querySelector('#crops img');"
                                   " return img && img.src !== old; }", arg=crops, timeout=120_000)
            assert "Found 1 face" in page.locator("#status").inner_text()
            assert smiling.is_checked() != was_on  # the user's edit survives the new analysis
            assert page.locator("#value-Smiling input[type=number]").input_value() == ("0" if was_on else "1")
            page.screenshot(path=str(ARTIFACTS / "app_edit_laptop.png"), full_page=True)
            page.set_viewport_size({"width": 390, "height": 844})
            page.screenshot(path=str(ARTIFACTS / "app_edit_phone.png"), full_page=True)

            bad = ARTIFACTS / "not_an_image.jpg"
            bad.write_text("this is not a photo")
            page.locator("#photo input[type=file]").set_input_files(str(bad))
            page.wait_for_function("document.querySelector('#status').innerText.includes('not an image')",
                                   timeout=60_000)
            bad.unlink()
        finally:
            browser.close()
    assert hosts == {server.split("/")[2]}  # nothing fetched from anywhere else


@pytest.fixture(scope="module")
def server_without_checks(weights_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The app where dlib is not installed (an importable ``dlib`` that raises ImportError, first on the
    path) and the strict judge's folder is missing."""
    folder = tmp_path_factory.mktemp("server_without_checks")
    (folder / "no_dlib" / "dlib").mkdir(parents=True)
    (folder / "no_dlib" / "dlib" / "__init__.py").write_text('raise ImportError("dlib is not installed")\n')
    env = {"PYTHONPATH": os.pathsep.join([str(folder / "no_dlib"), *filter(None, [os.environ.get("PYTHONPATH")])]),
           "IFCVAE_STRICT_JUDGE": str(folder / "no_strict_judge")}
    with AppServer(folder, ["--weights", str(weights_dir)], env=env) as app:
        yield app


def test_without_dlib_or_strict_judge_the_checks_are_left_out(server_without_checks: AppServer) -> None:
    app = server_without_checks
    log = app.log()
    assert "strict judge is not available" in log and "identity check is not available" in log
    photo = EXAMPLES / "portrait.jpg"
    _, report = Client(app.url, verbose=False).predict(handle_file(str(photo)), {"Smiling": 1.0}, -1, "detail",
                                                       api_name="/edit")
    (face,) = report["faces"]
    assert face["checked"] is None and face["identity"] is None and face["after"]["Smiling"] > 0.5

    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.goto(app.url)
            page.locator("#photo input[type=file]").set_input_files(str(photo))
            page.wait_for_function("document.querySelector('#status').innerText.includes('Found 1 face')",
                                   timeout=60_000)
            page.wait_for_selector("#result img", timeout=60_000)
            before = page.locator("#result img").get_attribute("src")
            page.locator("#toggle-Smiling input").click()
            page.wait_for_function("old => { const img = document.querySelector('#result img');"
                                   " return img && img.src !== old; }", arg=before, timeout=60_000)
            table = page.locator("#probs").inner_text()
            assert "Smiling" in table and "after" in table and "judge" not in table
            assert not page.locator("#identity").is_visible() and not page.locator("#verdict").is_visible()
            page.screenshot(path=str(ARTIFACTS / "app_edit_without_checks.png"), full_page=True)
        finally:
            browser.close()
    assert app.alive()
