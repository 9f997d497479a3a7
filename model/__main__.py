"""Batch editing from the command line.

    python -m model edit PHOTO... --out DIR --set Smiling=1 --set Eyeglasses=0 [--weights W]

Writes each edited photo to ``DIR/<name>.png`` at the size of the (upright) input, prints one line
per photo, carries on past photos that fail, and exits with status 1 if any failed.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .images import ImageError, load_image, save_png
from .pipeline import PASTE_MODES, VALUE_RANGE, WEIGHTS_ENV, FaceEditor, default_weights
from .tuning import DEFAULT_TUNE_STEPS


def parse_setting(text: str) -> tuple[str, float]:
    """``"Smiling=1"`` -> ``("Smiling", 1.0)``."""
    name, sep, value = text.partition("=")
    try:
        if not sep or not name:
            raise ValueError
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected ATTRIBUTE=VALUE such as Smiling=1, got {text!r}") from None


def step_count(text: str) -> int:
    """``--tune`` STEPS: a whole number >= 0."""
    try:
        steps = int(text)
    except ValueError:
        steps = -1
    if steps < 0:
        raise argparse.ArgumentTypeError(f"steps must be >= 0, not {text!r}")
    return steps


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m model", description="Face attribute editor (IFcVAE-GAN).")
    sub = ap.add_subparsers(dest="command", required=True)
    ed = sub.add_parser("edit", help="edit the faces of photos, write DIR/<name>.png per photo",
                        description=__doc__.strip().splitlines()[0])
    ed.add_argument("photos", nargs="+", type=Path, metavar="PHOTO")
    ed.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder (created if needed)")
    ed.add_argument("--set", dest="changes", action="append", type=parse_setting, default=[],
                    metavar="ATTR=VALUE",
                    help=f"attribute value, 0 absent .. 1 present ({VALUE_RANGE[0]} to {VALUE_RANGE[1]}); repeatable")
    ed.add_argument("--weights", default=None,
                    help=f"checkpoint folder or Hugging Face Hub id (default: ${WEIGHTS_ENV}, else weights/)")
    ed.add_argument("--face", type=int, action="append", default=None, metavar="N",
                    help="edit only face N (0 = leftmost); repeatable; default: every face")
    ed.add_argument("--tune", dest="tune_steps", type=step_count, nargs="?", const=DEFAULT_TUNE_STEPS, default=0,
                    metavar="STEPS",
                    help=f"fit a copy of the decoder to each face first (sharper likeness; {DEFAULT_TUNE_STEPS} steps "
                         "if STEPS is not given, about 0.1 s each on a 2-core CPU)")
    ed.add_argument("--paste", choices=PASTE_MODES, default="detail",
                    help="detail: add the edit's change to the photo, replacing its detail only where the edit "
                         "changes much (sharp, default); plain: paste the decoded face")
    return ap.parse_args(argv)


def output_path(out: Path, photo: Path, taken: set[Path]) -> Path:
    """``out/<stem>.png``, with ``-2``, ``-3``... when an earlier photo of this run had the same name."""
    target, n = out / f"{photo.stem}.png", 1
    while target in taken:
        n += 1
        target = out / f"{photo.stem}-{n}.png"
    taken.add(target)
    return target


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    changes = dict(args.changes)
    try:
        editor = FaceEditor.load(args.weights or default_weights())
        editor.check_changes(changes)
    except (ValueError, OSError) as e:  # CheckpointError, unknown attribute or value out of range
        print(f"error: {e}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    taken: set[Path] = set()
    failed = 0
    for photo in args.photos:
        try:
            analysis = editor.analyze(load_image(photo), tune_steps=args.tune_steps)
            result = editor.edit(analysis, changes, args.face, args.paste)
            target = output_path(args.out, photo, taken)
            save_png(result.image, target)
            print(f"{photo}: edited {len(result.faces)} face(s) -> {target}", flush=True)
        except Exception as e:  # one bad photo must not stop the batch
            failed += 1
            reason = str(e) if isinstance(e, (ImageError, ValueError)) else f"{type(e).__name__}: {e}"
            print(f"{photo}: failed: {reason}", file=sys.stderr, flush=True)
    if failed:
        print(f"{failed} of {len(args.photos)} photo(s) failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
