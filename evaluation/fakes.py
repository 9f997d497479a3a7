"""Fake attributes painted on real faces, and how often each attribute reader takes them for real.

A weak editor "adds glasses" by painting a soft dark band across the eyes and "adds a smile" by
smudging the mouth (the first checkpoint, v1, did both). The painters of ``evaluation/painters.py`` make
the same kinds of smudge on real CelebA frames, without adding the attribute:

* ``eye_band``: a dark, soft-edged band across both eyes, darker over each eye, over a softened
  eye region (what v1 drew for Eyeglasses=1);
* ``eye_blur``: the eye region blurred;
* ``mouth_blur``: the mouth region blurred;
* ``mouth_dark``: the mouth region darkened;
* ``ghost_glasses`` and ``ghost_glasses_dark``: the eye region of a real face *with* glasses (the
  donor), blurred so that its frames become soft smears and blended at partial opacity over the eyes
  of a face without glasses, plain or darkened (what failed "add glasses" edits look like: faint,
  blurred, see-through outlines of frames);
* ``ghost_smile``: the mouth region of a real *smiling* face (the donor), blurred so that lips and
  teeth become a soft light smear, blended over the mouth of a face that is not smiling (what a
  weak "add a smile" edit looks like).

Eye fakes are made from faces without glasses and should be read "no glasses"; mouth fakes from
faces that are not smiling and should be read "not smiling". Beside them, ``soft_60`` and ``soft_40``
make real faces *with* glasses, and real *smiling* faces, as soft as a decoder's output (the frame
resized down so the face is 60 or 40 px wide, and back up; 40 px is the editor's own 64 px crop);
these should still be read "glasses" / "smiling"::

    python -m evaluation.fakes --data ../shared/celeba --split test --n 500

reports how often the strict judge (``strict_judge/``), the 64 px judge (``judge/``, on the
editor's crop) and the shipped editor's encoder head (``weights/``) are fooled, and with ``--write``
stores the table in ``strict_judge/metrics.json`` (``"fakes"``) and its README.

Landmarks are the face's 5 points in the frame's pixels (left eye, right eye, nose, left and right
mouth corner, as ``x, y``).
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torchvision.transforms.v2 import functional as TF

from evaluation.painters import (paint_eye_band, paint_eye_blur, paint_ghost_glasses, paint_ghost_glasses_dark,
                                 paint_ghost_smile, paint_mouth_blur, paint_mouth_dark, soften_face)
from evaluation.strict_judge import write_readme
from model.preprocessing import CELEBA_FRAME, LANDMARK_TEMPLATE
from model.strict_judge import StrictJudge

#: CelebA's own landmark file (optional in a CelebA folder; otherwise :data:`LANDMARK_TEMPLATE`).
LANDMARKS_FILE = "list_landmarks_align_celeba.txt"

#: The attribute each fake imitates: eye kinds Eyeglasses, mouth kinds Smiling.
FAKE_ATTRIBUTE: dict[str, str] = {"eye_band": "Eyeglasses", "eye_blur": "Eyeglasses",
                                  "ghost_glasses": "Eyeglasses", "ghost_glasses_dark": "Eyeglasses",
                                  "mouth_blur": "Smiling", "mouth_dark": "Smiling", "ghost_smile": "Smiling"}
#: The fakes of the report and the test, each with its fixed parameters (the ghost kinds also take
#: the donor and its landmarks).
FAKES: dict[str, Callable[..., torch.Tensor]] = {
    "eye_band": paint_eye_band, "eye_blur": paint_eye_blur,
    "ghost_glasses": paint_ghost_glasses, "ghost_glasses_dark": paint_ghost_glasses_dark,
    "mouth_blur": paint_mouth_blur, "mouth_dark": paint_mouth_dark, "ghost_smile": paint_ghost_smile,
}
#: The fakes made from a donor face that has the attribute they imitate (glasses, a smile).
DONOR_FAKES = frozenset({"ghost_glasses", "ghost_glasses_dark", "ghost_smile"})
#: Softenings that keep the attribute (real faces as soft as a decoder draws them): kind -> face width in px.
SOFTENINGS: dict[str, float] = {"soft_60": 60.0, "soft_40": 40.0}


def _to_tensor(frame: Image.Image) -> torch.Tensor:
    return TF.to_dtype(TF.pil_to_tensor(frame.convert("RGB")), torch.float32, scale=True)


def template_landmarks(size: tuple[int, int]) -> np.ndarray:
    """The CelebA mean landmarks (:data:`LANDMARK_TEMPLATE`) scaled to a frame of ``size`` (width, height)."""
    return LANDMARK_TEMPLATE * (np.array(size) / np.array(CELEBA_FRAME))


def make_fake(frame: Image.Image, kind: str, landmarks: np.ndarray | None = None,
              donor: Image.Image | None = None, donor_landmarks: np.ndarray | None = None) -> Image.Image:
    """One fake of ``kind`` (a key of :data:`FAKES` or :data:`SOFTENINGS`) made of a CelebA-aligned frame
    (PIL in, PIL out).

    ``landmarks`` are the face's 5 landmarks in the frame's pixels; by default the CelebA mean
    (:data:`LANDMARK_TEMPLATE`) scaled to the frame's size. The kinds of :data:`DONOR_FAKES` need
    ``donor``, an aligned frame of a face with the attribute they imitate (resized to the frame's
    size), with its landmarks ``donor_landmarks`` in the donor's pixels (by default the mean).
    """
    if kind not in FAKES and kind not in SOFTENINGS:
        raise ValueError(f"unknown fake {kind!r}; one of {sorted([*FAKES, *SOFTENINGS])}")
    if landmarks is None:
        landmarks = template_landmarks(frame.size)
    image = _to_tensor(frame)
    if kind in SOFTENINGS:
        fake = soften_face(image, landmarks, SOFTENINGS[kind])
    elif kind in DONOR_FAKES:
        if donor is None:
            raise ValueError(f"the {kind} fake needs a donor face with {FAKE_ATTRIBUTE[kind]}")
        scale = np.array(frame.size) / np.array(donor.size)
        donor_lm = (template_landmarks(donor.size) if donor_landmarks is None else donor_landmarks) * scale
        fake = FAKES[kind](image, landmarks, _to_tensor(donor.resize(frame.size, Image.BICUBIC)), donor_lm)
    else:
        fake = FAKES[kind](image, landmarks)
    return TF.to_pil_image(TF.to_dtype(fake.clamp(0, 1), torch.uint8, scale=True))


def read_landmarks(celeba_root: str | Path) -> dict[str, np.ndarray] | None:
    """CelebA's aligned landmarks (``name -> 5 x 2``) if the folder has the file, else None."""
    path = Path(celeba_root) / LANDMARKS_FILE
    if not path.is_file():
        return None
    out = {}
    for line in path.read_text().splitlines()[2:]:
        parts = line.split()
        if len(parts) == 11:
            out[parts[0]] = np.array([float(p) for p in parts[1:]]).reshape(5, 2)
    return out


# --- how often each reader is fooled -----------------------------------------------------------

Reader = Callable[[Sequence[Image.Image]], dict[str, torch.Tensor]]


def strict_reader(folder: str | Path = "strict_judge") -> Reader:
    """The strict judge's probabilities per attribute name."""
    judge = StrictJudge.load(folder)

    def read(frames: Sequence[Image.Image]) -> dict[str, torch.Tensor]:
        p = judge.predict_proba(frames)
        return {a: p[:, i] for i, a in enumerate(judge.attributes)}
    return read


def crop_judge_reader(folder: str | Path = "judge") -> Reader:
    """The 64 px judge on the editor's crop of each frame (decisions as 0 / 1)."""
    from evaluation.judge import AttributeJudge
    from model.preprocessing import crop_and_resize, to_model_input

    judge = AttributeJudge.load(folder)

    def read(frames: Sequence[Image.Image]) -> dict[str, torch.Tensor]:
        x = to_model_input(torch.stack([crop_and_resize(f, judge.config.image_size) for f in frames]))
        p = judge.predict(x).float()
        return {a: p[:, i] for i, a in enumerate(judge.attributes)}
    return read


def head_reader(folder: str | Path = "weights") -> Reader:
    """The shipped editor's encoder head on the editor's 64 px crop of each frame."""
    from model import IFcVAEGAN
    from model.preprocessing import crop_and_resize, to_model_input

    model = IFcVAEGAN.load(folder).eval()

    def read(frames: Sequence[Image.Image]) -> dict[str, torch.Tensor]:
        x = to_model_input(torch.stack([crop_and_resize(f, model.config.image_size) for f in frames]))
        p = model.predict_proba(x)
        return {a: p[:, i] for i, a in enumerate(model.attributes)}
    return read


def fooled_rates(frames: Sequence[Image.Image], readers: dict[str, Reader], kinds: Sequence[str],
                 landmarks: Sequence[np.ndarray | None] | None = None,
                 donors: Sequence[Image.Image] = (), donor_landmarks: Sequence[np.ndarray | None] | None = None,
                 batch: int = 50, attribute: str | None = None) -> dict[str, dict[str, float]]:
    """Share of ``frames`` made into each kind of fake (or softening) that each reader reads as having
    ``attribute`` (by default the one the first kind imitates; probability > 0.5); ``"none"`` is the
    same on the untouched frames.

    Donor fakes of frame ``i`` take ``donors[i % len(donors)]`` (with its landmarks, if given).
    """
    landmarks = list(landmarks) if landmarks is not None else [None] * len(frames)
    donor_landmarks = list(donor_landmarks) if donor_landmarks is not None else [None] * len(donors)
    attribute = attribute or FAKE_ATTRIBUTE[kinds[0]]
    out: dict[str, dict[str, float]] = {}
    for kind in ["none", *kinds]:
        hits = {name: 0 for name in readers}
        for i in range(0, len(frames), batch):
            chunk = frames[i:i + batch]
            if kind != "none":
                chunk = [make_fake(f, kind, landmarks[j], *_donor(j, kind, donors, donor_landmarks))
                         for j, f in enumerate(chunk, start=i)]
            for name, read in readers.items():
                hits[name] += int((read(chunk)[attribute] > 0.5).sum())
        out[kind] = {name: h / len(frames) for name, h in hits.items()}
    return out


def _donor(i: int, kind: str, donors: Sequence[Image.Image],
           donor_landmarks: Sequence[np.ndarray | None]) -> tuple[Image.Image | None, np.ndarray | None]:
    """The donor (and its landmarks) of frame ``i`` for a fake of ``kind``; (None, None) if it takes none."""
    if kind not in DONOR_FAKES:
        return None, None
    if not donors:
        raise ValueError(f"the {kind} fake needs donor faces with {FAKE_ATTRIBUTE[kind]}")
    return donors[i % len(donors)], donor_landmarks[i % len(donors)]


def markdown_table(rates: dict[str, dict[str, dict[str, float]]], counts: dict[str, int]) -> str:
    """The fooled rates of :func:`report` as a markdown table (one row per fake)."""
    readers = list(next(iter(next(iter(rates.values())).values())))
    lines = ["| faces | fake | " + " | ".join(readers) + " |", "| --- | --- |" + " --- |" * len(readers)]
    for group, by_kind in rates.items():
        for kind, by_reader in by_kind.items():
            lines.append(f"| {group} ({counts[group]}) | {kind} | "
                         + " | ".join(f"{100 * v:.1f} %" for v in by_reader.values()) + " |")
    return "\n".join(lines)


#: The report's groups: name, the attribute read, its value on the group's faces, the kinds made of
#: them, and the group whose faces are the donors of its ghosts (None: no ghosts).
GROUPS: tuple[tuple[str, str, int, tuple[str, ...], str | None], ...] = (
    ("no glasses", "Eyeglasses", 0, ("eye_band", "eye_blur", "ghost_glasses", "ghost_glasses_dark"), "glasses"),
    ("glasses", "Eyeglasses", 1, tuple(SOFTENINGS), None),
    ("not smiling", "Smiling", 0, ("mouth_blur", "mouth_dark", "ghost_smile"), "smiling"),
    ("smiling", "Smiling", 1, tuple(SOFTENINGS), None),
)


def report(data: str | Path, split: str, n: int, readers: dict[str, Reader],
           seed: int = 0) -> dict[str, Any]:
    """Rates on up to ``n`` faces of ``split`` per group of :data:`GROUPS`: eye fakes on faces without
    glasses (ghosts made of the group "glasses", faces of the same split), mouth fakes on faces not
    smiling (ghosts made of the group "smiling"), softenings on faces with glasses and on smiling faces."""
    from training.celeba import CelebA

    celeba = CelebA(data, split)
    attributes = sorted({attribute for _, attribute, _, _, _ in GROUPS})
    labels = celeba.labels(attributes)
    all_landmarks = read_landmarks(data)
    rng = random.Random(seed)
    chosen = {}
    for group, attribute, value, _, _ in GROUPS:
        column = attributes.index(attribute)
        pool = [celeba.names[i] for i in torch.nonzero(labels[:, column] == value).flatten().tolist()]
        names = sorted(rng.sample(pool, min(n, len(pool))))
        frames = []
        for name in names:
            with Image.open(celeba.image_path(name)) as im:
                frames.append(im.convert("RGB"))
        chosen[group] = frames, [all_landmarks[name] for name in names] if all_landmarks else None
    rates = {group: fooled_rates(chosen[group][0], readers, kinds, chosen[group][1],
                                 *(chosen[donor_group] if donor_group else ((), None)), attribute=attribute)
             for group, attribute, _, kinds, donor_group in GROUPS}
    counts = {group: len(chosen[group][0]) for group in chosen}
    return {"split": split, "faces": counts, "landmarks": "CelebA file" if all_landmarks else "CelebA mean",
            "fooled": rates, "table": markdown_table(rates, counts)}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="How often the strict judge, judge/ and the editor's head "
                                             "are fooled by painted glasses and smiles.")
    ap.add_argument("--data", required=True, help="CelebA folder (CelebA's own layout)")
    ap.add_argument("--split", default="test", choices=("train", "val", "test"))
    ap.add_argument("--n", type=int, default=500,
                    help="faces per group (without glasses; with glasses; not smiling; smiling), at most")
    ap.add_argument("--strict-judge", default="strict_judge", help="strict judge folder")
    ap.add_argument("--judge", default="judge", help="64 px judge folder")
    ap.add_argument("--weights", default="weights", help="editor checkpoint (its encoder head)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--write", action="store_true",
                    help="store the result in the strict judge's metrics.json and README")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    readers = {"strict judge": strict_reader(args.strict_judge), "judge/ (64 px)": crop_judge_reader(args.judge),
               "encoder head": head_reader(args.weights)}
    result = report(args.data, args.split, args.n, readers)
    result["command"] = "python -m evaluation.fakes " + " ".join(argv if argv is not None else sys.argv[1:])
    print(result["table"])
    if args.write:
        metrics_file = Path(args.strict_judge) / "metrics.json"
        metrics = json.loads(metrics_file.read_text())
        metrics["fakes"] = result
        metrics_file.write_text(json.dumps(metrics, indent=2))
        write_readme(args.strict_judge)
    return result


if __name__ == "__main__":
    main()
