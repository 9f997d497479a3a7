"""The photo tab: upload a photo, toggle or drag its attributes, see and download the edit.

:func:`photo_tab` lays out three panels (the photo and the edit, the attribute controls, the edit's
details and its independent checks) and wires their events to :class:`web.photo_events.PhotoEvents`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from model.identity import SAME_PERSON_THRESHOLD
from model.pipeline import VALUE_RANGE, FaceEditor
from model.tuning import DEFAULT_TUNE_STEPS

from .limits import SESSION_TTL_S
from .photo_events import NO_PHOTO, STEP, TUNE_LABEL, PhotoEvents
from .scratch import ScratchFiles

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PASTE_CHOICES = [("Keep the photo's detail", "detail"), ("Paste the decoded face", "plain")]
#: Settings of the tab's own events: not part of the API, and only the latest of a burst of changes runs.
UI_EVENT = {"api_visibility": "private", "trigger_mode": "always_last"}


@dataclass
class AttributeControls:
    """The face picker, a toggle and a slider per attribute, the paste mode, Reset and Sharper likeness."""

    face: gr.Radio
    toggles: list[gr.Checkbox]
    sliders: list[gr.Slider]
    paste: gr.Radio
    reset: gr.Button
    tune: gr.Checkbox


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


def edited_photo() -> gr.Image:
    return gr.Image(label="Edited photo (PNG)", type="filepath", format="png", interactive=False,
                    buttons=["download", "fullscreen"], elem_id="result")


def attribute_rows(attributes: tuple[str, ...], id_prefix: str = "",
                   value: float = 0.5) -> tuple[list[gr.Checkbox], list[gr.Slider]]:
    """A toggle and an intensity slider (at ``value``) per attribute, in the current layout column;
    their elem_ids are ``{id_prefix}toggle-NAME`` and ``{id_prefix}value-NAME``."""
    lo, hi = VALUE_RANGE
    toggles, sliders = [], []
    for name in attributes:
        with gr.Row(elem_classes="attr-row"):
            toggles.append(gr.Checkbox(label=name.replace("_", " "), elem_id=f"{id_prefix}toggle-{name}",
                                       elem_classes="attr-toggle", scale=0, container=False))
            sliders.append(gr.Slider(lo, hi, value=value, step=STEP, show_label=False, container=False,
                                     buttons=[], elem_id=f"{id_prefix}value-{name}", scale=1, min_width=120))
    return toggles, sliders


def attribute_controls(attributes: tuple[str, ...]) -> AttributeControls:
    """The controls panel, in the current layout column."""
    lo, hi = VALUE_RANGE
    face = gr.Radio([], label="Face", visible=False, elem_id="face")
    gr.Markdown(f"Intensity: 0 absent, 1 present; {lo} to {hi} exaggerates. "
                "Controls start at the model's own reading of the face.")
    toggles, sliders = attribute_rows(attributes)
    with gr.Row():
        paste = gr.Radio(PASTE_CHOICES, value="detail", label="Paste back", elem_id="paste")
        reset = gr.Button("Reset", elem_id="reset", scale=0)
    tune = gr.Checkbox(label=TUNE_LABEL, elem_id="tune",
                       info=f"Fits a copy of the decoder to each face ({DEFAULT_TUNE_STEPS} steps, a few "
                            "seconds per face): sharper, more like the person, edits still apply.")
    return AttributeControls(face, toggles, sliders, paste, reset, tune)


@dataclass
class EditDetails:
    """The edit's details: the crop strip, the probability table, and the independent checks (the
    strict judge's verdict and the identity table, hidden where that check is unavailable)."""

    crops: gr.Image
    table: gr.Dataframe
    verdict: gr.Markdown
    identity: gr.Dataframe

    @property
    def outputs(self) -> list[gr.components.Component]:
        return [self.crops, self.table, self.verdict, self.identity]


def edit_details(judged: bool, identified: bool, crop_size: int) -> EditDetails:
    """The aligned crops (``crop_size`` pixels square) beside their reconstruction and edit, the
    probability table (with the strict judge's columns if ``judged``), the judge's verdict (shown if
    ``judged``) and the identity table (shown if ``identified``)."""
    crops = gr.Image(label=f"Aligned crop | reconstruction | edit ({crop_size} x {crop_size})", type="numpy",
                     format="png", interactive=False, elem_id="crops")
    verdict = gr.Markdown(visible=judged, elem_id="verdict")
    if judged:
        headers, datatype = ["face", "attribute", "encoder", "judge"], ["number", "str", "str", "str"]
        widths = ["12%", "28%", "30%", "30%"]
        label = ("Attribute probabilities, before → after the edit. encoder: the editor's own (it drew the edit, "
                 "so it is not a fair judge of it); judge: an independent judge reading the returned photo")
    else:
        headers, datatype = ["face", "attribute", "before", "after"], ["number", "str", "number", "number"]
        widths = ["17%", "39%", "22%", "22%"]
        label = "Attribute probabilities, before and after the edit"
    table = gr.Dataframe(headers=headers, datatype=datatype, interactive=False, column_widths=widths, wrap=True,
                         label=label, elem_id="probs")
    identity = gr.Dataframe(headers=["face", "distance", "verdict"], datatype=["number", "number", "str"],
                            interactive=False, visible=identified, elem_id="identity",
                            label="Same person? dlib's face-recognition distance between the original face and "
                                  f"the edited face (under {SAME_PERSON_THRESHOLD}: the same person)")
    return EditDetails(crops, table, verdict, identity)


def wire_events(events: PhotoEvents, photo: gr.Image, status: gr.Markdown, session: gr.State,
                controls: AttributeControls, out: list[gr.components.Component]) -> None:
    """Connect each control to its handler: a new photo or Sharper likeness analyses the photo;
    everything else redraws the edit from the cached analysis. ``out``: the edited photo, the crop
    strip, the probability table, the verdict and the identity table."""
    c = controls
    photo.change(events.load_photo, [photo, c.paste, c.tune],
                 [status, session, c.face, *c.toggles, *c.sliders, *out], **UI_EVENT)
    c.tune.input(events.retune, [photo, c.paste, c.tune, session, c.face, *c.sliders], [status, session, *out],
                 **UI_EVENT)
    for event in (c.face.input, c.reset.click):
        event(events.reset, [session, c.face, c.paste], [*c.toggles, *c.sliders, *out], **UI_EVENT)
    c.paste.input(events.repaste, [session, c.face, c.paste, *c.sliders], out, **UI_EVENT)
    for i, (toggle, slider) in enumerate(zip(c.toggles, c.sliders)):
        toggle.input(events.toggled(i), [session, c.face, c.paste, toggle, *c.sliders], [slider, *out], **UI_EVENT)
        slider.input(events.slid(i), [session, c.face, c.paste, *c.sliders], [toggle, *out], **UI_EVENT)


def photo_tab(editor: FaceEditor, scratch: ScratchFiles) -> gr.Image:
    """The photo tab's components, in the current Blocks (or Tab) context, with their events; returns
    the photo input (other tabs can hand it a photo)."""
    session = gr.State(time_to_live=SESSION_TTL_S)
    with gr.Row(equal_height=False):
        with gr.Column(min_width=300):
            photo = photo_input()
            status = gr.Markdown(NO_PHOTO, elem_id="status")
        with gr.Column(min_width=300):
            result = edited_photo()
    with gr.Row(equal_height=False):
        with gr.Column(min_width=300):
            controls = attribute_controls(editor.attributes)
            gr.Examples([[str(p)] for p in sorted(EXAMPLES.glob("*.jpg"))], inputs=[photo], label="Examples")
        with gr.Column(min_width=300):
            checker = editor.checker
            details = edit_details(*((checker.judges, checker.identifies) if checker else (False, False)),
                                   editor.image_size)
    wire_events(PhotoEvents(editor, scratch), photo, status, session, controls, [result, *details.outputs])
    return photo
