"""What the photo tab's events do: analyse an uploaded photo once into a :class:`Session`, then redraw
the edit whenever a control moves.

Each handler returns the new values of the components it updates, in the order
:func:`web.photo_tab.wire_events` lists them; the five edit outputs are always
``[edited photo (PNG path), crop strip, probability rows, the edit's verdict, identity rows]``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

import gradio as gr
import numpy as np

from model.images import load_image
from model.pipeline import Analysis, Deadline, EditResult, FaceEditor, TooSlowError
from model.preprocessing import to_uint8
from model.tuning import DEFAULT_TUNE_STEPS

from .errors import user_error
from .limits import REQUEST_TIMEOUT_S
from .scratch import ScratchFiles

ALL_FACES = "All faces"
STEP = 0.01  # slider step; presets are rounded to it
CROP_SHOWN = 192  # the model's crops are shown enlarged by a whole factor to about this size (pixels square)
TUNE_LABEL = "Sharper likeness"
NO_PHOTO = "Upload a photo with a face, or pick an example."
#: The edit outputs before any photo: no edited photo, crops, probabilities, verdict or identity rows.
NO_EDIT = [None, None, [], "", []]
SAME_PERSON, CHANGED = "same person", "changed"


@dataclass
class Session:
    """One uploaded photo: its analysis (detection, alignment, encoding) and its file name."""

    analysis: Analysis
    name: str


def face_choices(n: int) -> list[str]:
    """The face picker's choices for a photo of ``n`` faces ("All faces" first when there are several)."""
    return ([ALL_FACES] if n > 1 else []) + [f"Face {i + 1}" for i in range(n)]


def reference_face(choice: str | None) -> int:
    """The face whose reading the controls start from: the chosen one, else the first."""
    return int(choice.split()[-1]) - 1 if choice and choice != ALL_FACES else 0


def found_message(n: int) -> str:
    return (f"Found {n} faces (numbered left to right). Edit them all, or pick one." if n > 1
            else "Found 1 face. Toggle an attribute or drag its intensity.")


def crop_strip(result: EditResult) -> np.ndarray:
    """Aligned crop | reconstruction | edit, one row per edited face, enlarged; then for each region
    editor that edited them, per face, its crop | reconstruction over its edit | mask, enlarged by
    the same factor (white where a row is narrower than the widest)."""
    rows = [np.concatenate([a, r, e], axis=1) for a, r, e in zip(result.aligned, result.reconstructed, result.edited)]
    zoom = max(1, round(CROP_SHOWN / result.aligned[0].shape[0]))
    blocks = [np.concatenate(rows, axis=0)]
    for edit in result.regions:
        tiles = [to_uint8(t).permute(0, 2, 3, 1).numpy() for t in
                 (edit.crops, edit.reconstructions, edit.composite, edit.mask.expand(-1, 3, -1, -1))]
        for crop, rec, composite, mask in zip(*tiles):
            blocks.append(np.concatenate([np.concatenate([crop, rec], axis=1),
                                          np.concatenate([composite, mask], axis=1)], axis=0))
    width = max(b.shape[1] for b in blocks)
    padded = [np.pad(b, ((0, 0), (0, width - b.shape[1]), (0, 0)), constant_values=255) for b in blocks]
    return np.concatenate(padded, axis=0).repeat(zoom, axis=0).repeat(zoom, axis=1)


def label(attribute: str) -> str:
    return attribute.replace("_", " ")


def probability_rows(result: EditResult) -> list[list]:
    """Rows (face, attribute, before, after) for the table; with the strict judge's reading, rows
    (face, attribute, "before → after" by the encoder, "before → after" by the judge; blank where the
    judge does not read the attribute)."""
    checks = result.checks
    if checks is None or checks.before is None or checks.after is None:
        return [[i + 1, label(name), round(float(b), 3), round(float(a), 3)]
                for i, before, after in zip(result.faces, result.before, result.after)
                for name, b, a in zip(result.attributes, before, after)]
    rows = []
    for k, (i, before, after) in enumerate(zip(result.faces, result.before, result.after)):
        for name, b, a in zip(result.attributes, before, after):
            j = checks.attributes.index(name) if name in checks.attributes else None
            judged = "" if j is None else change(checks.before[k, j], checks.after[k, j])
            rows.append([i + 1, label(name), change(b, a), judged])
    return rows


def change(before: float, after: float) -> str:
    return f"{float(before):.2f} → {float(after):.2f}"


def edit_verdict(result: EditResult, changes: Mapping[str, float]) -> str:
    """Markdown saying, per edited face and changed attribute, whether the strict judge reads the
    attribute as asked in the returned photo ("" without the judge)."""
    checks = result.checks
    if checks is None or checks.before is None or checks.after is None:
        return ""
    asked = [a for a in changes if a in checks.attributes]
    if not asked:
        return "**Did the edit take?** No attribute changed yet."
    lines = []
    for k, i in enumerate(result.faces):
        parts = []
        for name in asked:
            j = checks.attributes.index(name)
            want = changes[name] > 0.5
            before, after = float(checks.before[k, j]), float(checks.after[k, j])
            shows = "shows" if (after > 0.5) == want else "**does not show**"
            parts.append(f"{label(name)} {'on' if want else 'off'}: {shows} ({change(before, after)})")
        lines.append(f"- Face {i + 1}: " + "; ".join(parts))
    return ("**Did the edit take?** An independent judge, trained on real photos only and no part of the "
            "editor, reads the returned photo (probability of the attribute, before → after):\n"
            + "\n".join(lines))


def identity_rows(result: EditResult) -> list[list]:
    """Rows (face, dlib distance, same person or changed) for the identity table ([] without dlib)."""
    checks = result.checks
    if checks is None or checks.distance is None or checks.same_person is None:
        return []
    return [[i + 1, round(float(d), 3), SAME_PERSON if same else CHANGED]
            for i, d, same in zip(result.faces, checks.distance, checks.same_person)]


class PhotoEvents:
    """The photo tab's event handlers around one editor; edited photos go to ``scratch``."""

    def __init__(self, editor: FaceEditor, scratch: ScratchFiles) -> None:
        self.editor, self.scratch = editor, scratch
        self.attributes = editor.attributes

    # -- building blocks -------------------------------------------------------------------
    def presets(self, session: Session, choice: str | None) -> list[float]:
        """The controls' starting values: the reference face's attribute probabilities, on the slider's step."""
        probs = session.analysis.probs[reference_face(choice)].tolist()
        return [round(p / STEP) * STEP for p in probs]

    def render(self, session: Session | None, choice: str | None, paste: str, values: list[float]) -> list:
        """Edit with the controls' values; only attributes moved away from their preset are changed."""
        if session is None:
            return list(NO_EDIT)
        changes = {a: float(v) for a, v, p in zip(self.attributes, values, self.presets(session, choice))
                   if abs(float(v) - p) > STEP / 2}
        faces = None if choice in (None, ALL_FACES) else [reference_face(choice)]
        try:
            result = self.editor.edit(session.analysis, changes, faces, paste, Deadline(REQUEST_TIMEOUT_S))
        except ValueError as e:
            raise user_error(e) from None
        return [self.scratch.png(result.image, session.name), crop_strip(result), probability_rows(result),
                edit_verdict(result, changes), identity_rows(result)]

    def open(self, path: str, tune: bool) -> Session | str:
        """Detect, align and encode the photo's faces (and fit a decoder to each if ``tune``), or say why not."""
        tune_steps = DEFAULT_TUNE_STEPS if tune else 0
        try:
            analysis = self.editor.analyze(load_image(path), Deadline(REQUEST_TIMEOUT_S), tune_steps)
        except TooSlowError as e:
            hint = f" ({TUNE_LABEL} takes a few seconds per face: switch it off for this photo)" if tune else ""
            return f"**Cannot edit this photo:** {e}{hint}."
        except ValueError as e:  # ImageError, NoFaceError
            return f"**Cannot edit this photo:** {e}."
        return Session(analysis, Path(path).stem or "photo")

    def neutral_controls(self) -> list:
        """Every toggle off and every slider at 0.5."""
        return [*[False] * len(self.attributes), *[0.5] * len(self.attributes)]

    # -- handlers --------------------------------------------------------------------------
    def load_photo(self, path: str | None, paste: str, tune: bool) -> list:
        """New photo: analyse it once; pre-set the controls from the prediction; show.
        Updates status, session, face picker, toggles, sliders and the edit outputs."""
        idle = [None, gr.update(choices=[], value=None, visible=False), *self.neutral_controls(), *NO_EDIT]
        if path is None:
            return [NO_PHOTO, *idle]
        session = self.open(path, tune)
        if isinstance(session, str):
            return [session, *idle]
        n = len(session.analysis.faces)
        choices = face_choices(n)
        choice = choices[0]
        values = self.presets(session, choice)
        return [found_message(n), session, gr.update(choices=choices, value=choice, visible=n > 1),
                *[v > 0.5 for v in values], *values, *self.render(session, choice, paste, values)]

    def retune(self, path: str | None, paste: str, tune: bool, old: Session | None, choice: str | None,
               *values: float) -> list:
        """Sharper likeness switched: analyse the same photo again, keep the face choice and the
        controls' values (tuning leaves the encoder's reading, hence the presets, as they were).
        Updates status, session and the edit outputs."""
        if path is None or old is None:
            return [gr.update(), old, *NO_EDIT]
        session = self.open(path, tune)
        if isinstance(session, str):  # the previous analysis stays usable
            return [session, old, *self.render(old, choice, paste, list(values))]
        return [found_message(len(session.analysis.faces)), session,
                *self.render(session, choice, paste, list(values))]

    def reset(self, session: Session | None, choice: str | None, paste: str) -> list:
        """Controls back to the chosen face's own prediction (no edit).
        Updates toggles, sliders and the edit outputs."""
        if session is None:
            return [*self.neutral_controls(), *NO_EDIT]
        values = self.presets(session, choice)
        return [*[v > 0.5 for v in values], *values, *self.render(session, choice, paste, values)]

    def repaste(self, session: Session | None, choice: str | None, paste: str, *values: float) -> list:
        """Paste mode switched: the same edit, pasted the other way. Updates the edit outputs."""
        return self.render(session, choice, paste, list(values))

    def toggled(self, i: int) -> Callable[..., list]:
        """Handler for attribute ``i``'s toggle: its slider jumps to 1 or 0. Updates that slider and the
        edit outputs."""
        def fn(session: Session | None, choice: str | None, paste: str, on: bool, *values: float) -> list:
            values = [*values[:i], 1.0 if on else 0.0, *values[i + 1:]]
            return [values[i], *self.render(session, choice, paste, values)]
        return fn

    def slid(self, i: int) -> Callable[..., list]:
        """Handler for attribute ``i``'s slider: its toggle follows (on above 0.5). Updates that toggle
        and the edit outputs."""
        def fn(session: Session | None, choice: str | None, paste: str, *values: float) -> list:
            return [values[i] > 0.5, *self.render(session, choice, paste, list(values))]
        return fn
