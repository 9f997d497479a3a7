"""A blind check by eye of what the judges read on returned photos.

    python -m evaluation.eye_check make --weights weights --data ../shared/celeba --out results/x/eye_check
    (each rater follows results/x/eye_check/grids/INSTRUCTIONS.md: looks at grids/*.png, writes ratings.json)
    python -m evaluation.eye_check score --out results/x/eye_check --ratings ratings.json

``make`` takes, for each attribute asked for (default Smiling and Eyeglasses), the first ``--faces``
faces of the user-level evaluation's seeded samples in each direction (the faces of its contact
sheets), edits them through the real pipeline (default paste), and mixes the returned photos with
the untouched photos of the same faces. The mix is shuffled (each checkpoint in its own order, so
that a rater of two checkpoints cannot carry answers over) and drawn as numbered grids, one
attribute at a time, with nothing on them that says which photo is an edit: a person answers, for
every number, "does this face show the attribute?" and "does the face look edited or retouched?".
``key.json`` (not to be opened before rating)
holds what each number is and what the strict judge and ``judge/`` read on it.

``score`` takes one ratings file per rater (``{"<attribute>": [numbers rated as showing it], ...,
"edited": {"<attribute>": [numbers that look edited or retouched]}}``, given as ``NAME=FILE`` or
``FILE``; ``edited`` may be left out) and writes ``eye_check.json`` and ``eye_check.md``: per
attribute and direction, the share of edits the eye reads as the target (the mean over raters, and
each rater's), beside each judge's share on the same photos, and ``took_unedited``: the share that
both took and were not flagged as edited; and, as each rater's control, how often the eye agrees
with CelebA's labels on the untouched photos and (``unflagged``) how many of them it does not flag. For a local checkpoint checked on
a held-out split, ``eye_check.json`` also goes next to it, where its model card reads it.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from pathlib import Path
from typing import Any

import torch
from PIL import Image, ImageDraw, ImageFont
from tqdm import tqdm

from evaluation.report import pct
from evaluation.user_level import (DIRECTIONS, SHEET_FACES, choose_faces, headline_judges, load_frame, load_judges,
                                   mean, own_figures)
from model.pipeline import FaceEditor, NoFaceError
from model.preprocessing import EDIT_REGIONS
from training.celeba import CelebA

#: Attributes checked unless told otherwise: the two the product is judged on.
DEFAULT_ATTRIBUTES = ("Smiling", "Eyeglasses")
#: Photos per grid, and grid columns.
GRID_PHOTOS, GRID_COLUMNS = 16, 4
#: The first question for each attribute, as every rater reads it (``grids/INSTRUCTIONS.md``).
QUESTIONS = {
    "Smiling": "Is the person smiling? (mouth corners up, with the lips closed or parted; a neutral, talking or "
               "shouting mouth is no)",
    "Eyeglasses": "Is the person wearing glasses? (sunglasses count; glasses pushed up onto the head do not)",
}
#: The second question, the same for every attribute.
EDITED_QUESTION = ("Does the face look edited or retouched? (a smeared, blurred, warped or painted-looking part, "
                   "colours that do not match, distorted shapes; flag a photo for what it shows itself)")
INSTRUCTIONS_NAME = "INSTRUCTIONS.md"
CAPTION, PAD = 18, 6


def grid(photos: list[Image.Image], numbers: list[int], title: str) -> Image.Image:
    """``photos`` (one size) in rows of :data:`GRID_COLUMNS`, each with its number under it."""
    w, h = photos[0].size
    rows = -(-len(photos) // GRID_COLUMNS)
    sheet = Image.new("RGB", (GRID_COLUMNS * (w + PAD) + PAD, 24 + rows * (h + CAPTION + PAD) + PAD), "white")
    draw = ImageDraw.Draw(sheet)
    draw.text((PAD, 4), title, fill="black", font=ImageFont.load_default(size=14))
    font = ImageFont.load_default(size=14)
    for k, (photo, number) in enumerate(zip(photos, numbers)):
        row, col = divmod(k, GRID_COLUMNS)
        x, y = PAD + col * (w + PAD), 24 + PAD + row * (h + CAPTION + PAD)
        sheet.paste(photo.convert("RGB"), (x, y))
        draw.text((x + 2, y + h + 1), f"#{number}", fill="black", font=font)
    return sheet


def checkpoint_digest(weights: str) -> str:
    """The whole SHA-256 of a local checkpoint's ``model.safetensors`` (the order the committed keys
    were drawn in), else the name given (a Hub id). With region editors (``eyes/``, ``mouth/``) their
    weights and configs count too, so that each composition has its own order."""
    path = Path(weights, "model.safetensors")
    if not path.is_file():
        return str(weights)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    parts = [Path(weights, name, f) for name in EDIT_REGIONS for f in ("config.json", "model.safetensors")]
    if not any(p.is_file() for p in parts):
        return digest
    h = hashlib.sha256(digest.encode())
    for part in parts:
        h.update(part.read_bytes() if part.is_file() else b"-")
    return h.hexdigest()


def instructions(key: dict[str, Any]) -> str:
    """What a rater is told, written beside the grids so that every panel reads the same words: the
    two questions per attribute, the numbers to answer for, and the answer's form."""
    lines = ["# Rating instructions", "",
             "Look at every grid in this folder by eye, at its normal size. Do not open any other file and do "
             "not analyse the images with code. Some people appear more than once.", ""]
    answer: dict[str, Any] = {}
    for attribute, entry in key["attributes"].items():
        count = sum("number" in i for i in entry["items"])
        names = [Path(g).name for g in entry["grids"]]
        grids = names[0] if len(names) == 1 else f"{names[0]} to {names[-1]}"
        question = QUESTIONS.get(attribute, f"Does the face show {attribute.replace('_', ' ').lower()}?")
        lines += [f"## {attribute} ({grids}: numbers 1 to {count})", "", "For every number answer two questions:",
                  "", f"1. {question}", f"2. {EDITED_QUESTION}", ""]
        answer[attribute] = [3, 8]
    answer["edited"] = {a: [5] for a in key["attributes"]}
    lines += ["## Your answer", "", "One JSON file of this form, each list holding the numbers that answer yes "
              "(question 1 under the attribute's name, question 2 under \"edited\"), for example:", "", "```json",
              json.dumps(answer), "```", "",
              "and a few sentences on what you looked for, what the flagged photos showed, and your least "
              "certain calls.", ""]
    return "\n".join(lines)


def make(args: argparse.Namespace) -> dict[str, Any]:
    """Edit, mix, shuffle and draw the grids; write ``key.json``."""
    try:
        editor = FaceEditor.load(args.weights)
        judges, _ = load_judges(args)
        celeba = CelebA(args.data, args.split)
    except (OSError, ValueError) as e:  # CheckpointError, missing folders, judges that do not fit
        raise SystemExit(f"error: {e}") from e
    missing = [a for a in args.attributes if a not in editor.attributes]
    if missing:
        raise SystemExit(f"error: the checkpoint does not edit {missing}; it edits {list(editor.attributes)}")
    labels = celeba.labels(editor.attributes)
    cells = choose_faces(labels, editor.attributes, args.faces, args.seed)
    out = Path(args.out)
    rng = random.Random(f"{args.seed}:{checkpoint_digest(args.weights)}")  # each checkpoint its own order
    key: dict[str, Any] = {"weights": str(args.weights), "split": args.split, "seed": args.seed,
                           "faces": args.faces, "judges": list(judges), "attributes": {}}
    for attribute in args.attributes:
        column = editor.attributes.index(attribute)
        items: list[dict[str, Any]] = []
        photos: list[Image.Image | None] = []
        for direction, target in DIRECTIONS.items():
            for index in tqdm(cells[attribute, direction], desc=f"{attribute} {direction}", unit="face"):
                frame = load_frame(celeba, index)
                face = {"index": index, "name": celeba.names[index], "label": bool(labels[index, column])}
                items.append({**face, "kind": "photo"})
                photos.append(frame)
                try:
                    result = editor.edit(editor.analyze(frame), {attribute: float(target)})
                except NoFaceError:
                    items.append({**face, "kind": f"edit_{direction}", "no_face": True})
                    photos.append(None)
                    continue
                items.append({**face, "kind": f"edit_{direction}", "no_face": False})
                photos.append(Image.fromarray(result.image))
        shown = [k for k, p in enumerate(photos) if p is not None]
        readings = {name: judge.read([photos[k] for k in shown]) for name, judge in judges.items()}
        for row, k in enumerate(shown):
            items[k]["read"] = {name: bool(r[row, judge.attributes.index(attribute)])
                                for (name, r), judge in zip(readings.items(), judges.values())}
        rng.shuffle(shown)
        for number, k in enumerate(shown, start=1):
            items[k]["number"] = number
        grids = []
        for start in range(0, len(shown), GRID_PHOTOS):
            chunk = shown[start:start + GRID_PHOTOS]
            path = out / "grids" / f"{attribute}_{start // GRID_PHOTOS + 1}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            grid([photos[k] for k in chunk], [items[k]["number"] for k in chunk],
                 f"{attribute}: which numbers show it? Which look edited or retouched?").save(path)
            grids.append(str(path.relative_to(out)))
        key["attributes"][attribute] = {"grids": grids, "items": items,
                                        "headline_judges": list(headline_judges(judges, attribute))}
    (out / "key.json").write_text(json.dumps(key, indent=2))
    (out / "grids" / INSTRUCTIONS_NAME).write_text(instructions(key))
    print(f"{sum(len(a['grids']) for a in key['attributes'].values())} grids in {out / 'grids'}; rate them "
          "before opening key.json", file=sys.stderr)
    return key


def numbers_of(answers: list[Any]) -> set[int]:
    """A rater's list of numbers (``3`` or ``"3"``) as ints; anything else is a clear error."""
    out = set()
    for a in answers:
        if isinstance(a, bool) or not (isinstance(a, int) or (isinstance(a, str) and a.strip().isdigit())):
            raise ValueError(f"{a!r} is not a number of a photo")
        out.add(int(a))
    return out


def tally(key: dict[str, Any], ratings: dict[str, Any]) -> dict[str, Any]:
    """Per attribute: each direction's eye and judge success on the edits (and, with the ``edited``
    answers, the share that took and look unedited), and the eye's agreement with CelebA's labels
    on the untouched photos (and the share of them not flagged as edited)."""
    results: dict[str, Any] = {}
    flagged_by_attribute = ratings.get("edited")
    for attribute, entry in key["attributes"].items():
        if attribute not in ratings:
            raise ValueError(f"no ratings for {attribute}")
        yes = numbers_of(ratings[attribute])
        flagged = None if flagged_by_attribute is None else numbers_of(flagged_by_attribute.get(attribute, []))
        numbers = {item["number"] for item in entry["items"] if "number" in item}
        unknown = (yes | (flagged or set())) - numbers
        if unknown:
            raise ValueError(f"{attribute}: numbers {sorted(unknown)} are not on its grids")
        out: dict[str, Any] = {}
        for direction, target in DIRECTIONS.items():
            edits = [i for i in entry["items"] if i["kind"] == f"edit_{direction}"]
            took = [not i["no_face"] and (i["number"] in yes) == target for i in edits]
            judged = {name: [not i["no_face"] and i["read"][name] == target for i in edits] for name in key["judges"]}
            unedited = None if flagged is None else mean(
                [t and i["number"] not in flagged for t, i in zip(took, edits)])
            out[direction] = {"n": len(edits), "eye": mean(took), "took_unedited": unedited,
                              "judges": {name: mean(v) for name, v in judged.items()},
                              "headline_judges": entry.get("headline_judges", key["judges"])}
        photos = [i for i in entry["items"] if i["kind"] == "photo"]
        out["photos"] = {"n": len(photos), "eye_agrees_with_labels": mean(
            [(i["number"] in yes) == i["label"] for i in photos]),
            "unflagged": None if flagged is None else mean([i["number"] not in flagged for i in photos])}
        results[attribute] = out
    return results


def combine(by_rater: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Several raters' :func:`tally` results -> one, whose eye figures are the raters' mean, each rater's
    kept beside it (``eye_by_rater``, ``took_unedited_by_rater``, ``eye_agrees_by_rater``,
    ``unflagged_by_rater``). A figure some rater lacks (no ``edited`` answers) is the others' mean."""
    def mean_of(shares: dict[str, float | None]) -> float | None:
        return mean([v for v in shares.values() if v is not None])

    first = next(iter(by_rater.values()))
    results: dict[str, Any] = {}
    for attribute, r in first.items():
        results[attribute] = {}
        for direction in DIRECTIONS:
            eyes = {name: t[attribute][direction]["eye"] for name, t in by_rater.items()}
            unedited = {name: t[attribute][direction]["took_unedited"] for name, t in by_rater.items()}
            results[attribute][direction] = {**r[direction], "eye": mean_of(eyes), "eye_by_rater": eyes,
                                             "took_unedited": mean_of(unedited),
                                             "took_unedited_by_rater": unedited}
        agree = {name: t[attribute]["photos"]["eye_agrees_with_labels"] for name, t in by_rater.items()}
        unflagged = {name: t[attribute]["photos"]["unflagged"] for name, t in by_rater.items()}
        results[attribute]["photos"] = {"n": r["photos"]["n"], "eye_agrees_with_labels": mean_of(agree),
                                        "eye_agrees_by_rater": agree, "unflagged": mean_of(unflagged),
                                        "unflagged_by_rater": unflagged}
    return results


def table(check: dict[str, Any]) -> str:
    """The eye's (raters' mean, and each rater's) and the judges' shares per attribute and direction, and
    the raters' control (``check``: ``eye_check.json``)."""
    judges, results = check["judges"], check["results"]
    raters = list(check.get("raters", []))
    names = {"strict_judge": "strict judge", "judge": "judge/"}
    eye = "by eye (mean)" if len(raters) > 1 else "by eye"
    asked = any(r[d].get("took_unedited") is not None for r in results.values() for d in DIRECTIONS)
    head = ["attribute", "direction", "n", eye, *(raters if len(raters) > 1 else []),
            *(["took, looks unedited"] if asked else []), *(names.get(j, j) for j in judges), "headline − eye"]
    rows = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for attribute, r in results.items():
        for direction in DIRECTIONS:
            c = r[direction]
            counted = [c["judges"][j] for j in c.get("headline_judges", judges) if c["judges"][j] is not None]
            headline = min(counted) if counted else None
            gap = (f"{100 * (headline - c['eye']):+.1f} points" if c["eye"] is not None and headline is not None
                   else "–")
            each = [pct(c["eye_by_rater"][name]) for name in raters] if len(raters) > 1 else []
            rows.append(" | ".join([f"| {attribute}", "off → on" if DIRECTIONS[direction] else "on → off",
                                    str(c["n"]), f"**{pct(c['eye'])}**", *each,
                                    *([pct(c.get("took_unedited"))] if asked else []),
                                    *(pct(c["judges"][j]) for j in judges), f"{gap} |"]))
    controls = "; ".join(f"{a} {pct(r['photos']['eye_agrees_with_labels'])} of {r['photos']['n']}"
                         for a, r in results.items())
    unflagged = "; ".join(f"{a} {pct(r['photos'].get('unflagged'))}" for a, r in results.items())
    who = "raters (mean)" if len(raters) > 1 else "rater"
    answered = [name for name in raters if any((r[d].get("took_unedited_by_rater") or {}).get(name) is not None
                                               for r in results.values() for d in DIRECTIONS)]
    who_answered = (f" (the mean of the raters who answered whether a photo looks edited: {', '.join(answered)})"
                    if len(answered) < len(raters) else "")
    flagged = (f" Took, looks unedited: the edits a rater reads as asked and does not flag as edited or "
               f"retouched{who_answered}. Untouched photos not flagged as edited: {unflagged}." if asked else "")
    return "\n".join([*rows, "", f"The {who} against CelebA's labels on the untouched photos: {controls}.{flagged}"])


def markdown(check: dict[str, Any]) -> str:
    """eye_check.md: what was rated and how, then :func:`table`."""
    raters = check.get("raters", [])
    return "\n".join([
        f"# Eye check of `{check['weights']}`", "",
        f"The first {check['faces']} faces of each user-level sample ({check['split']} split, seed {check['seed']}), "
        "edited through the whole pipeline (default paste), shuffled among the untouched photos of the same faces "
        "and rated blind, one attribute at a time (does the face show it? does it look edited or retouched?), "
        f"by {len(raters) or 1} rater(s)"
        f"{': ' + ', '.join(raters) if raters else ''}. A face the editor did not find counts "
        "as an edit that did not take. The judges' columns are their readings of the same returned photos; "
        "the headline is the lower of the judges that count for the attribute (for an attribute the strict "
        "judge reads off a part of the face, the strict judge alone; see `evaluation/user_level.py`).", "",
        table(check), ""])


def rater_files(entries: list[str]) -> dict[str, Path]:
    """``NAME=FILE`` or ``FILE`` entries -> rater name -> file (a bare file is "rater N")."""
    out: dict[str, Path] = {}
    for k, entry in enumerate(entries, start=1):
        name, sep, file = entry.partition("=")
        name, file = (name, file) if sep else (f"rater {k}", entry)
        if name in out:
            raise ValueError(f"rater {name!r} given twice")
        out[name] = Path(file)
    return out


def score(args: argparse.Namespace) -> dict[str, Any]:
    out = Path(args.out)
    key = json.loads((out / "key.json").read_text())
    try:
        ratings = {name: json.loads(file.read_text()) for name, file in rater_files(args.ratings).items()}
        results = combine({name: tally(key, r) for name, r in ratings.items()})
    except (OSError, ValueError) as e:
        raise SystemExit(f"error: {e}") from e
    check = {k: key[k] for k in ("weights", "split", "seed", "faces", "judges")}
    check.update(raters=list(ratings), ratings=ratings, results=results)
    text = json.dumps(check, indent=2)
    (out / "eye_check.json").write_text(text)
    if own_figures(key["weights"], key["split"]):
        Path(key["weights"], "eye_check.json").write_text(text)  # the checkpoint's own, for its model card
    (out / "eye_check.md").write_text(markdown(check))
    print(markdown(check))
    return check


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="Blind eye check of the editor's returned photos.")
    sub = ap.add_subparsers(dest="command", required=True)
    m = sub.add_parser("make", help="edit, shuffle among the photos, draw numbered grids, write key.json")
    m.add_argument("--weights", default="weights")
    m.add_argument("--data", required=True, help="CelebA folder")
    m.add_argument("--split", default="test", choices=["train", "val", "test", "all"])
    m.add_argument("--out", required=True)
    m.add_argument("--attributes", nargs="+", default=list(DEFAULT_ATTRIBUTES))
    m.add_argument("--faces", type=int, default=SHEET_FACES, help="faces per attribute and direction")
    m.add_argument("--seed", type=int, default=0, help="the user-level sample's seed, and the shuffle's")
    m.add_argument("--strict-judge", default="strict_judge")
    m.add_argument("--judge", default="judge")
    m.add_argument("--threads", type=int, default=0)
    s = sub.add_parser("score", help="tally ratings against key.json")
    s.add_argument("--out", required=True, help="the folder make wrote")
    s.add_argument("--ratings", required=True, nargs="+", metavar="[NAME=]FILE",
                   help='one JSON per rater: {"<attribute>": [numbers rated as showing it]}')
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    if args.command == "score":
        return score(args)
    if args.threads:
        torch.set_num_threads(args.threads)
    return make(args)


if __name__ == "__main__":
    main()
