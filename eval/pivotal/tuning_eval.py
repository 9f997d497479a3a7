"""What per-face decoder tuning (``model/tuning.py``, the app's "Sharper likeness") does to
fidelity, identity and edits, on CelebA crops of one split.

    python eval/pivotal/tuning_eval.py --split test --start 0 --n 100 --steps 0 80

For each face and each step count: ``model.tuning.tune_decoder`` exactly as the app runs it, then
the PSNR of the reconstruction; the six single-attribute flips (each attribute set against the
face's CelebA label) decoded by the tuned copy; the independent judge's success on them; dlib's
same-person share against the original crop (< 0.6; a face dlib does not find counts as not the
same) for the reconstruction and the flips; and judge and dlib again for the flips as the app
pastes them by default (``model.paste.add_change``). Also the seconds of tuning per face.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from model import IFcVAEGAN  # noqa: E402
from model.paste import add_change  # noqa: E402
from model.preprocessing import to_model_input, to_uint8  # noqa: E402
from model.tuning import TUNE_CLS_WEIGHT, TUNE_LR, tune_decoder  # noqa: E402
from training.celeba import CelebA, load_crops  # noqa: E402
from training.identity import SAME_PERSON_THRESHOLD, FaceEmbedder, distance  # noqa: E402
from training.judge import AttributeJudge  # noqa: E402
from training.metrics import psnr  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default="weights")
    ap.add_argument("--data", default="../shared/celeba")
    ap.add_argument("--split", default="val", choices=["train", "val", "test"])
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--steps", type=int, nargs="+", default=[0, 80])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=None, help="JSON file for the per-face numbers")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = IFcVAEGAN.load(args.weights).eval()
    judge, embedder = AttributeJudge.load("judge"), FaceEmbedder()
    celeba = CelebA(args.data, args.split)
    images = load_crops(celeba, model.config.image_size)[args.start:args.start + args.n]
    labels = celeba.labels(model.attributes)[args.start:args.start + args.n].bool()
    cols = [judge.attributes.index(a) for a in model.attributes]
    keys = ("seconds", "psnr", "rec_same", "edit_same", "edit_success", "paste_same", "paste_success")
    rows = {k: {key: [] for key in keys} for k in args.steps}

    def same(reference: np.ndarray | None, images: torch.Tensor) -> float:
        return float(np.mean([distance(reference, e) < SAME_PERSON_THRESHOLD
                              for e in embedder.embed_batch(to_uint8(images))]))

    def success(images: torch.Tensor, targets: torch.Tensor) -> float:
        return (judge.predict(images)[:, cols].diagonal() == targets).float().mean().item()

    for i in range(len(images)):
        x = to_model_input(images[i:i + 1])
        with torch.no_grad():
            mu, _, logits = model.encode(x)
            probs = torch.sigmoid(logits)
        targets = ~labels[i]
        flips = probs.repeat(len(targets), 1)
        flips[torch.arange(len(targets)), torch.arange(len(targets))] = targets.float()
        reference = embedder.embed_batch(images[i:i + 1])[0]
        for steps in args.steps:
            t0 = time.perf_counter()
            decoder = tune_decoder(model, x, mu, probs, steps) if steps else model.decoder
            seconds = time.perf_counter() - t0
            with torch.no_grad():
                rec = decoder(mu, probs)
                edits = decoder(mu.expand(len(flips), -1), flips)
            pasted = add_change(x.expand_as(edits), rec.expand_as(edits), edits)
            r = rows[steps]
            r["seconds"].append(seconds)
            r["psnr"].append(psnr(x, rec).item())
            r["rec_same"].append(same(reference, rec))
            r["edit_same"].append(same(reference, edits))
            r["edit_success"].append(success(edits, targets))
            r["paste_same"].append(same(reference, pasted))
            r["paste_success"].append(success(pasted, targets))
        print(f"{i + 1} faces", flush=True)
    print(f"{args.split} faces {args.start}-{args.start + len(images) - 1}, learning rate {TUNE_LR:g}, "
          f"attribute weight {TUNE_CLS_WEIGHT:g}; means per face")
    for steps, r in rows.items():
        m = {k: float(np.mean(v)) for k, v in r.items()}
        print(f"steps {steps:3d}: {m['seconds']:5.2f} s  PSNR {m['psnr']:5.2f} dB  same person: reconstruction "
              f"{100 * m['rec_same']:5.1f} %, edits {100 * m['edit_same']:5.1f} %  edit success "
              f"{100 * m['edit_success']:5.1f} %  |  pasted: same {100 * m['paste_same']:5.1f} %, "
              f"success {100 * m['paste_success']:5.1f} %")
    if args.out:
        Path(args.out).write_text(json.dumps({"args": vars(args), "per_face": rows}, indent=1))


if __name__ == "__main__":
    main()
