"""Edit the faces of any photo: detect, align, encode, set attributes, decode, paste back, report.

    editor = FaceEditor.load("weights")
    analysis = editor.analyze(load_image("photo.jpg"))       # detection + alignment + encoding
    result = editor.edit(analysis, {"Smiling": 1.0})          # cheap: reuse the analysis per edit
    Image.fromarray(result.image).save("edited.png")

The default ``paste="detail"`` adds the upsampled difference between the edit and the
reconstruction to the original face, so only what the edit changed moves and the photo keeps its
own sharpness, and where the edit changes much it also takes out the photo's own detail (the old
glasses, the closed lips; ``model.paste.paste_layers``); ``paste="plain"`` pastes the upsampled
edited crop itself.

A checkpoint folder with region editors in its sub-folders (``weights/eyes/``, ``weights/mouth/``;
``model.regions``) edits their attributes with them: each cuts its region from the same alignment,
edits it at the CelebA frame's resolution, and only the pixels its mask opens change in the photo.
The whole-face model edits the other attributes.

An editor made with ``FaceEditor.load(weights, checks=True)`` also checks each edit independently of
the editor (``model.edit_check``): the strict judge's reading of the returned faces and dlib's
identity verdict, in ``result.checks`` and ``result.report()``.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Mapping, Sequence, get_args

import cv2
import numpy as np
import torch
from huggingface_hub import constants as hub_constants
from huggingface_hub.errors import LocalEntryNotFoundError
from PIL import Image

from .edit_check import EditChecker, EditChecks, FaceReading, warp_to_frame
from .faces import Face, FaceDetector, crop_matrix, paste_crop_size, warp_to_crop
from .ifcvae import CONFIG_NAME, WEIGHTS_NAME, CheckpointError, IFcVAEGAN
from .images import ImageError
from .limits import MAX_FACES
from .paste import Blend, focus_region, paste_into, paste_layers
from .networks import Decoder
from .preprocessing import CROP_BOX, resize_crop, to_model_input, to_uint8
from .regions import FILL_ON_REMOVAL, RegionEdit, RegionEditor, owned_attributes
from .tuning import decode_each, tune_decoders

PasteMode = Literal["detail", "plain"]
PASTE_MODES: tuple[str, ...] = get_args(PasteMode)

#: Environment variable naming the checkpoint (folder or Hub id) when none is given.
WEIGHTS_ENV = "IFCVAE_WEIGHTS"
#: The checkpoint shipped with the repository.
SHIPPED_WEIGHTS = Path(__file__).resolve().parent.parent / "weights"
#: The published checkpoint on the Hugging Face Hub, loaded when ``weights/`` is absent.
DEFAULT_HUB_ID = "face-attribute-editor/ifcvae-gan-celeba64"

#: Attribute values accepted for an edit (0 absent, 1 present; beyond exaggerates).
VALUE_RANGE: tuple[float, float] = (-0.5, 1.5)


def default_weights() -> str:
    """The checkpoint to load when none is given: $IFCVAE_WEIGHTS, else the shipped ``weights/`` if it
    holds a config.json, else the published :data:`DEFAULT_HUB_ID`."""
    if os.environ.get(WEIGHTS_ENV):
        return os.environ[WEIGHTS_ENV]
    return str(SHIPPED_WEIGHTS) if (SHIPPED_WEIGHTS / CONFIG_NAME).is_file() else DEFAULT_HUB_ID


def _looks_like_a_path(weights: str) -> bool:
    return os.path.exists(weights) or weights.startswith(("/", ".", "~")) or weights.count("/") > 1


def _not_in_hub_cache(error: BaseException | None) -> bool:
    while error is not None:
        if isinstance(error, LocalEntryNotFoundError):
            return True
        error = error.__cause__
    return False


def load_failure(weights: str, error: CheckpointError) -> str:
    """One line saying why ``weights`` could not be loaded and what to do instead."""
    if _looks_like_a_path(weights) and not os.path.exists(weights):
        reason = f"could not load checkpoint {weights!r}: there is no such folder"
    elif not _looks_like_a_path(weights) and hub_constants.HF_HUB_OFFLINE and _not_in_hub_cache(error):
        reason = (f"could not load checkpoint {weights!r}: this Hugging Face Hub repository is not in the local "
                  f"cache ({hub_constants.HF_HUB_CACHE}) and HF_HUB_OFFLINE is set, so it is not downloaded")
    else:
        reason = str(error)
    reason = " ".join(reason.split())
    return (f"{reason}. Give a checkpoint folder ({CONFIG_NAME} + {WEIGHTS_NAME}) or a Hugging Face Hub id "
            f"with --weights or ${WEIGHTS_ENV}")


class NoFaceError(ImageError):
    """No face was found in the photo."""


class TooSlowError(ValueError):
    """A request ran past its :class:`Deadline`."""


@dataclass(frozen=True)
class Deadline:
    """A time limit for one request; :meth:`check` raises :class:`TooSlowError` once it has passed."""

    limit_s: float
    start: float = field(default_factory=time.monotonic)

    def check(self) -> None:
        if time.monotonic() - self.start > self.limit_s:
            raise TooSlowError(f"this photo took more than {self.limit_s:g} s to process; the server is busy "
                               "or the photo is very large: try again, or with a smaller photo")


#: The default: no time limit.
NO_DEADLINE = Deadline(math.inf)


@dataclass
class AlignedFace:
    """A detected face and where its aligned crop lies in the photo, at the face's own resolution."""

    face: Face
    matrix: np.ndarray  # 2 x 3, photo pixel -> crop pixel
    size: int  # side of that crop, in pixels


@dataclass
class Analysis:
    """Everything about one photo that does not depend on the edit (cache it per photo)."""

    image: np.ndarray  # H x W x 3 uint8, the upright RGB photo
    faces: list[AlignedFace]
    inputs: torch.Tensor  # N x 3 x S x S uint8 model-size aligned crops
    mu: torch.Tensor  # N x z_dim identity codes
    probs: torch.Tensor  # N x A classifier probabilities
    reconstructions: torch.Tensor  # N x 3 x S x S in [0, 1]
    decoders: list[Decoder] | None = None  # per-face tuned decoders (model.tuning), or the shared one
    regions: dict[str, torch.Tensor] = field(default_factory=dict)  # region editor -> N x 3 x H x W uint8 crops
    region_decoders: dict[str, list[Decoder]] = field(default_factory=dict)  # region editor -> tuned decoders
    readings: dict[int, FaceReading] = field(default_factory=dict)  # face -> its edit checks' reading, once read


@dataclass
class EditResult:
    """The edited photo, the crops of the edited faces, their probabilities before and after, and the
    independent checks of the edit (``None`` for an editor without them)."""

    image: np.ndarray  # H x W x 3 uint8, same size as the input
    faces: list[int]  # indices (into Analysis.faces) of the edited faces
    aligned: np.ndarray  # n x S x S x 3 uint8
    reconstructed: np.ndarray  # n x S x S x 3 uint8
    edited: np.ndarray  # n x S x S x 3 uint8
    before: np.ndarray  # n x A probabilities of the original faces
    after: np.ndarray  # n x A probabilities of the edited faces (re-encoded)
    attributes: tuple[str, ...]
    boxes: np.ndarray  # n x 4 detection boxes (left, top, right, bottom) in the photo
    checks: EditChecks | None = None
    regions: list[RegionEdit] = field(default_factory=list)  # the region editors' edits of these faces

    def report(self) -> dict:
        """JSON-ready summary per edited face: index, box (left, top, right, bottom), the encoder's
        probabilities before and after, ``checked`` (the strict judge's probabilities before and after)
        and ``identity`` (dlib's distance and verdict); each check ``None`` where it is unavailable."""
        faces = []
        for k, (i, box, b, f) in enumerate(zip(self.faces, self.boxes, self.before, self.after)):
            faces.append({"face": i,
                          "box": [round(float(v), 1) for v in box],
                          "before": _rounded(self.attributes, b),
                          "after": _rounded(self.attributes, f),
                          "checked": self._checked(k),
                          "identity": self._identity(k)})
        return {"faces": faces}

    def _checked(self, k: int) -> dict | None:
        c = self.checks
        if c is None or c.before is None or c.after is None:
            return None
        return {"before": _rounded(c.attributes, c.before[k]), "after": _rounded(c.attributes, c.after[k])}

    def _identity(self, k: int) -> dict | None:
        c = self.checks
        if c is None or c.distance is None or c.same_person is None:
            return None
        return {"distance": round(float(c.distance[k]), 4), "same_person": bool(c.same_person[k])}


def _rounded(attributes: Sequence[str], probs: np.ndarray) -> dict[str, float]:
    return {a: round(float(p), 4) for a, p in zip(attributes, probs)}


def _hwc(images: torch.Tensor) -> np.ndarray:
    """uint8 B x 3 x S x S tensor -> B x S x S x 3 array."""
    return images.permute(0, 2, 3, 1).contiguous().numpy()


class FaceEditor:
    """The editing pipeline around one model and one face detector, with the edit checks if given."""

    def __init__(self, model: IFcVAEGAN, detector: FaceDetector | None = None,
                 checker: EditChecker | None = None, blend: Blend = Blend(),
                 regions: Sequence[RegionEditor] = ()) -> None:
        self.model = model.eval()
        self.detector = detector or FaceDetector()
        self.checker = checker
        self.blend = blend  # how paste="detail" weighs the decoded edit against the photo's detail
        self.regions = list(regions)
        #: attribute -> the region editor that edits it (only attributes the whole-face model also has)
        self.owner = {a: e for a, e in owned_attributes(self.regions).items() if a in model.attributes}

    @classmethod
    def load(cls, weights: str, checks: bool = False, regions: bool = True) -> "FaceEditor":
        """Editor for a checkpoint folder or Hub id (see :meth:`IFcVAEGAN.load`); a CheckpointError
        carries one line that says what to do. ``checks``: also check each edit with whichever of the
        strict judge and dlib are available (:meth:`EditChecker.load`). ``regions``: use the region
        editors in the folder's sub-folders (``model.regions``), if any."""
        try:
            model = IFcVAEGAN.load(weights)
            editors = RegionEditor.load_all(weights) if regions and os.path.isdir(weights) else []
        except CheckpointError as e:
            raise CheckpointError(load_failure(weights, e)) from e
        return cls(model, checker=EditChecker.load(model.attributes) if checks else None, regions=editors)

    @property
    def attributes(self) -> tuple[str, ...]:
        return self.model.attributes

    @property
    def image_size(self) -> int:
        return self.model.config.image_size

    # -- stages ------------------------------------------------------------------------------
    def detect(self, image: Image.Image) -> list[Face]:
        """The faces to edit: at most MAX_FACES, the largest kept, left to right."""
        faces = self.detector.detect(image)
        if not faces:
            raise NoFaceError("no face found in this photo (faces should be roughly frontal and "
                              "not too small; try a larger or closer photo)")
        if len(faces) > MAX_FACES:
            widths = np.array([f.box[2] - f.box[0] for f in faces])
            keep = set(np.argsort(-widths)[:MAX_FACES].tolist())
            faces = [f for j, f in enumerate(faces) if j in keep]
        return faces

    def align(self, image: np.ndarray, faces: Sequence[Face]) -> tuple[list[AlignedFace], torch.Tensor]:
        """Warp each face onto the training crop at its own resolution, then resize that crop to the
        model's S x S exactly as in training. Returns the alignments and the uint8 model inputs."""
        aligned, inputs = [], []
        for face in faces:
            size = paste_crop_size(face.landmarks)
            matrix = crop_matrix(face.landmarks, size)
            crop = torch.from_numpy(warp_to_crop(image, matrix, size)).permute(2, 0, 1)
            aligned.append(AlignedFace(face, matrix, size))
            inputs.append(resize_crop(crop, self.image_size))
        return aligned, torch.stack(inputs)

    @torch.inference_mode()
    def encode(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """uint8 crops -> (identity codes, attribute probabilities, reconstructions)."""
        mu, _, logits = self.model.encode(to_model_input(inputs))
        probs = torch.sigmoid(logits)
        return mu, probs, self.model.decode(mu, probs)

    @torch.inference_mode()
    def decode_edits(self, analysis: Analysis, faces: Sequence[int], changes: Mapping[str, float]) -> torch.Tensor:
        """Edited crops in [0, 1] of the chosen faces: their own attributes with ``changes`` applied."""
        y = self.model.attribute_values(analysis.probs[list(faces)], changes)
        if analysis.decoders is None:
            return self.model.decode(analysis.mu[list(faces)], y)
        return decode_each([analysis.decoders[i] for i in faces], analysis.mu[list(faces)], y)

    def moves(self, analysis: Analysis, face: int, changes: Mapping[str, float]) -> dict[str, float]:
        """How far ``changes`` moves each attribute it names on that face (new value minus the face's own)."""
        own = analysis.probs[face]
        return {a: float(v) - float(own[self.attributes.index(a)]) for a, v in changes.items()}

    def paste(self, analysis: Analysis, faces: Sequence[int], edited: torch.Tensor,
              paste: PasteMode = "detail", deadline: Deadline = NO_DEADLINE,
              changes: Mapping[str, float] | None = None) -> np.ndarray:
        """The photo with the edited crops mapped back into it (original resolution elsewhere);
        ``changes`` (what was asked of the crops) picks the blend's focus regions."""
        out = analysis.image.copy()
        for i, crop in zip(faces, edited):
            deadline.check()
            face = analysis.faces[i]
            region = focus_region(crop.shape[-1], self.moves(analysis, i, changes or {}))
            content, replace = paste_layers(analysis.reconstructions[i:i + 1], crop[None], paste == "detail",
                                           self.blend, region)
            layers = torch.cat([content[0] * 255.0, replace[0]]).permute(1, 2, 0).numpy()
            up = cv2.resize(layers, (face.size, face.size), interpolation=cv2.INTER_CUBIC)
            paste_into(out, face.matrix, up[..., :3], up[..., 3].clip(0, 1))
        return out

    @torch.inference_mode()
    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """Attribute probabilities of crops in [0, 1]."""
        return self.model.predict_proba(images)

    def check(self, analysis: Analysis, faces: Sequence[int], image: np.ndarray) -> EditChecks | None:
        """The edit checks of the chosen faces of ``image`` (the returned photo) against the photo's own
        faces, or ``None`` without a checker. Each face is read in the CelebA-aligned frame at its own
        resolution; the photo's faces are read once per analysis (kept in ``analysis.readings``), and a
        face the edit left as it was reads as it did."""
        if self.checker is None:
            return None
        frames, before, after = [], {}, {}
        for i in faces:
            face = analysis.faces[i]
            scale = max(1.0, face.size / (CROP_BOX[2] - CROP_BOX[0]))
            original = warp_to_frame(analysis.image, face.face.landmarks, scale)
            edited = warp_to_frame(image, face.face.landmarks, scale)
            if i not in analysis.readings:
                before[i] = len(frames)
                frames.append(original)
            if not np.array_equal(original, edited):
                after[i] = len(frames)
                frames.append(edited)
        readings = self.checker.read(frames)
        for i, j in before.items():
            analysis.readings[i] = readings[j]
        return self.checker.compare([analysis.readings[i] for i in faces],
                                    [readings[after[i]] if i in after else analysis.readings[i] for i in faces])

    # -- the whole pipeline ------------------------------------------------------------------
    def analyze(self, image: Image.Image, deadline: Deadline = NO_DEADLINE, tune_steps: int = 0) -> Analysis:
        """Detect, align and encode every face of an RGB photo (raises NoFaceError, TooSlowError);
        with ``tune_steps`` also fit a decoder to each face, and each region editor's decoder to each
        face's region (sharper likeness, about 0.1 s a step)."""
        array = np.asarray(image.convert("RGB"))
        faces = self.detect(image)
        deadline.check()
        aligned, inputs = self.align(array, faces)
        deadline.check()
        mu, probs, recon = self.encode(inputs)
        regions = self.cut_regions(array, aligned)
        if not tune_steps:
            return Analysis(array, aligned, inputs, mu, probs, recon, regions=regions)
        decoders = tune_decoders(self.model, to_model_input(inputs), mu, probs, tune_steps, deadline.check)
        region_decoders = {e.name: e.tune(regions[e.name], tune_steps, deadline.check) for e in self.regions}
        with torch.inference_mode():
            recon = decode_each(decoders, mu, probs)
        return Analysis(array, aligned, inputs, mu, probs, recon, decoders, regions, region_decoders)

    def cut_regions(self, image: np.ndarray, faces: Sequence[AlignedFace]) -> dict[str, torch.Tensor]:
        """Each region editor's crops of ``faces`` (``N x 3 x H x W`` uint8, at the frame's resolution)."""
        return {e.name: torch.stack([torch.from_numpy(e.cut(image, f.face.landmarks)).permute(2, 0, 1)
                                     for f in faces]) for e in self.regions}

    def split_changes(self, changes: Mapping[str, float]) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
        """(the whole-face model's changes, each region editor's changes by its name)."""
        whole, regional = {}, {}
        for a, v in changes.items():
            if a in self.owner:
                regional.setdefault(self.owner[a].name, {})[a] = v
            else:
                whole[a] = v
        return whole, regional

    def compose(self, analysis: Analysis, faces: Sequence[int], changes: Mapping[str, float],
                paste: PasteMode = "detail", deadline: Deadline = NO_DEADLINE
                ) -> tuple[np.ndarray, torch.Tensor, list[RegionEdit]]:
        """The returned photo: the whole-face model's edit pasted (its attributes only), then each
        region editor's edit of its own attributes put in where its mask is on. Returns (photo, the
        whole-face decoded crops, the region edits)."""
        whole, regional = self.split_changes(changes)
        if whole:
            edited = self.decode_edits(analysis, faces, whole)
            image = self.paste(analysis, faces, edited, paste, deadline, whole)
        else:  # nothing for the whole face: its edit is its reconstruction, and the photo stays as it is
            edited, image = analysis.reconstructions[list(faces)], analysis.image.copy()
        edits = []
        for editor in self.regions:
            if editor.name not in regional:
                continue
            deadline.check()
            own = regional[editor.name]
            tuned = analysis.region_decoders.get(editor.name)
            edit = editor.edit(analysis.regions[editor.name][list(faces)], own,
                               None if tuned is None else [tuned[i] for i in faces])
            fill = any(a in FILL_ON_REMOVAL and v < 0.5 for a, v in own.items())
            for k, i in enumerate(faces):
                editor.paste(image, analysis.faces[i].face.landmarks, edit.decoded[k], edit.mask[k], fill,
                             None if edit.flow is None else edit.flow[k])
            edits.append(edit)
        return image, edited, edits

    def edit(self, analysis: Analysis, changes: Mapping[str, float], faces: Sequence[int] | None = None,
             paste: PasteMode = "detail", deadline: Deadline = NO_DEADLINE) -> EditResult:
        """Apply ``changes`` (attribute -> value) to the chosen faces (default: all) and paste them back
        (raises ValueError for bad arguments, TooSlowError past the deadline)."""
        self.check_changes(changes)
        faces = list(range(len(analysis.faces))) if faces is None else [int(i) for i in faces]
        if not faces:
            raise ValueError("no face chosen to edit")
        bad = [i for i in faces if not 0 <= i < len(analysis.faces)]
        if bad:
            raise ValueError(f"face {bad[0]} does not exist; this photo has faces 0 to {len(analysis.faces) - 1}")
        if paste not in PASTE_MODES:
            raise ValueError(f"paste must be one of {PASTE_MODES}, not {paste!r}")
        image, edited, regions = self.compose(analysis, faces, changes, paste, deadline)
        deadline.check()
        if regions:  # what the user gets: the returned photo's own crops
            _, returned = self.align(image, [analysis.faces[i].face for i in faces])
            edited = to_model_input(returned)
        return EditResult(
            image=image,
            faces=faces,
            aligned=_hwc(analysis.inputs[faces]),
            reconstructed=_hwc(to_uint8(analysis.reconstructions[faces])),
            edited=_hwc(to_uint8(edited)),
            before=analysis.probs[faces].numpy(),
            after=self.predict(edited).numpy(),
            attributes=self.attributes,
            boxes=np.stack([analysis.faces[i].face.box for i in faces]),
            checks=self.check(analysis, faces, image),
            regions=regions,
        )

    def check_changes(self, changes: Mapping[str, float]) -> None:
        """Refuse unknown attributes and values outside VALUE_RANGE, with a clear message."""
        lo, hi = VALUE_RANGE
        for name, value in changes.items():
            if name not in self.attributes:
                raise ValueError(f"unknown attribute {name!r}; this model edits {', '.join(self.attributes)}")
            if not isinstance(value, (int, float)) or not math.isfinite(value) or not lo <= value <= hi:
                raise ValueError(f"{name}={value!r}: values must be numbers from {lo} to {hi} "
                                 "(0 absent, 1 present)")
