"""The ``/edit`` endpoint: one call edits the faces of a photo, for ``gradio_client`` and HTTP clients."""
from pathlib import Path
from typing import Callable

from gradio.data_classes import FileData
from gradio_client.utils import is_file_obj_with_meta

from model.images import load_image
from model.pipeline import Deadline, FaceEditor
from model.tuning import DEFAULT_TUNE_STEPS

from .errors import user_error
from .limits import REQUEST_TIMEOUT_S
from .scratch import ScratchFiles


def edit_endpoint(editor: FaceEditor, scratch: ScratchFiles) -> Callable[..., tuple[FileData, dict]]:
    """The endpoint's function (its signature and docstring are the API's documentation)."""

    def edit(photo: FileData, changes: dict[str, float], face: int = -1, paste: str = "detail",
             tune: bool = False) -> tuple[FileData, dict]:
        """Edit the faces of a photo.

        photo: the image file (JPEG, PNG, WebP, GIF, BMP or TIFF).
        changes: attribute values, e.g. {"Smiling": 1.0, "Eyeglasses": 0.0} (0 absent, 1 present).
        face: which face to edit, 0 = leftmost; -1 edits every face.
        paste: "detail" (add the change to the photo, sharp) or "plain" (paste the decoded face).
        tune: fit a copy of the decoder to each face first (sharper likeness, a few seconds per face).
        Returns the edited photo (PNG, the size of the upright input) and a report: per edited face,
        the attribute probabilities before and after the edit as the editor's own encoder reads them,
        "checked": the same read on the photo and on the returned photo by an independent judge (the
        strict judge; null if the server has none), and "identity": dlib's face-recognition distance
        between the original and the edited face and whether it is the same person (distance under
        0.6; null if the server has no dlib).
        """
        if not is_file_obj_with_meta(photo):
            raise user_error("expected the photo as a file, e.g. gradio_client.handle_file(path)")
        if (not isinstance(changes, dict) or not isinstance(face, int) or not isinstance(paste, str)
                or not isinstance(tune, bool)):
            raise user_error('expected changes as {"attribute": number}, face as an integer, paste as text, '
                             'tune as true or false')
        path = Path(FileData.model_validate(photo).path)
        deadline = Deadline(REQUEST_TIMEOUT_S)
        try:
            analysis = editor.analyze(load_image(path), deadline, DEFAULT_TUNE_STEPS if tune else 0)
            result = editor.edit(analysis, changes, None if face < 0 else [face], paste, deadline)
        except ValueError as e:  # ImageError, NoFaceError, TooSlowError, bad changes / face / paste
            raise user_error(e) from None
        return FileData(path=scratch.png(result.image, path.stem or "photo")), result.report()

    return edit
