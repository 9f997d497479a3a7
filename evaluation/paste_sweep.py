"""Sweep the detail paste's blend settings (``model.paste.Blend``) on one split, at crop level.

    python -m evaluation.paste_sweep --data ../shared/celeba --limit 1000 --identity-limit 100 --out sweep.json

Each face gets each attribute set against its CelebA label. For each ``full_at:blur[:start]``
setting of ``model.paste.add_change``, per attribute and direction: the independent judge's edit success, and
dlib's same-person share original -> pasted edit on the first ``--identity-limit`` faces (at crop
resolution, as ``evaluation.evaluate`` measures the app's default paste). ``inf`` is the plain
additive paste (the original's detail kept everywhere), ``0`` replaces it wherever the edit changes
anything; the row "decoded" is the decoded edit itself. Prints the means over attributes and
directions; ``--out`` gets every row as JSON.
"""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from evaluation.identity import SAME_PERSON_THRESHOLD, FaceEmbedder, distance
from evaluation.judge import AttributeJudge
from model import IFcVAEGAN
from model.paste import Blend, add_change
from model.preprocessing import to_model_input, to_uint8
from training.celeba import CelebA, load_crops

#: The decoded edit itself, without any paste; its rows have ``full_at`` "decoded" and ``blur`` None.
DECODED: tuple[str, None] = ("decoded", None)
#: Blend settings swept by default (crop level: no focus regions, which need the edit's attributes).
SETTINGS: list[Blend] = [Blend(start, full_at, blur, None, None) for start, full_at, blur in
                         [(0.0, math.inf, 1.0), (0.0, 0.3, 1.0), (0.0, 0.2, 1.0), (0.0, 0.15, 1.0), (0.0, 0.1, 1.0),
                          (0.0, 0.07, 1.0), (0.0, 0.05, 1.0), (0.0, 0.1, 2.0), (0.0, 0.05, 2.0), (0.0, 0.0, 0.0),
                          (0.05, 0.15, 1.0), (0.05, 0.25, 1.0)]]
#: Attributes shown one by one in the printed summary.
FOCUS = ("Smiling", "Eyeglasses")


def setting_key(s: Blend | tuple[str, None]) -> dict[str, Any]:
    """A row's ``full_at``, ``blur`` and ``start`` for a blend, or for :data:`DECODED` (start None)."""
    return {"full_at": s[0], "blur": s[1], "start": None} if s == DECODED else {
        "full_at": s.full_at, "blur": s.blur, "start": s.start}


def parse_settings(text: str) -> list[Blend]:
    """``"inf:1,0.1:1:0.05"`` -> ``[Blend(0, inf, 1), Blend(0.05, 0.1, 1)]`` (``full_at:blur[:start]``;
    crop level, so without focus regions)."""
    try:
        settings = [Blend.parse(item) for item in text.split(",")]
    except ValueError:
        settings = []
    if not settings or any(b.focus_start is not None for b in settings):
        raise argparse.ArgumentTypeError(f"expected full_at:blur[:start] settings separated by commas, "
                                         f"got {text!r}")
    return settings


@torch.inference_mode()
def sweep(model: IFcVAEGAN, judge: AttributeJudge, embedder: FaceEmbedder | None, images: torch.Tensor,
          labels: torch.Tensor, settings: list[Blend], identity_limit: int,
          batch_size: int = 100) -> list[dict[str, Any]]:
    """One row per (setting, attribute, direction) for uint8 crops ``images`` with boolean CelebA
    ``labels`` (``N x A``, the model's attributes): judged success and same-person share."""
    cols = [judge.attributes.index(a) for a in model.attributes]
    hits: dict[tuple, list[torch.Tensor]] = {}
    same: dict[tuple, list[bool]] = {}
    for i in range(0, len(images), batch_size):
        x = to_model_input(images[i:i + batch_size])
        mu, _, logits = model.encode(x)
        p = torch.sigmoid(logits)
        rec = model.decode(mu, p)
        k = max(0, min(identity_limit - i, len(x))) if embedder else 0
        emb_x = embedder.embed_batch(images[i:i + k]) if k else []
        for j, attr in enumerate(model.attributes):
            target = ~labels[i:i + batch_size, j]
            y = p.clone()
            y[:, j] = target.float()
            edit = model.decode(mu, y)
            for s in [DECODED, *settings]:
                out = edit if s == DECODED else add_change(x, rec, edit, s)
                hit = judge.predict(out)[:, cols[j]] == target
                close = ([distance(a, b) < SAME_PERSON_THRESHOLD
                          for a, b in zip(emb_x, embedder.embed_batch(to_uint8(out[:k])))] if k else [])
                for d, on in (("on", True), ("off", False)):
                    rows = target == on
                    hits.setdefault((s, attr, d), []).append(hit[rows])
                    same.setdefault((s, attr, d), []).extend(c for c, r in zip(close, rows[:k]) if r)
        print(f"{i + len(x)} faces", flush=True)
    out = []
    for (s, attr, d), h in hits.items():
        h = torch.cat(h).float()
        out.append({**setting_key(s), "attribute": attr, "direction": d, "images": len(h),
                    "success": h.mean().item() if len(h) else None, "identity_images": len(same[s, attr, d]),
                    "same_person": float(np.mean(same[s, attr, d])) if same[s, attr, d] else None})
    return out


def summary(rows: list[dict[str, Any]], settings: list[Blend]) -> list[str]:
    """One line per setting: means over attributes and directions, then the focus attributes."""
    def mean(values: list[float | None]) -> str:
        vals = [v for v in values if v is not None]
        return f"{100 * np.mean(vals):5.1f} %" if vals else "    – "

    lines = ["full_at blur start   mean over attributes and directions: edit success | same person;  then "
             + ", ".join(f"{a} on/off" for a in FOCUS)]
    for s in [DECODED, *settings]:
        key = setting_key(s)
        cells = [r for r in rows if all(r[k] == v for k, v in key.items())]
        focus = " ".join(f"{100 * (r['success'] or 0):4.0f}|{100 * (r['same_person'] or 0):3.0f}"
                         for r in cells if r["attribute"] in FOCUS)
        lines.append(f"{key['full_at']!s:>8} {key['blur']!s:>4} {key['start']!s:>5}   "
                     f"{mean([r['success'] for r in cells])} | {mean([r['same_person'] for r in cells])}    {focus}")
    return lines


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    ap = argparse.ArgumentParser(description="Edit success and identity of the detail paste per blend setting.")
    ap.add_argument("--weights", default="weights", help="checkpoint folder or Hugging Face Hub id")
    ap.add_argument("--judge", default="judge", help="attribute judge folder")
    ap.add_argument("--data", required=True, help="CelebA folder or pack")
    ap.add_argument("--split", default="val", choices=["train", "val", "test"])
    ap.add_argument("--limit", type=int, default=1000, help="the first N faces of the split")
    ap.add_argument("--identity-limit", type=int, default=100, help="dlib identity on the first N (0: skip)")
    ap.add_argument("--settings", type=parse_settings, default=SETTINGS,
                    help="full_at:blur[:start] settings separated by commas, e.g. inf:1,0.1:1,0.15:1:0.05 "
                         "(default: a sweep of 12)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads")
    ap.add_argument("--cache-dir", default=None, help="where decoded crops are cached")
    ap.add_argument("--out", type=Path, default=None, help="JSON file for the rows")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        model, judge = IFcVAEGAN.load(args.weights).eval(), AttributeJudge.load(args.judge)
        celeba = CelebA(args.data, args.split)
    except (OSError, ValueError) as e:
        raise SystemExit(f"error: {e}") from e
    images = load_crops(celeba, model.config.image_size, args.cache_dir)[: args.limit]
    labels = celeba.labels(model.attributes)[: args.limit].bool()
    embedder = FaceEmbedder() if args.identity_limit else None
    rows = sweep(model, judge, embedder, images, labels, args.settings, args.identity_limit)
    print("\n".join(summary(rows, args.settings)))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"args": {**vars(args), "out": str(args.out),
                                              "settings": [vars(b) for b in args.settings]}, "rows": rows}, indent=2))
    return rows


if __name__ == "__main__":
    main()
