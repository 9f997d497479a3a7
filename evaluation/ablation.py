"""The paper's ablation (RQ4, and RQ2 with ``no_aux``): train variants with one loss term off for the
same budget, evaluate each.

    python -m evaluation.ablation --data ../shared/celeba --out runs/ablation --max-steps 2000 --bf16 --threads 2

Every variant is trained by ``training/train.py`` (same seed, same data order, ``--max-steps``
updates; options this command does not know, e.g. ``--bf16 --threads 2 --batch-size 64``, are
passed on to it) into ``--out/VARIANT``, then evaluated by ``evaluation/evaluate.py`` into
``--out/VARIANT/eval``, and with ``--user-faces N`` also by ``evaluation/user_level.py`` (the returned
photos judged, identity, and the z-probe) into ``--out/VARIANT/user_level``. The side-by-side table goes to ``--out/ablation.md`` and
``--out/ablation.json``, and the variants' sample grids (first four faces) side by side to
``--out/ablation.png``. Rerunning continues unfinished runs and reuses finished evaluations.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from evaluation import evaluate, user_level
from evaluation.report import ablation_table, ablation_user_table
from model.ifcvae import CONFIG_NAME
from training import train
from training.edit_sheet import PADDING

#: Variant name -> the loss terms it switches off (weight 0). ``full`` is the baseline.
VARIANTS: dict[str, tuple[str, ...]] = {
    "full": (),
    "no_aux": ("aux",),          # no adversarial factorisation of z against the auxiliary net
    "no_gan": ("gan",),          # no image discriminator
    "no_cls_rec": ("cls_rec",),  # no classification loss on the reconstructions
}


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, list[str]]:
    ap = argparse.ArgumentParser(
        description="Train loss-term ablations for a fixed budget and tabulate their evaluations.",
        epilog="Other options are passed on to python -m training.train.")
    ap.add_argument("--data", required=True, help="CelebA folder (CelebA's own layout)")
    ap.add_argument("--out", required=True, help="ablation folder (one run folder per variant)")
    ap.add_argument("--max-steps", type=int, required=True, help="training updates per variant (the budget)")
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--judge", default="judge", help="attribute judge folder")
    ap.add_argument("--split", default="test", choices=["val", "test"], help="evaluation split")
    ap.add_argument("--eval-limit", type=int, default=0, help="evaluate the first N images (0: all)")
    ap.add_argument("--identity-limit", type=int, default=500, help="dlib identity on the first N images")
    ap.add_argument("--user-faces", type=int, default=0,
                    help="also the user-level evaluation and z-probe, on N faces per attribute and direction "
                         "(0: skip)")
    ap.add_argument("--strict-judge", default="strict_judge", help="the user-level evaluation's strict judge")
    ap.add_argument("--cache-dir", default=None, help="where decoded crops are cached")
    return ap.parse_known_args(argv)


def run_variant(name: str, args: argparse.Namespace, train_args: list[str]) -> dict[str, Any]:
    """Train (or continue) one variant, then evaluate its last checkpoint; reuse a finished evaluation."""
    run = Path(args.out) / name
    result = run / "eval" / "metrics.json"
    if result.exists():
        return json.loads(result.read_text())
    if (run / "last").is_dir() and not (run / "state.pt").exists():
        raise SystemExit(f"{run} has a checkpoint but no state.pt to resume; remove the folder to train it again")
    cache = ["--cache-dir", args.cache_dir] if args.cache_dir else []
    # the budget is --max-steps; a high --epochs keeps the epoch count from ending a run earlier
    argv = ["--data", args.data, "--out", str(run), "--max-steps", str(args.max_steps), "--epochs", "1000",
            *cache, *train_args]
    for term in VARIANTS[name]:
        argv += ["--weight", f"{term}=0"]
    if (run / "state.pt").exists():
        argv.append("--resume")
    print(f"== {name}: python -m training.train {' '.join(argv)}")
    train.main(argv)
    return evaluate.main(["--weights", str(run / "last"), "--judge", args.judge, "--data", args.data,
                          "--split", args.split, "--out", str(run / "eval"), "--limit", str(args.eval_limit),
                          "--identity-limit", str(args.identity_limit), *cache])


def run_user_level(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """The user-level evaluation (and z-probe) of one trained variant; reuse a finished one."""
    out = Path(args.out) / name / "user_level"
    if (out / "metrics.json").exists():
        return json.loads((out / "metrics.json").read_text())
    cache = ["--cache-dir", args.cache_dir] if args.cache_dir else []
    return user_level.main(["--weights", str(Path(args.out) / name / "last"), "--data", args.data,
                            "--split", args.split, "--out", str(out), "--faces", str(args.user_faces),
                            "--tune-faces", "0", "--strict-judge", args.strict_judge, "--judge", args.judge,
                            *cache])


def comparison_grid(grids: dict[str, Path], out: Path, tile: int, faces: int = 4) -> None:
    """The first ``faces`` columns of each variant's sample grid (tiles ``tile`` pixels apart) side by
    side, each under its name."""
    label, gap = 16, 10
    crops = {name: Image.open(path).convert("RGB") for name, path in grids.items()}
    crops = {name: im.crop((0, 0, min(im.width, faces * tile + 1), im.height)) for name, im in crops.items()}
    width = sum(im.width for im in crops.values()) + gap * (len(crops) - 1)
    sheet = Image.new("RGB", (width, label + max(im.height for im in crops.values())), "white")
    draw, x = ImageDraw.Draw(sheet), 0
    for name, im in crops.items():
        draw.text((x + 2, 2), name, fill="black")
        sheet.paste(im, (x, label))
        x += im.width + gap
    sheet.save(out)


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace, argv: list[str]) -> str:
    """ablation.md: the command, what the columns mean, and the table."""
    first = next(iter(results.values()))
    n_id = first["identity_images"]
    legend = (f"Each variant is trained from scratch with the loss terms under \"terms off\" set to 0, for the same "
              f"{args.max_steps:,} steps, then evaluated on the {args.split} split ({first['images']:,} faces"
              + (f"; identity on the first {n_id:,}" if n_id else "; identity not measured") + "). Edit success "
              "per direction, in brackets the judge on the plain reconstructions; edit gain: success minus "
              "that, over both directions; identity: dlib distance original→edit · share under 0.6.")
    table = ablation_table(results, {name: list(VARIANTS[name]) for name in results})
    text = f"Command: `python -m evaluation.ablation {shlex.join(argv)}`\n\n{legend}\n\n{table}"
    users = {name: m["user_level_metrics"] for name, m in results.items() if "user_level_metrics" in m}
    if users:
        text += ("\nWhat a user gets (`evaluation/user_level.py` on each variant's last checkpoint: the returned "
                 "full photo judged, the headline as in user_level.py; same person: dlib; z-probe: an MLP's "
                 "balanced accuracy from the encoder's mu, 0.5 = z tells nothing):\n\n" + ablation_user_table(users))
    return text


def main(argv: list[str] | None = None) -> str:
    argv = list(sys.argv[1:] if argv is None else argv)
    args, train_args = parse_args(argv)
    results = {name: run_variant(name, args, train_args) for name in args.variants}
    if args.user_faces:
        for name in results:
            results[name] = {**results[name], "user_level_metrics": run_user_level(name, args)}
    text = report(results, args, argv)
    out = Path(args.out)
    (out / "ablation.json").write_text(json.dumps(
        {name: {"terms_off": list(VARIANTS[name]), "summary": m["summary"], "reconstruction": m["reconstruction"],
                **({"user_level": m["user_level_metrics"]["summary"], "z_probe": m["user_level_metrics"]["z_probe"]}
                   if "user_level_metrics" in m else {})}
         for name, m in results.items()}, indent=2))
    (out / "ablation.md").write_text(text)
    size = json.loads((out / next(iter(results)) / "last" / CONFIG_NAME).read_text())["image_size"]
    comparison_grid({name: out / name / "eval" / "samples.png" for name in results}, out / "ablation.png",
                    tile=size + PADDING)
    print(text)
    return text


if __name__ == "__main__":
    main()
