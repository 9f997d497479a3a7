"""Fake attributes painted on real faces, and how often each attribute reader takes them for real.

A weak editor "adds glasses" by painting a soft dark band across the eyes and "adds a smile" by
smudging the mouth (the first checkpoint, v1, did both). These painters make the same kinds of smudge
on real CelebA frames, without adding the attribute:

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

Painters work on float images ``3 x H x W`` in [0, 1] with the face's 5 landmarks in that image's
pixels (left eye, right eye, nose, left and right mouth corner, as ``x, y``).
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

from model.preprocessing import CELEBA_FRAME, LANDMARK_TEMPLATE

#: CelebA's own landmark file (optional in a CelebA folder; otherwise :data:`LANDMARK_TEMPLATE`).
LANDMARKS_FILE = "list_landmarks_align_celeba.txt"

#: The attribute each fake imitates: eye kinds Eyeglasses, mouth kinds Smiling.
FAKE_ATTRIBUTE: dict[str, str] = {"eye_band": "Eyeglasses", "eye_blur": "Eyeglasses",
                                  "ghost_glasses": "Eyeglasses", "ghost_glasses_dark": "Eyeglasses",
                                  "mouth_blur": "Smiling", "mouth_dark": "Smiling", "ghost_smile": "Smiling"}
#: A face's width in eye distances (cheek to cheek at the eyes, CelebA aligned frames).
FACE_WIDTH = 2.5


def soft_ellipse(height: int, width: int, cx: float, cy: float, rx: float, ry: float,
                 feather: float = 0.25, power: float = 2.0) -> torch.Tensor:
    """``H x W`` mask in [0, 1]: 1 inside the (super)ellipse, falling to 0 over ``feather`` of its radius.

    ``power`` 2 is an ellipse; larger powers approach a rounded rectangle.
    """
    y = torch.arange(height, dtype=torch.float32)[:, None]
    x = torch.arange(width, dtype=torch.float32)[None, :]
    d = ((x - cx).abs() / rx) ** power + ((y - cy).abs() / ry) ** power
    d = d ** (1.0 / power)
    return ((1.0 - d) / feather + 0.5).clamp(0.0, 1.0)


def _eye_geometry(landmarks: np.ndarray) -> tuple[float, float, float]:
    """(centre x, centre y, eye distance) of a face's eyes."""
    (lx, ly), (rx, ry) = landmarks[0], landmarks[1]
    return (lx + rx) / 2, (ly + ry) / 2, float(np.hypot(rx - lx, ry - ly))


def _mouth_geometry(landmarks: np.ndarray) -> tuple[float, float, float]:
    """(centre x, centre y, mouth width) of a face's mouth."""
    (lx, ly), (rx, ry) = landmarks[3], landmarks[4]
    return (lx + rx) / 2, (ly + ry) / 2, float(np.hypot(rx - lx, ry - ly))


def blur_inside(image: torch.Tensor, mask: torch.Tensor, sigma: float) -> torch.Tensor:
    """``image`` Gaussian-blurred by ``sigma`` pixels where ``mask`` is 1, kept where it is 0.

    Only the mask's bounding box (plus the kernel's reach) is blurred.
    """
    rows, cols = torch.nonzero(mask.amax(1)).flatten(), torch.nonzero(mask.amax(0)).flatten()
    if len(rows) == 0:
        return image
    r = int(3 * sigma) + 1
    _, h, w = image.shape
    y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    py0, py1, px0, px1 = max(y0 - r, 0), min(y1 + r, h), max(x0 - r, 0), min(x1 + r, w)
    k = min(2 * r + 1, 2 * ((min(py1 - py0, px1 - px0) - 1) // 2) + 1)
    blurred = TF.gaussian_blur(image[:, py0:py1, px0:px1], [k, k], [sigma, sigma])
    out = image.clone()
    m = mask[y0:y1, x0:x1]
    out[:, y0:y1, x0:x1] = image[:, y0:y1, x0:x1] * (1 - m) + blurred[:, y0 - py0:y1 - py0, x0 - px0:x1 - px0] * m
    return out


def paint_eye_band(image: torch.Tensor, landmarks: np.ndarray, darkness: float = 0.4,
                   height: float = 0.6, width: float = 2.3, lens: float = 0.25,
                   soften: float = 0.07) -> torch.Tensor:
    """A dark band across both eyes: ``height`` and ``width`` in eye distances, ``darkness`` the share
    of light taken on the band, ``lens`` more of it over each eye; under it the eye region is blurred
    by ``soften`` eye distances (the decoder's own blur)."""
    _, h, w = image.shape
    cx, cy, d = _eye_geometry(landmarks)
    region = soft_ellipse(h, w, cx, cy, 0.62 * width * d, 1.1 * height * d, 0.5)
    out = blur_inside(image, region, soften * d) if soften > 0 else image
    band = soft_ellipse(h, w, cx, cy, 0.5 * width * d, 0.5 * height * d, 0.7, power=3.0)
    lenses = torch.maximum(*(soft_ellipse(h, w, float(ex), float(ey), 0.42 * d, 0.3 * d, 0.5)
                             for ex, ey in landmarks[:2]))
    shade = (darkness * band + lens * lenses * band).clamp(0.0, 0.95)
    return out * (1 - shade)


def paint_eye_blur(image: torch.Tensor, landmarks: np.ndarray, sigma: float = 0.12,
                   width: float = 2.2, height: float = 0.7) -> torch.Tensor:
    """The eye region (``width`` x ``height`` eye distances) blurred by ``sigma`` eye distances."""
    _, h, w = image.shape
    cx, cy, d = _eye_geometry(landmarks)
    mask = soft_ellipse(h, w, cx, cy, 0.5 * width * d, 0.5 * height * d, 0.4, power=3.0)
    return blur_inside(image, mask, sigma * d)


def paint_mouth_blur(image: torch.Tensor, landmarks: np.ndarray, sigma: float = 0.1,
                     width: float = 1.5, height: float = 0.75) -> torch.Tensor:
    """The mouth region (``width`` x ``height`` mouth widths) blurred by ``sigma`` mouth widths."""
    _, h, w = image.shape
    cx, cy, m = _mouth_geometry(landmarks)
    mask = soft_ellipse(h, w, cx, cy + 0.05 * m, 0.5 * width * m, 0.5 * height * m, 0.4)
    return blur_inside(image, mask, sigma * m)


def paint_mouth_dark(image: torch.Tensor, landmarks: np.ndarray, darkness: float = 0.45,
                     width: float = 1.15, height: float = 0.45, soften: float = 0.06) -> torch.Tensor:
    """The mouth region (``width`` x ``height`` mouth widths) darkened by ``darkness``, over a mouth
    blurred by ``soften`` mouth widths."""
    _, h, w = image.shape
    cx, cy, m = _mouth_geometry(landmarks)
    region = soft_ellipse(h, w, cx, cy, 0.8 * width * m, 1.0 * height * m, 0.5)
    out = blur_inside(image, region, soften * m) if soften > 0 else image
    mask = soft_ellipse(h, w, cx, cy + 0.05 * m, 0.5 * width * m, 0.5 * height * m, 0.5)
    return out * (1 - darkness * mask)


def _paint_ghost(image: torch.Tensor, centre: tuple[float, float], scale: float, donor: torch.Tensor,
                 donor_centre: tuple[float, float], opacity: float, sigma: float, darkness: float,
                 width: float, height: float) -> torch.Tensor:
    """The region of ``donor`` around ``donor_centre`` moved onto ``centre`` of ``image``, blurred by
    ``sigma``, darkened by ``darkness`` and blended at ``opacity`` through a soft ellipse of
    ``width`` x ``height`` (``sigma``, ``width`` and ``height`` in units of ``scale`` pixels)."""
    _, h, w = image.shape
    (cx, cy), (dx, dy) = centre, donor_centre
    moved = torch.roll(donor, (round(cy - dy), round(cx - dx)), dims=(1, 2))
    mask = soft_ellipse(h, w, cx, cy, 0.5 * width * scale, 0.5 * height * scale, 0.5)
    ghost = blur_inside(moved, (mask > 0).float(), sigma * scale) * (1 - darkness)
    alpha = opacity * mask
    return image * (1 - alpha) + ghost * alpha


def paint_ghost_glasses(image: torch.Tensor, landmarks: np.ndarray, donor: torch.Tensor,
                        donor_landmarks: np.ndarray | None = None, opacity: float = 0.5, sigma: float = 0.08,
                        darkness: float = 0.0, width: float = 2.4, height: float = 0.9) -> torch.Tensor:
    """Ghost glasses: the eye region of ``donor`` (a real face with glasses, the same size as ``image``,
    its landmarks ``donor_landmarks``, by default ``landmarks``) blurred by ``sigma`` eye distances,
    moved onto ``image``'s eyes, darkened by ``darkness`` and blended at ``opacity`` through a soft
    ellipse of ``width`` x ``height`` eye distances."""
    cx, cy, d = _eye_geometry(landmarks)
    dx, dy, _ = _eye_geometry(landmarks if donor_landmarks is None else donor_landmarks)
    return _paint_ghost(image, (cx, cy), d, donor, (dx, dy), opacity, sigma, darkness, width, height)


def paint_ghost_smile(image: torch.Tensor, landmarks: np.ndarray, donor: torch.Tensor,
                      donor_landmarks: np.ndarray | None = None, opacity: float = 0.7, sigma: float = 0.08,
                      width: float = 1.5, height: float = 0.8) -> torch.Tensor:
    """A ghost smile: the mouth region of ``donor`` (a real smiling face, the same size as ``image``,
    its landmarks ``donor_landmarks``, by default ``landmarks``) blurred by ``sigma`` mouth widths,
    moved onto ``image``'s mouth and blended at ``opacity`` through a soft ellipse of ``width`` x
    ``height`` mouth widths."""
    cx, cy, m = _mouth_geometry(landmarks)
    dx, dy, _ = _mouth_geometry(landmarks if donor_landmarks is None else donor_landmarks)
    return _paint_ghost(image, (cx, cy + 0.05 * m), m, donor, (dx, dy + 0.05 * m), opacity, sigma, 0.0,
                        width, height)


def paint_ghost_glasses_dark(image: torch.Tensor, landmarks: np.ndarray, donor: torch.Tensor,
                             donor_landmarks: np.ndarray | None = None) -> torch.Tensor:
    """:func:`paint_ghost_glasses`, more opaque and darkened (the editor's dark smears)."""
    return paint_ghost_glasses(image, landmarks, donor, donor_landmarks, opacity=0.6, darkness=0.3)


def soften_face(image: torch.Tensor, landmarks: np.ndarray, face_px: float) -> torch.Tensor:
    """``image`` resized down so the face is ``face_px`` wide (:data:`FACE_WIDTH` eye distances), and back up."""
    _, h, w = image.shape
    scale = face_px / (FACE_WIDTH * _eye_geometry(landmarks)[2])
    small = [max(round(h * scale), 1), max(round(w * scale), 1)]
    return TF.resize(TF.resize(image, small, antialias=True), [h, w], antialias=True)


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
    from evaluation.strict_judge import StrictJudge

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
        from evaluation.strict_judge import write_readme

        metrics_file = Path(args.strict_judge) / "metrics.json"
        metrics = json.loads(metrics_file.read_text())
        metrics["fakes"] = result
        metrics_file.write_text(json.dumps(metrics, indent=2))
        write_readme(args.strict_judge)
    return result


if __name__ == "__main__":
    main()
