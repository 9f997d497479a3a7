"""User-level evaluation: judge the photo the editor returns, as a person gets it.

    python -m evaluation.user_level --weights weights --data ../shared/celeba --split test \\
        --out results/weights_v3/user_level_focus --faces 80 --tune-faces 8 --threads 1

For each of the editor's attributes and each direction (off→on on faces CelebA labels without it,
on→off on faces labelled with it), a seeded sample of ``--faces`` faces of the split (the same faces
for every checkpoint) goes through the real pipeline (``FaceEditor``: MTCNN detection on the full
178 x 218 CelebA frame, alignment, edit, paste back): that attribute is set and the returned full
photo is judged by

- the strict judge (``evaluation.strict_judge``, ``strict_judge/``), on the frame;
- the 64 px judge (``judge/``), on the frame cropped and resized the editor's way
  (``model/preprocessing.py``);

success is the share of returned photos a judge reads as the target value, and the headline is the
lower of the two judges' shares, except for an attribute that the strict judge reads off a part of
the face (Smiling: its mouth part; Eyeglasses: its eyes part), where the strict judge's share is the
headline (blind eye checks found that ``judge/``, which reads the whole 64 px crop, takes the cheeks
and eyes of a smile that an edit of the mouth leaves, and faint frames, for edits that took;
:func:`headline_judges`). Same person: dlib's distance between the photo and the returned
photo under 0.6, a face dlib misses (or the editor does not find) counting as not the same person.
Others kept: the share of a judge's other decisions the edit leaves as they were on the photo.
Reported for the default paste (``detail``), for ``plain`` paste, for decoders tuned to each face
(``--tune-faces`` of each sample: tuning costs seconds per face) and, beside them, at crop level
(the decoded 64 x 64 edit judged by ``judge/``, as ``evaluation.evaluate`` does).

Also the z-probe (``evaluation/z_probe.py``) on the whole split's crops, and one contact sheet per
attribute and direction (``sheets/<attribute>_<on|off>.jpg``: the sample's first 16 faces, photo |
returned photo). Writes ``--out/metrics.json``, ``--out/results.md``, the sheets, and the same
``metrics.json`` next to the checkpoint when it is a local folder, ``--blend`` is the app's and the
split is not ``train`` or ``val`` (runs that pick settings on val leave the published figures alone).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, Sequence

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from evaluation.contact_sheet import Tile, save_sheet
from evaluation.identity import SAME_PERSON_THRESHOLD, FaceEmbedder, distance
from evaluation.judge import AttributeJudge
from evaluation.user_level_report import markdown_report
from evaluation.z_probe import encode, z_probe
from model.ifcvae import CheckpointError
from model.paste import Blend
from model.pipeline import Analysis, FaceEditor, NoFaceError, PasteMode
from model.preprocessing import CELEBA_FRAME, crop_and_resize, to_model_input
from model.strict_judge import PART_REGIONS
from model.tuning import DEFAULT_TUNE_STEPS
from training.celeba import CelebA, load_crops

#: Edit directions: name -> the attribute value set (on faces CelebA labels otherwise).
DIRECTIONS: dict[str, bool] = {"on": True, "off": False}
#: Faces per contact sheet.
SHEET_FACES = 16
#: Keys of the judges in the results.
STRICT, JUDGE = "strict_judge", "judge"
#: Results per way of editing: metrics.json key -> (paste mode, tuned decoders).
VARIANTS: dict[str, tuple[PasteMode, bool]] = {
    "user_level": ("detail", False), "user_level_plain": ("plain", False), "user_level_tuned": ("detail", True)}

Cell = tuple[str, str]  # (attribute, direction)


class FrameJudge(Protocol):
    """Reads attributes off photos in the CelebA frame."""

    attributes: tuple[str, ...]

    def read(self, frames: Sequence[Image.Image]) -> torch.Tensor:
        """``N x len(attributes)`` boolean decisions."""


class CroppingJudge:
    """``judge/`` on a CelebA-frame photo cropped and resized the editor's way, or on model crops."""

    def __init__(self, judge: AttributeJudge) -> None:
        self.judge = judge
        self.attributes = judge.attributes

    @torch.inference_mode()
    def read(self, frames: Sequence[Image.Image]) -> torch.Tensor:
        crops = torch.stack([crop_and_resize(f, self.judge.config.image_size) for f in frames])
        return self.judge.predict(to_model_input(crops))

    @torch.inference_mode()
    def read_crops(self, crops: np.ndarray) -> torch.Tensor:
        """Decisions on uint8 ``N x S x S x 3`` crops (the editor's aligned, decoded crops)."""
        return self.judge.predict(to_model_input(torch.from_numpy(crops).permute(0, 3, 1, 2)))


class StrictFrameJudge:
    """The strict judge (``evaluation.strict_judge``): probability > 0.5 on the whole frame."""

    def __init__(self, folder: str) -> None:
        from evaluation.strict_judge import StrictJudge  # built apart; imported only when used

        self.judge = StrictJudge.load(folder)
        self.attributes = tuple(self.judge.attributes)
        #: Attributes read by a part of the face where a person looks for them (Smiling: the mouth).
        self.read_by_part = frozenset(a for a, region in self.judge.read_by().items() if region != "face")

    @torch.inference_mode()
    def read(self, frames: Sequence[Image.Image]) -> torch.Tensor:
        return torch.as_tensor(self.judge.predict_proba(list(frames))) > 0.5


def headline_judges(judges: dict[str, FrameJudge], attribute: str) -> tuple[str, ...]:
    """The judges whose lower reading is an attribute's headline: all of them, except for an attribute
    that the strict judge reads off the part of the face where a person looks (its mouth part for
    Smiling, its eyes part for Eyeglasses), where only the strict judge counts."""
    strict = judges.get(STRICT)
    if isinstance(strict, StrictFrameJudge) and attribute in strict.read_by_part:
        return (STRICT,)
    return tuple(judges)


def choose_faces(labels: torch.Tensor, attributes: Sequence[str], per_cell: int, seed: int) -> dict[Cell, list[int]]:
    """For each attribute and direction, the first ``per_cell`` faces eligible for that edit (``labels``
    ``N x A`` in {0, 1}, columns in ``attributes`` order) in one seeded order of the split, so the
    cells share faces where they can and the choice depends only on the split and the seed."""
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    cells = {}
    for j, name in enumerate(attributes):
        for direction, target in DIRECTIONS.items():
            eligible = order[labels[order, j].bool() != target]
            cells[name, direction] = eligible[:per_cell].tolist()
    return cells


@dataclass
class CellTally:
    """The returned photos of one attribute, direction and way of editing, as judged."""

    judges: tuple[str, ...]
    headline_from: tuple[str, ...] = ()  # the judges the headline is the lower of (default: all)
    success: dict[str, list[bool]] = field(default_factory=dict)  # judge -> reads the target value
    baseline: dict[str, list[bool]] = field(default_factory=dict)  # judge -> reads it on the photo already
    kept: dict[str, list[float]] = field(default_factory=dict)  # judge -> share of other decisions kept
    distances: list[float] = field(default_factory=list)  # dlib photo -> returned photo, NaN if missed
    no_face: int = 0  # faces the editor did not find (nothing returned)

    def __post_init__(self) -> None:
        self.headline_from = self.headline_from or self.judges
        for store in (self.success, self.baseline, self.kept):
            for name in self.judges:
                store.setdefault(name, [])

    def add(self, baseline: dict[str, bool], success: dict[str, bool], kept: dict[str, float], dist: float) -> None:
        for name in self.judges:
            self.baseline[name].append(baseline[name])
            self.success[name].append(success[name])
            self.kept[name].append(kept[name])
        self.distances.append(dist)

    def add_no_face(self, baseline: dict[str, bool]) -> None:
        """A face the editor could not find: no photo came back, so neither success nor the same person."""
        for name in self.judges:
            self.baseline[name].append(baseline[name])
            self.success[name].append(False)
        self.distances.append(float("nan"))
        self.no_face += 1

    def summary(self) -> dict[str, Any]:
        """Shares per judge, the headline (the lower of :attr:`headline_from`), identity; ``None`` for an empty cell."""
        n = len(self.distances)
        by_judge = {name: {"success": mean(self.success[name]), "baseline": mean(self.baseline[name]),
                           "others_kept": mean(self.kept[name])} for name in self.judges}
        d = np.asarray(self.distances, dtype=np.float64)
        found = d[~np.isnan(d)]
        headline = min(self.headline_from, key=lambda j: by_judge[j]["success"]) if n else None
        kept = [v["others_kept"] for v in by_judge.values() if v["others_kept"] is not None]
        same = d < SAME_PERSON_THRESHOLD  # NaN (missed, no face) compares False
        return {"n": n,
                "success": by_judge[headline]["success"] if n else None,
                "judge": headline,
                "same_person": float(same.mean()) if n else None,
                "took_same_person": float((np.asarray(self.success[headline]) & same).mean()) if n else None,
                "mean_distance": float(found.mean()) if len(found) else None,
                "dlib_missed": int(len(d) - len(found) - self.no_face),
                "no_face": self.no_face,
                "others_kept": min(kept) if kept else None,
                "by_judge": by_judge}


@dataclass
class CropTally:
    """Crop level: ``judge/`` on the decoded 64 x 64 edit and on the reconstruction of the same face."""

    success: list[bool] = field(default_factory=list)
    baseline: list[bool] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"n": len(self.success), "success": mean(self.success), "baseline": mean(self.baseline),
                "judge": JUDGE}


def mean(values: Sequence[float | bool]) -> float | None:
    """Mean as a float; ``None`` for no values."""
    return float(np.mean(values)) if len(values) else None


def others_kept(before: torch.Tensor, after: torch.Tensor, attributes: tuple[str, ...], edited: str) -> float:
    """Share of a judge's decisions other than ``edited`` that are the same ``before`` and ``after``."""
    keep = torch.tensor([a != edited for a in attributes])
    return (before[keep] == after[keep]).float().mean().item()


def main_face(analysis: Analysis) -> int:
    """Index of the largest detected face (the CelebA subject, if MTCNN finds others too)."""
    areas = [(f.face.box[2] - f.face.box[0]) * (f.face.box[3] - f.face.box[1]) for f in analysis.faces]
    return int(np.argmax(areas))


class UserLevelEvaluation:
    """Runs the pipeline on chosen faces and tallies what the judges and dlib read on what comes back."""

    def __init__(self, editor: FaceEditor, judges: dict[str, FrameJudge], crop_judge: CroppingJudge,
                 embedder: FaceEmbedder, tune_steps: int) -> None:
        for name, judge in judges.items():
            missing = [a for a in editor.attributes if a not in judge.attributes]
            if missing:
                raise ValueError(f"the {name} does not read the editor's attributes {missing}")
        self.editor, self.judges, self.crop_judge = editor, judges, crop_judge
        self.embedder, self.tune_steps = embedder, tune_steps
        self.tallies = {(variant, cell): CellTally(tuple(judges), headline_judges(judges, cell[0]))
                        for variant in VARIANTS for cell in self.cells(editor.attributes)}
        self.crop = {cell: CropTally() for cell in self.cells(editor.attributes)}
        #: per cell, the contact sheet's tiles by their place in the sample
        self.tiles: dict[Cell, dict[int, Tile]] = {cell: {} for cell in self.cells(editor.attributes)}

    @staticmethod
    def cells(attributes: Sequence[str]) -> list[Cell]:
        return [(a, d) for a in attributes for d in DIRECTIONS]

    def read(self, frames: Sequence[Image.Image]) -> dict[str, torch.Tensor]:
        """Every judge's decisions on ``frames``."""
        return {name: judge.read(frames) for name, judge in self.judges.items()}

    def embed(self, frame: Image.Image) -> np.ndarray | None:
        """dlib's embedding of the largest face of a photo at its own size, or None."""
        return self.embedder.embed(np.asarray(frame))

    def run_face(self, frame: Image.Image, cells: dict[str, list[Cell]], sheet: dict[Cell, int]) -> None:
        """Edit one photo for each cell it was chosen for (``cells``: variant -> cells) and tally what
        comes back; the default-paste results of the ``sheet`` cells also become contact-sheet tiles (at
        the place given: the face's place in that cell's sample)."""
        original = self.read([frame])
        original_embedding = self.embed(frame)
        all_cells = sorted({c for v in cells.values() for c in v})
        baselines = {cell: {name: bool(original[name][0, self.judges[name].attributes.index(cell[0])]
                                       == DIRECTIONS[cell[1]]) for name in self.judges} for cell in all_cells}
        try:
            analysis = self.editor.analyze(frame)
        except NoFaceError:
            for variant, chosen in cells.items():
                for cell in chosen:
                    self.tallies[variant, cell].add_no_face(baselines[cell])
            for cell, place in sheet.items():
                self.tiles[cell][place] = Tile(frame, None, "no face found", 0, 1)
            return
        tuned = None
        returned: list[tuple[str, Cell, Image.Image]] = []
        for variant, chosen in cells.items():
            paste, tune = VARIANTS[variant]
            if tune and chosen and tuned is None:
                tuned = self.editor.analyze(frame, tune_steps=self.tune_steps)
            for cell in chosen:
                result = self.editor.edit(tuned if tune else analysis, {cell[0]: float(DIRECTIONS[cell[1]])},
                                          paste=paste)
                returned.append((variant, cell, Image.fromarray(result.image)))
                if variant == "user_level":
                    self.add_crop_level(cell, result.edited, result.reconstructed, main_face(analysis))
        if not returned:
            return
        decisions = self.read([r[2] for r in returned])
        for k, (variant, cell, image) in enumerate(returned):
            attribute, direction = cell
            success, kept = {}, {}
            for name, judge in self.judges.items():
                column = judge.attributes.index(attribute)
                success[name] = bool(decisions[name][k, column] == DIRECTIONS[direction])
                kept[name] = others_kept(original[name][0], decisions[name][k], judge.attributes, attribute)
            dist = distance(original_embedding, self.embed(image))
            self.tallies[variant, cell].add(baselines[cell], success, kept, dist)
            if variant == "user_level" and cell in sheet:
                self.tiles[cell][sheet[cell]] = self.tile(frame, image, success, dist)

    def add_crop_level(self, cell: Cell, edited: np.ndarray, reconstructed: np.ndarray, face: int) -> None:
        column = self.crop_judge.attributes.index(cell[0])
        target = DIRECTIONS[cell[1]]
        judged = self.crop_judge.read_crops(np.stack([edited[face], reconstructed[face]]))[:, column]
        self.crop[cell].success.append(bool(judged[0] == target))
        self.crop[cell].baseline.append(bool(judged[1] == target))

    @staticmethod
    def tile(frame: Image.Image, returned: Image.Image, success: dict[str, bool], dist: float) -> Tile:
        words = [f"{'strict' if name == STRICT else 'judge/'} {'yes' if ok else 'no'}" for name, ok in success.items()]
        same = not math.isnan(dist) and dist < SAME_PERSON_THRESHOLD
        words.append("dlib missed" if math.isnan(dist) else f"dlib {dist:.2f}")
        return Tile(frame, returned, " · ".join(words), sum(success.values()) + same, len(success) + 1)

    def results(self) -> dict[str, Any]:
        """Per variant: attribute -> direction -> summary; and the crop level."""
        out: dict[str, Any] = {}
        for variant in VARIANTS:
            out[variant] = {a: {d: self.tallies[variant, (a, d)].summary() for d in DIRECTIONS}
                            for a in self.editor.attributes}
        out["crop_level"] = {a: {d: self.crop[a, d].summary() for d in DIRECTIONS} for a in self.editor.attributes}
        return out


def summarize(results: dict[str, Any]) -> dict[str, Any]:
    """Means over attributes (per direction and over both) of each variant's headline numbers, and of
    each judge's success."""
    out: dict[str, Any] = {}
    for variant in (*VARIANTS, "crop_level"):
        cells = [(d, c) for per_dir in results[variant].values() for d, c in per_dir.items()]
        keys = (("success", "same_person", "took_same_person", "others_kept") if variant != "crop_level"
                else ("success", "baseline"))
        out[variant] = {}
        for direction in (*DIRECTIONS, "both"):
            chosen = [c for d, c in cells if direction in (d, "both")]
            out[variant][direction] = {k: mean([c[k] for c in chosen if c.get(k) is not None]) for k in keys}
            if variant != "crop_level":
                judges = {j for c in chosen for j in c["by_judge"]}
                out[variant][direction]["by_judge"] = {j: mean([c["by_judge"][j]["success"] for c in chosen
                                                                if c["by_judge"][j]["success"] is not None])
                                                       for j in sorted(judges)}
    return out


def load_frame(celeba: CelebA, index: int) -> Image.Image:
    """The CelebA-frame photo of the split's face ``index``."""
    with Image.open(celeba.image_path(celeba.names[index])) as im:
        frame = im.convert("RGB")
    if frame.size != CELEBA_FRAME:
        raise ValueError(f"{celeba.names[index]} is {frame.size}, not a CelebA aligned frame {CELEBA_FRAME}")
    return frame


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="Judge the photos the editor returns (user-level evaluation).")
    ap.add_argument("--weights", default="weights", help="checkpoint folder or Hugging Face Hub id")
    ap.add_argument("--data", required=True, help="CelebA folder (CelebA's own layout, original 178 x 218 frames)")
    ap.add_argument("--split", default="test", choices=["train", "val", "test", "all"])
    ap.add_argument("--out", required=True, help="folder for metrics.json, results.md and sheets/")
    ap.add_argument("--faces", type=int, default=80, help="faces per attribute and direction (default 80)")
    ap.add_argument("--tune-faces", type=int, default=8,
                    help="of those, how many are also edited with decoders tuned to them (0: skip)")
    ap.add_argument("--tune-steps", type=int, default=DEFAULT_TUNE_STEPS,
                    help="tuning steps per face (default: the app's)")
    ap.add_argument("--strict-judge", default="strict_judge",
                    help="the strict judge's folder ('none': judge with judge/ alone, and say so)")
    ap.add_argument("--judge", default="judge", help="the 64 px attribute judge's folder")
    ap.add_argument("--seed", type=int, default=0, help="seed of the face sample and the z-probe")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--cache-dir", default=None, help="where decoded crops are cached (z-probe)")
    ap.add_argument("--blend", type=Blend.parse, default=Blend(),
                    metavar="FULL_AT:BLUR[:START[:FOCUS_FULL_AT:FOCUS_START]]",
                    help=f"the default paste's blend (default: the app's, {Blend()}); with another blend "
                         "metrics.json is not written next to the checkpoint (nor for --split train or val)")
    args = ap.parse_args(argv)
    if args.faces < 1 or args.tune_faces < 0 or args.tune_steps < 1:
        ap.error("--faces must be >= 1, --tune-faces >= 0 and --tune-steps >= 1")
    return args


def load_judges(args: argparse.Namespace) -> tuple[dict[str, FrameJudge], CroppingJudge]:
    crop_judge = CroppingJudge(AttributeJudge.load(args.judge))
    judges: dict[str, FrameJudge] = {}
    if args.strict_judge != "none":
        try:
            judges[STRICT] = StrictFrameJudge(args.strict_judge)
        except CheckpointError as e:
            raise CheckpointError(f"{e}; or give --strict-judge none to judge with judge/ alone") from e
    judges[JUDGE] = crop_judge
    return judges, crop_judge


def weights_digest(folder: str) -> str:
    """The first 16 hex digits of the SHA-256 of a judge's ``model.safetensors`` and its parts' (which
    judge this was)."""
    h = hashlib.sha256(Path(folder, "model.safetensors").read_bytes())
    for part in sorted(PART_REGIONS):  # the sub-folders StrictJudge.load reads
        if Path(folder, part, "model.safetensors").is_file():
            h.update(Path(folder, part, "model.safetensors").read_bytes())
    return h.hexdigest()[:16]


def run_z_probe(editor: FaceEditor, celeba: CelebA, cache_dir: str | None, seed: int) -> dict[str, Any]:
    """The z-probe on all of the split's crops; skipped, with the reason, if the split is too small."""
    images = load_crops(celeba, editor.image_size, cache_dir, progress=False)
    mu, head = encode(editor.model, images)
    try:
        return z_probe(mu, celeba.labels(editor.attributes).bool(), head, editor.attributes, seed=seed)
    except ValueError as e:
        return {"skipped": str(e)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    t0 = time.time()
    try:
        editor = FaceEditor.load(args.weights)
        editor.blend = args.blend
        judges, crop_judge = load_judges(args)
        celeba = CelebA(args.data, args.split)
        embedder = FaceEmbedder(upsample=0)  # whole photos: the faces are large enough for dlib's detector
        evaluation = UserLevelEvaluation(editor, judges, crop_judge, embedder, args.tune_steps)
    except (OSError, ValueError) as e:  # CheckpointError, missing folders, judges that do not fit
        raise SystemExit(f"error: {e}") from e
    if not len(celeba):
        raise SystemExit(f"error: no images in split {args.split!r} of {args.data}")

    cells = choose_faces(celeba.labels(editor.attributes), editor.attributes, args.faces, args.seed)
    per_face: dict[int, dict[str, list[Cell]]] = {}
    for cell, faces in cells.items():
        for k, i in enumerate(faces):
            chosen = per_face.setdefault(i, {v: [] for v in VARIANTS})
            chosen["user_level"].append(cell)
            chosen["user_level_plain"].append(cell)
            if k < args.tune_faces:
                chosen["user_level_tuned"].append(cell)
    sheet_faces = {i: {c: faces.index(i) for c, faces in cells.items() if i in faces[:SHEET_FACES]} for i in per_face}
    tuned = sum(1 for chosen in per_face.values() if chosen["user_level_tuned"])
    print(f"{len(per_face)} faces of the {args.split} split ({args.faces} per attribute and direction where the "
          f"split has them; {tuned} of them also with tuned decoders, {args.tune_faces} per attribute and "
          f"direction); judges: {', '.join(judges)}", file=sys.stderr)
    with tqdm(total=len(per_face), desc="user-level", unit="face") as bar:
        for i in sorted(per_face):
            evaluation.run_face(load_frame(celeba, i), per_face[i], sheet_faces[i])
            bar.update(1)

    out = Path(args.out)
    sheets = {}
    for (attribute, direction), tiles in evaluation.tiles.items():
        if tiles:
            arrow = "off -> on" if DIRECTIONS[direction] else "on -> off"  # the sheet font has no arrow glyph
            title = (f"{attribute} {arrow}: photo | returned photo (default paste); "
                     f"{'strict judge, ' if STRICT in judges else ''}judge/, dlib distance")
            name = f"{attribute}_{direction}"
            save_sheet([tiles[k] for k in sorted(tiles)], title, out / "sheets" / f"{name}.jpg")
            sheets[name] = f"sheets/{name}.jpg"
    results = evaluation.results()
    probe = run_z_probe(editor, celeba, args.cache_dir, args.seed)
    metrics = {
        "command": " ".join(["python -m evaluation.user_level", *(argv if argv is not None else sys.argv[1:])]),
        "weights": str(args.weights), "data": str(args.data), "split": args.split, "seed": args.seed,
        "judge": ("the lower of strict_judge and judge per attribute and direction, except for attributes the "
                  "strict judge reads off a part of the face "
                  f"({', '.join(sorted(judges[STRICT].read_by_part)) or 'none'}), where strict_judge's "
                  "(each cell's 'judge' names it)"
                  if STRICT in judges else "judge (no strict judge given)"),
        "judges": {STRICT: args.strict_judge if STRICT in judges else None, JUDGE: args.judge},
        "judges_sha256": {name: weights_digest(folder) for name, folder in
                          ((STRICT, args.strict_judge), (JUDGE, args.judge)) if name in judges},
        "blend": vars(args.blend),
        "faces_per_cell": args.faces, "tune_faces_per_cell": args.tune_faces, "tune_steps": args.tune_steps,
        "faces": len(per_face), "tuned_faces": tuned, "same_person_threshold": SAME_PERSON_THRESHOLD,
        **results,
        "z_probe": {a: probe["mlp"][a] for a in editor.attributes} if "mlp" in probe else
        {a: None for a in editor.attributes},
        "z_probe_detail": probe,
        "summary": summarize(results),
        "sheets": sheets,
        "out": str(out),
        "minutes": round((time.time() - t0) / 60, 2),
    }
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(metrics, indent=2)
    (out / "metrics.json").write_text(text)
    if publishes(args):
        Path(args.weights, "metrics.json").write_text(text)
    (out / "results.md").write_text(markdown_report(metrics))
    print((out / "results.md").read_text())
    return metrics


def publishes(args: argparse.Namespace) -> bool:
    """Whether the run's figures are the checkpoint's own (written next to it): a local checkpoint as the
    app runs it (its blend), on held-out faces that no setting was picked on (not train or val)."""
    return own_figures(args.weights, args.split) and args.blend == Blend()


def own_figures(weights: str, split: str) -> bool:
    """Whether figures measured on ``split`` belong next to the checkpoint ``weights``: a local folder,
    judged on faces that no setting was picked on (not train or val)."""
    return Path(weights).is_dir() and split not in ("train", "val")


if __name__ == "__main__":
    main()
