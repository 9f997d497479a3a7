"""Web app: upload a photo, toggle face attributes, download the edited photo.

    python app.py [--host 127.0.0.1] [--port 7860] [--weights weights]

The host and port may also come from $GRADIO_SERVER_NAME and $GRADIO_SERVER_PORT, the checkpoint
(a folder or a Hugging Face Hub id) from $IFCVAE_WEIGHTS. Besides the page, the named endpoint
``/edit`` serves ``gradio_client``. All the work is done by :mod:`model.pipeline`; this file only
wires it to the interface. Limits (upload size, pixels, faces, time per request, queue) are in
:mod:`model.limits`; files given as URLs are refused, never fetched.
"""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch: no spinning threads on a shared CPU
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import argparse  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import uuid  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable  # noqa: E402

import gradio as gr  # noqa: E402
import numpy as np  # noqa: E402
from gradio.data_classes import FileData  # noqa: E402
from gradio.utils import get_upload_folder  # noqa: E402
from gradio_client.utils import is_file_obj_with_meta, is_http_url_like, traverse  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402

from model import CheckpointError  # noqa: E402
from model.images import load_image, save_png  # noqa: E402
from model.limits import (  # noqa: E402
    CONCURRENCY_LIMIT, MAX_FILE_BYTES, MAX_SESSIONS, QUEUE_SIZE, REQUEST_TIMEOUT_S, SESSION_TTL_S,
)
from model.pipeline import (  # noqa: E402
    VALUE_RANGE, WEIGHTS_ENV, Analysis, Deadline, EditResult, FaceEditor, TooSlowError, default_weights,
)
from model.tuning import TUNE_STEPS  # noqa: E402
from model.request_limit import RequestSizeLimit  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent / "examples"
ALL_FACES = "All faces"
STEP = 0.01  # slider step; presets are rounded to it
PASTE_CHOICES = [("Keep the photo's detail", "detail"), ("Paste the decoded face", "plain")]
TUNE_LABEL = "Sharper likeness"
CROP_ZOOM = 3  # the 64 x 64 crops are shown enlarged, pixels kept square
NAME_CHARS = 64  # an output file is named after the upload's first NAME_CHARS characters
URL_REFUSED = "send the photo itself, not a URL: this server does not download files"
# System fonts only: the page loads nothing from outside the server.
THEME = gr.themes.Soft(font=["ui-sans-serif", "system-ui", "sans-serif"],
                       font_mono=["ui-monospace", "monospace"])
CSS = ".attr-row { align-items: center; gap: 0.5rem; } .attr-row .attr-toggle { min-width: 9rem; }"


def photo_input() -> gr.Image:
    """The upload / webcam / clipboard input; it hands the uploaded file's path over unread.

    gr.Image's own preprocessing opens the file with PIL and fails with a bare error on a non-image
    or an oversized one; :func:`model.images.load_image` checks it instead and says what is wrong.
    (An instance attribute rather than a subclass: Gradio writes a .pyi stub beside any module
    that subclasses a component.)
    """
    photo = gr.Image(label="Photo", type="filepath", image_mode=None, sources=["upload", "webcam", "clipboard"],
                     elem_id="photo")
    photo.preprocess = lambda payload: None if payload is None else payload.path  # type: ignore[method-assign]
    return photo


def user_error(e: Exception | str) -> gr.Error:
    """The message shown to the user; an expected refusal, so no traceback in the server's log."""
    return gr.Error(str(e), print_exception=False)


def refuse_urls(data: Any) -> None:
    """Refuse files given as http(s) URLs, which Gradio would otherwise download on the server."""
    def check(file: dict) -> dict:
        if is_http_url_like(file["path"]):
            raise user_error(URL_REFUSED)
        return file

    traverse(data, check, is_file_obj_with_meta)


class EditorBlocks(gr.Blocks):
    """gr.Blocks whose events refuse URL inputs before Gradio's preprocessing would fetch them."""

    async def preprocess_data(self, block_fn: Any, inputs: list[Any], *args: Any, **kwargs: Any) -> Any:
        refuse_urls(inputs)
        return await super().preprocess_data(block_fn, inputs, *args, **kwargs)


class ScratchFiles:
    """Edited photos written as PNG into Gradio's cache folder: Gradio serves them without a copy and
    deletes them with its own files (``delete_cache``, and all of them at shutdown)."""

    def __init__(self) -> None:
        cache = Path(get_upload_folder())
        cache.mkdir(parents=True, exist_ok=True)
        self._tmp = tempfile.TemporaryDirectory(prefix="ifcvae-", dir=cache)  # removed at exit
        self.root = Path(self._tmp.name)

    def png(self, image: np.ndarray, name: str) -> str:
        path = self.root / f"{name[:NAME_CHARS]}-edited-{uuid.uuid4().hex[:8]}.png"
        save_png(image, path)
        return str(path)


@dataclass
class Session:
    """One uploaded photo: its analysis (detection, alignment, encoding) and its file name."""

    analysis: Analysis
    name: str


def crop_strip(result: EditResult) -> np.ndarray:
    """Aligned crop | reconstruction | edit, one row per edited face, enlarged."""
    rows = [np.concatenate([a, r, e], axis=1) for a, r, e in zip(result.aligned, result.reconstructed, result.edited)]
    strip = np.concatenate(rows, axis=0)
    return strip.repeat(CROP_ZOOM, axis=0).repeat(CROP_ZOOM, axis=1)


def probability_rows(result: EditResult) -> list[list]:
    """Rows (face, attribute, before, after) for the table."""
    return [[i + 1, name.replace("_", " "), round(float(b), 3), round(float(a), 3)]
            for i, before, after in zip(result.faces, result.before, result.after)
            for name, b, a in zip(result.attributes, before, after)]


def build_app(editor: FaceEditor) -> gr.Blocks:
    """The page and the ``/edit`` endpoint around one editor."""
    attrs = editor.attributes
    scratch = ScratchFiles()
    lo, hi = VALUE_RANGE

    def reference_face(choice: str | None) -> int:
        return int(choice.split()[-1]) - 1 if choice and choice != ALL_FACES else 0

    def presets(session: Session, choice: str | None) -> list[float]:
        probs = session.analysis.probs[reference_face(choice)].tolist()
        return [round(p / STEP) * STEP for p in probs]

    def render(session: Session | None, choice: str | None, paste: str, values: list[float]) -> list:
        """Edit with the controls' values; only attributes moved away from their preset are changed."""
        if session is None:
            return [None, None, []]
        changes = {a: float(v) for a, v, p in zip(attrs, values, presets(session, choice))
                   if abs(float(v) - p) > STEP / 2}
        faces = None if choice in (None, ALL_FACES) else [reference_face(choice)]
        try:
            result = editor.edit(session.analysis, changes, faces, paste, Deadline(REQUEST_TIMEOUT_S))
        except ValueError as e:
            raise user_error(e) from None
        return [scratch.png(result.image, session.name), crop_strip(result), probability_rows(result)]

    def open_photo(path: str, tune: bool) -> Session | str:
        """Detect, align and encode the photo's faces (and fit a decoder to each if ``tune``), or
        say why not."""
        try:
            analysis = editor.analyze(load_image(path), Deadline(REQUEST_TIMEOUT_S), TUNE_STEPS if tune else 0)
        except TooSlowError as e:
            hint = f" ({TUNE_LABEL} takes a few seconds per face: switch it off for this photo)" if tune else ""
            return f"**Cannot edit this photo:** {e}{hint}."
        except ValueError as e:  # ImageError, NoFaceError
            return f"**Cannot edit this photo:** {e}."
        return Session(analysis, Path(path).stem or "photo")

    def found(n: int) -> str:
        return (f"Found {n} faces (numbered left to right). Edit them all, or pick one." if n > 1
                else "Found 1 face. Toggle an attribute or drag its intensity.")

    def load_photo(path: str | None, paste: str, tune: bool) -> list:
        """New photo: analyse it once; pre-set the controls from the prediction; show."""
        idle = [None, gr.update(choices=[], value=None, visible=False), *[False] * len(attrs),
                *[0.5] * len(attrs), None, None, []]
        if path is None:
            return ["Upload a photo with a face, or pick an example.", *idle]
        session = open_photo(path, tune)
        if isinstance(session, str):
            return [session, *idle]
        n = len(session.analysis.faces)
        choices = ([ALL_FACES] if n > 1 else []) + [f"Face {i + 1}" for i in range(n)]
        choice = choices[0]
        values = presets(session, choice)
        return [found(n), session, gr.update(choices=choices, value=choice, visible=n > 1),
                *[v > 0.5 for v in values], *values, *render(session, choice, paste, values)]

    def retune(path: str | None, paste: str, tune: bool, old: Session | None, choice: str | None,
               *values: float) -> list:
        """Sharper likeness switched: analyse the same photo again, keep the face choice and the
        controls' values (tuning leaves the encoder's reading, hence the presets, as they were)."""
        if path is None or old is None:
            return [gr.update(), old, None, None, []]
        session = open_photo(path, tune)
        if isinstance(session, str):  # the previous analysis stays usable
            return [session, old, *render(old, choice, paste, list(values))]
        return [found(len(session.analysis.faces)), session, *render(session, choice, paste, list(values))]

    def reset(session: Session | None, choice: str | None, paste: str) -> list:
        """Controls back to the chosen face's own prediction (no edit)."""
        if session is None:
            return [*[False] * len(attrs), *[0.5] * len(attrs), None, None, []]
        values = presets(session, choice)
        return [*[v > 0.5 for v in values], *values, *render(session, choice, paste, values)]

    def toggled(i: int) -> Callable[..., list]:
        def fn(session: Session | None, choice: str | None, paste: str, on: bool, *values: float) -> list:
            values = [*values[:i], 1.0 if on else 0.0, *values[i + 1:]]
            return [values[i], *render(session, choice, paste, values)]
        return fn

    def slid(i: int) -> Callable[..., list]:
        def fn(session: Session | None, choice: str | None, paste: str, *values: float) -> list:
            return [values[i] > 0.5, *render(session, choice, paste, list(values))]
        return fn

    def edit(photo: FileData, changes: dict[str, float], face: int = -1, paste: str = "detail",
             tune: bool = False) -> tuple[FileData, dict]:
        """Edit the faces of a photo.

        photo: the image file (JPEG, PNG, WebP, GIF, BMP or TIFF).
        changes: attribute values, e.g. {"Smiling": 1.0, "Eyeglasses": 0.0} (0 absent, 1 present).
        face: which face to edit, 0 = leftmost; -1 edits every face.
        paste: "detail" (add the change to the photo, sharp) or "plain" (paste the decoded face).
        tune: fit a copy of the decoder to each face first (sharper likeness, a few seconds per face).
        Returns the edited photo (PNG, the size of the upright input) and, per edited face, the
        attribute probabilities before and after the edit.
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
            analysis = editor.analyze(load_image(path), deadline, TUNE_STEPS if tune else 0)
            result = editor.edit(analysis, changes, None if face < 0 else [face], paste, deadline)
        except ValueError as e:  # ImageError, NoFaceError, TooSlowError, bad changes / face / paste
            raise user_error(e) from None
        return FileData(path=scratch.png(result.image, path.stem or "photo")), result.report()

    with EditorBlocks(title="Face attribute editor", analytics_enabled=False,
                      delete_cache=(SESSION_TTL_S, SESSION_TTL_S)) as demo:
        gr.Markdown("## Face attribute editor\nUpload a photo (or take one with the webcam), then toggle an "
                    "attribute or drag its intensity. Only the face changes; the photo keeps its size.")
        session = gr.State(time_to_live=SESSION_TTL_S)
        with gr.Row(equal_height=False):
            with gr.Column(min_width=300):
                photo = photo_input()
                status = gr.Markdown("Upload a photo with a face, or pick an example.", elem_id="status")
            with gr.Column(min_width=300):
                result = gr.Image(label="Edited photo (PNG)", type="filepath", format="png", interactive=False,
                                  buttons=["download", "fullscreen"], elem_id="result")
        with gr.Row(equal_height=False):
            with gr.Column(min_width=300):
                face = gr.Radio([], label="Face", visible=False, elem_id="face")
                gr.Markdown(f"Intensity: 0 absent, 1 present; {lo} to {hi} exaggerates. "
                            "Controls start at the model's own reading of the face.")
                toggles, sliders = [], []
                for name in attrs:
                    with gr.Row(elem_classes="attr-row"):
                        toggles.append(gr.Checkbox(label=name.replace("_", " "), elem_id=f"toggle-{name}",
                                                   elem_classes="attr-toggle", scale=0, container=False))
                        sliders.append(gr.Slider(lo, hi, value=0.5, step=STEP, show_label=False, container=False,
                                                 buttons=[], elem_id=f"value-{name}", scale=1, min_width=120))
                with gr.Row():
                    paste = gr.Radio(PASTE_CHOICES, value="detail", label="Paste back", elem_id="paste")
                    reset_button = gr.Button("Reset", elem_id="reset", scale=0)
                tune = gr.Checkbox(label=TUNE_LABEL, elem_id="tune",
                                   info=f"Fits a copy of the decoder to each face ({TUNE_STEPS} steps, a few "
                                        "seconds per face): sharper, more like the person, edits still apply.")
                gr.Examples([[str(p)] for p in sorted(EXAMPLES.glob("*.jpg"))], inputs=[photo], label="Examples")
            with gr.Column(min_width=300):
                crops = gr.Image(label="Aligned crop | reconstruction | edit (64 x 64)", type="numpy",
                                 format="png", interactive=False, elem_id="crops")
                table = gr.Dataframe(headers=["face", "attribute", "before", "after"],
                                     datatype=["number", "str", "number", "number"], interactive=False,
                                     column_widths=["17%", "39%", "22%", "22%"],
                                     label="Attribute probabilities, before and after the edit", elem_id="probs")
        outputs = [result, crops, table]
        ui = {"api_visibility": "private", "trigger_mode": "always_last"}

        loaded = [status, session, face, *toggles, *sliders, *outputs]
        photo.change(load_photo, [photo, paste, tune], loaded, **ui)
        tune.input(retune, [photo, paste, tune, session, face, *sliders], [status, session, *outputs], **ui)
        for event in (face.input, reset_button.click):
            event(reset, [session, face, paste], [*toggles, *sliders, *outputs], **ui)
        paste.input(lambda s, c, p, *v: render(s, c, p, list(v)), [session, face, paste, *sliders], outputs, **ui)
        for i, (toggle, slider) in enumerate(zip(toggles, sliders)):
            toggle.input(toggled(i), [session, face, paste, toggle, *sliders], [slider, *outputs], **ui)
            slider.input(slid(i), [session, face, paste, *sliders], [toggle, *outputs], **ui)
        gr.api(edit, api_name="edit")
    demo.queue(default_concurrency_limit=CONCURRENCY_LIMIT, max_size=QUEUE_SIZE)
    return demo


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="Serve the face attribute editor.")
    ap.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                    help="address to listen on (default: $GRADIO_SERVER_NAME or 127.0.0.1)")
    ap.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
                    help="port (default: $GRADIO_SERVER_PORT or 7860)")
    ap.add_argument("--weights", default=None,
                    help=f"checkpoint folder or Hugging Face Hub id (default: ${WEIGHTS_ENV}, else weights/)")
    return ap.parse_args(argv)


def launch(demo: gr.Blocks, host: str, port: int, **options: Any) -> None:
    """Serve ``demo`` with the app's limits and page settings; ``options`` go to ``launch`` as well
    (e.g. ``prevent_thread_lock=True`` to serve from a background thread)."""
    demo.launch(server_name=host, server_port=port, max_file_size=MAX_FILE_BYTES,
                state_session_capacity=MAX_SESSIONS, show_error=True, ssr_mode=False, mcp_server=False,
                pwa=False, footer_links=["api"], theme=THEME, css=CSS,
                app_kwargs={"middleware": [Middleware(RequestSizeLimit)]}, **options)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    weights = args.weights or default_weights()
    try:
        editor = FaceEditor.load(weights)
    except CheckpointError as e:
        sys.exit(f"error: cannot load the model: {e}")
    demo = build_app(editor)
    launch(demo, args.host, args.port, prevent_thread_lock=True)
    # Ctrl-C and SIGTERM (docker stop) end open event streams, then the server's shutdown deletes the
    # files Gradio and ScratchFiles wrote (Gradio's own Ctrl-C handler leaves them when a client is connected).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        signal.pause()
    except KeyboardInterrupt:
        demo.close()


if __name__ == "__main__":
    main()
