"""Choose ``model.paste.REPLACE_FULL_AT`` / ``REPLACE_BLUR`` on the validation split.

For each setting, the judged edit success and the dlib same-person share original -> pasted edit
(at crop resolution, as ``training.evaluate`` measures ``paste="detail"``). ``inf`` is the plain
additive paste (the original's detail kept everywhere), ``0`` replaces it wherever the edit changes
anything.

    python eval/paste_blend/sweep.py --data ../shared/celeba --limit 1000 --identity-limit 100
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from model import IFcVAEGAN  # noqa: E402
from model.paste import add_change  # noqa: E402
from model.preprocessing import to_model_input, to_uint8  # noqa: E402
from training.celeba import CelebA, load_crops  # noqa: E402
from training.identity import SAME_PERSON_THRESHOLD, FaceEmbedder, distance  # noqa: E402
from training.judge import AttributeJudge  # noqa: E402

DECODED = ("decoded", None)
SETTINGS = [(float("inf"), 1.0), (0.3, 1.0), (0.2, 1.0), (0.15, 1.0), (0.1, 1.0), (0.07, 1.0), (0.05, 1.0),
            (0.1, 2.0), (0.05, 2.0), (0.0, 0.0)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", default="weights")
    ap.add_argument("--data", required=True)
    ap.add_argument("--split", default="val")
    ap.add_argument("--limit", type=int, default=1000)
    ap.add_argument("--identity-limit", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--settings", default="", help="full_at:blur pairs, comma-separated (default: the list above)")
    ap.add_argument("--out", default="eval/paste_blend/sweep.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model, judge, embedder = IFcVAEGAN.load(args.weights).eval(), AttributeJudge.load("judge"), FaceEmbedder()
    celeba = CelebA(args.data, args.split)
    images = load_crops(celeba, model.config.image_size)[: args.limit]
    labels = celeba.labels(model.attributes)[: args.limit].bool()
    cols = [judge.attributes.index(a) for a in model.attributes]
    settings = ([tuple(float(v) for v in pair.split(":")) for pair in args.settings.split(",")]
                if args.settings else SETTINGS)
    # (setting, attribute, direction) -> judged hits / same-person flags
    hits: dict[tuple, list[torch.Tensor]] = {}
    same: dict[tuple, list[bool]] = {}
    with torch.inference_mode():
        for i in range(0, len(images), 100):
            x = to_model_input(images[i:i + 100])
            mu, _, logits = model.encode(x)
            p = torch.sigmoid(logits)
            rec = model.decode(mu, p)
            k = max(0, min(args.identity_limit - i, len(x)))
            emb_x = embedder.embed_batch(images[i:i + k]) if k else []
            for j, attr in enumerate(model.attributes):
                target = ~labels[i:i + 100, j]
                y = p.clone()
                y[:, j] = target.float()  # each face gets the opposite of its label
                edit = model.decode(mu, y)
                for s in [DECODED, *settings]:
                    out = edit if s == DECODED else add_change(x, rec, edit, *s)
                    hit = judge.predict(out)[:, cols[j]] == target
                    close = ([distance(a, b) < SAME_PERSON_THRESHOLD
                              for a, b in zip(emb_x, embedder.embed_batch(to_uint8(out[:k])))] if k else [])
                    for d, on in (("on", True), ("off", False)):
                        rows = target == on
                        hits.setdefault((s, attr, d), []).append(hit[rows])
                        same.setdefault((s, attr, d), []).extend(c for c, r in zip(close, rows[:k]) if r)
            print(f"{i + len(x)} faces", flush=True)
    rows = []
    for (s, attr, d), h in hits.items():
        h = torch.cat(h).float()
        rows.append({"full_at": s[0], "blur": s[1], "attribute": attr, "direction": d, "images": len(h),
                     "success": h.mean().item(), "identity_images": len(same[s, attr, d]),
                     "same_person": float(np.mean(same[s, attr, d])) if same[s, attr, d] else None})
    print("setting          mean over attributes and directions: edit success | same person;  "
          "then Smiling on/off, Eyeglasses on/off")
    for s in [DECODED, *settings]:
        cells = [r for r in rows if (r["full_at"], r["blur"]) == s]
        ok = np.mean([r["success"] for r in cells])
        ident = np.nanmean([r["same_person"] for r in cells if r["same_person"] is not None])
        focus = " ".join(f"{100 * r['success']:4.0f}|{100 * (r['same_person'] or 0):3.0f}" for r in cells
                         if r["attribute"] in ("Smiling", "Eyeglasses"))
        print(f"{s[0]!s:>8} {s[1]!s:>4}   {100 * ok:5.1f} % | {100 * ident:5.1f} %    {focus}")
    Path(args.out).write_text(json.dumps({"args": vars(args), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
