"""What per-face decoder tuning (``model/tuning.py``, the app's "Sharper likeness") does to
fidelity, identity and edits, for each number of tuning steps, on CelebA crops of one split.

    python -m evaluation.tuning_sweep --data ../shared/celeba --split test --start 0 --n 100 --steps 0 80

For each face and each step count: ``model.tuning.tune_decoder`` exactly as the app runs it (0
steps: the shared decoder), then the PSNR of the reconstruction; the six single-attribute flips
(each attribute set against the face's CelebA label) decoded by the tuned copy; the independent
judge's success on them; dlib's same-person share against the original crop (< 0.6; a face dlib
does not find counts as not the same) for the reconstruction and the flips; and judge and dlib
again for the flips as the app pastes them by default (``model.paste.add_change``). Also the
seconds of tuning per face. Prints the means per face; ``--out`` gets every face's numbers as JSON.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from evaluation.identity import SAME_PERSON_THRESHOLD, FaceEmbedder, distance
from evaluation.judge import AttributeJudge
from evaluation.metrics import psnr
from model import IFcVAEGAN
from model.paste import add_change
from model.preprocessing import to_model_input, to_uint8
from model.tuning import TUNE_CLS_WEIGHT, TUNE_LR, tune_decoder
from training.celeba import CelebA, load_crops

#: The per-face numbers, in the order they are printed.
KEYS = ("seconds", "psnr", "rec_same", "edit_same", "edit_success", "paste_same", "paste_success")


def tuning_sweep(model: IFcVAEGAN, judge: AttributeJudge, embedder: FaceEmbedder, images: torch.Tensor,
                 labels: torch.Tensor, steps_list: list[int]) -> dict[int, dict[str, list[float]]]:
    """Step count -> each of :data:`KEYS` -> one number per face, for uint8 crops ``images`` with
    boolean CelebA ``labels`` (``N x A``, the model's attributes)."""
    cols = [judge.attributes.index(a) for a in model.attributes]
    rows = {k: {key: [] for key in KEYS} for k in steps_list}

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
        for steps in steps_list:
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
    return rows


def main(argv: list[str] | None = None) -> dict[int, dict[str, list[float]]]:
    ap = argparse.ArgumentParser(description="Fidelity, identity and edits of per-face decoder tuning.")
    ap.add_argument("--weights", default="weights", help="checkpoint folder or Hugging Face Hub id")
    ap.add_argument("--judge", default="judge", help="attribute judge folder")
    ap.add_argument("--data", required=True, help="CelebA folder or pack")
    ap.add_argument("--split", default="val", choices=["train", "val", "test"])
    ap.add_argument("--start", type=int, default=0, help="index of the first face in the split")
    ap.add_argument("--n", type=int, default=40, help="number of faces")
    ap.add_argument("--steps", type=int, nargs="+", default=[0, 80], help="tuning step counts (0: untuned)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads")
    ap.add_argument("--cache-dir", default=None, help="where decoded crops are cached")
    ap.add_argument("--out", type=Path, default=None, help="JSON file for the per-face numbers")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        model, judge = IFcVAEGAN.load(args.weights).eval(), AttributeJudge.load(args.judge)
        celeba = CelebA(args.data, args.split)
    except (OSError, ValueError) as e:
        raise SystemExit(f"error: {e}") from e
    images = load_crops(celeba, model.config.image_size, args.cache_dir)[args.start:args.start + args.n]
    labels = celeba.labels(model.attributes)[args.start:args.start + args.n].bool()
    rows = tuning_sweep(model, judge, FaceEmbedder(), images, labels, args.steps)
    print(f"{args.split} faces {args.start}-{args.start + len(images) - 1}, learning rate {TUNE_LR:g}, "
          f"attribute weight {TUNE_CLS_WEIGHT:g}; means per face")
    for steps, r in rows.items():
        m = {k: float(np.mean(v)) for k, v in r.items()}
        print(f"steps {steps:3d}: {m['seconds']:5.2f} s  PSNR {m['psnr']:5.2f} dB  same person: reconstruction "
              f"{100 * m['rec_same']:5.1f} %, edits {100 * m['edit_same']:5.1f} %  edit success "
              f"{100 * m['edit_success']:5.1f} %  |  pasted: same {100 * m['paste_same']:5.1f} %, "
              f"success {100 * m['paste_success']:5.1f} %")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"args": {**vars(args), "out": str(args.out)}, "per_face": rows}, indent=1))
    return rows


if __name__ == "__main__":
    main()
