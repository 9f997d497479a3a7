"""Where dlib is missing (an install without it, or a broken one) the app still runs, without "Same
person?": the check is logged as unavailable, the photo tab hides its table and its events send no
identity rows, while the strict judge's reading stays. (tests/test_app.py drives the whole app with
both checks missing.)"""
import logging
import sys

import gradio as gr
import pytest

from model.edit_check import EditChecker
from model.identity import dlib_available
from model.pipeline import FaceEditor
from tests.conftest import REPO
from web.photo_events import PhotoEvents
from web.photo_tab import photo_tab
from web.scratch import ScratchFiles


@pytest.fixture
def editor_without_dlib(face_editor: FaceEditor, monkeypatch: pytest.MonkeyPatch,
                        caplog: pytest.LogCaptureFixture) -> FaceEditor:
    monkeypatch.setitem(sys.modules, "dlib", None)  # import dlib now fails, as when it is not installed
    assert not dlib_available()
    with caplog.at_level(logging.WARNING, logger="model.edit_check"):
        checker = EditChecker.load(face_editor.attributes)
    assert "identity check is not available" in caplog.text and "pip install -r requirements.txt" in caplog.text
    assert checker.judges and not checker.identifies
    return FaceEditor(face_editor.model, face_editor.detector, checker)


def test_the_photo_tab_hides_the_identity_table_and_keeps_the_verdict(editor_without_dlib: FaceEditor) -> None:
    with gr.Blocks() as demo:
        photo_tab(editor_without_dlib, ScratchFiles())
    shown = {block.elem_id: block.visible for block in demo.blocks.values() if getattr(block, "elem_id", None)}
    assert shown["identity"] is False and shown["verdict"] is True


def test_an_edit_without_dlib_sends_no_identity_rows(editor_without_dlib: FaceEditor) -> None:
    events = PhotoEvents(editor_without_dlib, ScratchFiles())
    n = len(events.attributes)
    loaded = events.load_photo(str(REPO / "examples" / "portrait.jpg"), "detail", False)
    session, choice, values = loaded[1], None, loaded[3 + n:3 + 2 * n]
    smiling = events.attributes.index("Smiling")
    *_, verdict, identity = events.toggled(smiling)(session, choice, "detail", values[smiling] <= 0.5, *values)
    assert identity == []
    assert "Did the edit take?" in verdict and "independent judge" in verdict
