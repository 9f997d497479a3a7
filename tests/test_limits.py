"""The explicit limits: PIL's decompression-bomb limit and the per-request time limit."""
import time

import pytest
from PIL import Image

from model.images import load_image
from model.limits import MAX_IMAGE_PIXELS
from model.pipeline import Deadline, FaceEditor, TooSlowError
from tests.conftest import REPO

PORTRAIT = REPO / "examples" / "portrait.jpg"


def test_pil_refuses_more_pixels_than_the_app() -> None:
    assert Image.MAX_IMAGE_PIXELS == MAX_IMAGE_PIXELS


def test_a_request_past_its_deadline_stops_with_a_message(face_editor: FaceEditor) -> None:
    photo = load_image(PORTRAIT)
    expired = Deadline(5.0, start=time.monotonic() - 6.0)
    with pytest.raises(TooSlowError, match="took more than 5 s"):
        face_editor.analyze(photo, expired)
    analysis = face_editor.analyze(photo, Deadline(60.0))
    with pytest.raises(TooSlowError, match="took more than 5 s"):
        face_editor.edit(analysis, {"Smiling": 1.0}, deadline=expired)
    assert face_editor.edit(analysis, {"Smiling": 1.0}, deadline=Deadline(60.0)).faces == [0]
