"""Training and reports of the strict attribute judge: small ResNets that read CelebA attributes off
the whole face at 128 px and, in parts, off the mouth and the eyes at the frame's own resolution (the
networks and their inference are the library's, ``model/strict_judge.py``, which the app uses to
check its edits; they are imported here, so ``evaluation.strict_judge.StrictJudge`` is the same class).

A second judge, independent of ``judge/`` in every way that lets an edit fool a judge: another
architecture (a stack of ResNet basic blocks with global pooling, not a plain CNN whose linear
head sees positions), another input (the central 178 x 178 square of the CelebA aligned frame,
hair to chin, at 128 px, not the editor's 64 px crop; and the parts' boxes) and another training
(real CelebA train images only, with blur, lowered resolution, JPEG, noise, colour and small shifts
and scales, so that it reads the attribute and not the texture; real faces without glasses or smile
with painted smudges over the eyes or mouth, labelled as the faces they are; with ``--half-removed``,
faces with glasses whose eyes are covered by another face's blurred eyes, the rims left, labelled
glasses; with ``--ghosts``, blurred, see-through ghosts of other faces' glasses, labelled without)::

    python -m evaluation.strict_judge --data ../shared/celeba --out strict_judge --epochs 7 --threads 2 --bf16 \
        --half-removed 0.3
    python -m evaluation.strict_judge --data ../shared/celeba --out strict_judge/mouth --region mouth \
        --attributes Smiling Mouth_Slightly_Open --image-size 64 --epochs 6 --threads 2 --bf16
    python -m evaluation.strict_judge --data ../shared/celeba --out strict_judge/eyes --region eyes \
        --attributes Eyeglasses --image-size 96 --epochs 6 --threads 2 --bf16 --half-removed 0.3

each write ``--out/config.json``, ``--out/model.safetensors`` (the epoch with the best validation
balanced accuracy on the editor's attributes it reads), ``--out/metrics.json`` and ``--out/README.md``;
a part goes into a sub-folder of the whole-face judge named after its region, and is loaded with it.

Use::

    judge = StrictJudge.load("strict_judge")
    p = judge.predict_proba([frame, ...])   # PIL faces aligned like a CelebA frame -> N x attributes
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as TF
from tqdm import tqdm

from evaluation.metrics import accuracy, balanced_accuracy
from evaluation.painters import (paint_eye_band, paint_eye_blur, paint_ghost_glasses, paint_ghost_smile,
                                 paint_mouth_blur, paint_mouth_dark)
from model.config import CELEBA_ATTRIBUTES, DEFAULT_ATTRIBUTES
from model.ifcvae import CONFIG_NAME, WEIGHTS_NAME
from model.preprocessing import LANDMARK_TEMPLATE
from model.strict_judge import (ASPECT_TOLERANCE, FRAME_SIZE, PART_REGIONS, REGION, REGIONS, StrictJudge,
                                StrictJudgeConfig, frame_to_input)

__all__ = ["ASPECT_TOLERANCE", "FRAME_SIZE", "REGION", "REGIONS", "Augment", "StrictJudge", "StrictJudgeConfig",
           "frame_to_input", "load_inputs", "main", "region_landmarks", "split_report", "write_readme"]

METRICS_NAME = "metrics.json"


# --- data ------------------------------------------------------------------------------------


def load_inputs(celeba: Any, size: int, cache_dir: str | Path = ".cache/strict_judge",
                region: tuple[int, int, int, int] = REGION) -> torch.Tensor:
    """All frames of a ``training.celeba.CelebA`` split as :func:`frame_to_input` of ``region`` at ``size``:
    ``N x 3 x S x S`` uint8.

    Decoded once and kept as a ``.npy`` file in ``cache_dir``, keyed by the file list, region and size.
    """
    key = hashlib.sha1(f"{celeba.names}|{region}|{size}".encode()).hexdigest()[:16]
    file = Path(cache_dir) / f"{celeba.split}_{size}px_{key}.npy"
    if file.exists():
        arr = np.load(file)
        if arr.shape == (len(celeba), 3, size, size):
            return torch.from_numpy(arr)
    out = np.empty((len(celeba), 3, size, size), dtype=np.uint8)
    for i, name in enumerate(tqdm(celeba.names, desc=f"decode {celeba.split} at {size} px")):
        with Image.open(celeba.image_path(name)) as im:
            out[i] = frame_to_input(im, size, region).numpy()
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_suffix(".tmp.npy")
    np.save(tmp, out)
    tmp.replace(file)
    return torch.from_numpy(out)


def sees(region: tuple[int, int, int, int], points: np.ndarray) -> bool:
    """Whether frame ``points`` (``N x 2``, x then y) all lie inside ``region``."""
    left, top, right, bottom = region
    return bool(((points[:, 0] > left) & (points[:, 0] < right) & (points[:, 1] > top) & (points[:, 1] < bottom)).all())


def seeded_choice(indices: torch.Tensor, k: int, seed: int) -> torch.Tensor:
    """Up to ``k`` of ``indices``, a random choice that depends only on ``seed``."""
    return indices[torch.randperm(len(indices), generator=torch.Generator().manual_seed(seed))[:k]]


def region_landmarks(size: int, region: tuple[int, int, int, int] = REGION) -> np.ndarray:
    """The CelebA mean landmarks (:data:`LANDMARK_TEMPLATE`) in the pixels of a ``size`` judge input of ``region``."""
    left, top, right, bottom = region
    return (LANDMARK_TEMPLATE - np.array([left, top])) * size / np.array([right - left, bottom - top])


# --- augmentation ----------------------------------------------------------------------------


class Augment:
    """Training augmentation of one uint8 judge input at cache size -> float ``3 x S x S`` in [0, 1].

    Smudges over the eyes of faces without glasses and over the mouth of faces not smiling
    (random versions of ``evaluation.painters``' painters, ``occlusion`` the chance for each), ghost
    glasses made of ``donors`` (uint8 ``N x 3 x S x S`` inputs at cache size of faces with glasses;
    ``ghosts`` the chance on a face without glasses, instead of an eye smudge), ghost smiles made of
    ``smile_donors`` (the same, of smiling faces; ``ghost_smiles`` the chance on a face not smiling,
    instead of a mouth smudge), then a flip, a random crop and scale, colour jitter, lowered
    resolution (``low_resolution`` the chance), Gaussian blur, JPEG and Gaussian noise. Inputs are
    judge inputs of ``region`` (where the painters find the eyes and mouth).
    """

    def __init__(self, size: int, cache_size: int, occlusion: float, seed: int = 0,
                 donors: torch.Tensor | None = None, ghosts: float = 0.0, low_resolution: float = 0.3,
                 smile_donors: torch.Tensor | None = None, ghost_smiles: float = 0.0,
                 region: tuple[int, int, int, int] = REGION, bare_donors: torch.Tensor | None = None,
                 half_removed: float = 0.0) -> None:
        self.size, self.occlusion, self.low_resolution_chance = size, occlusion, low_resolution
        self.donors, self.ghosts = donors, ghosts if donors is not None and len(donors) else 0.0
        self.smile_donors, self.bare_donors = smile_donors, bare_donors
        self.half_removed = half_removed if bare_donors is not None and len(bare_donors) else 0.0
        self.ghost_smiles = ghost_smiles if smile_donors is not None and len(smile_donors) else 0.0
        self.landmarks = region_landmarks(cache_size, region)
        self.rng = random.Random(seed)
        self.geometric = v2.Compose([v2.RandomHorizontalFlip(),
                                     v2.RandomResizedCrop(size, scale=(0.78, 1.0), ratio=(0.92, 1.08))])
        self.photometric = v2.Compose([
            v2.RandomApply([v2.ColorJitter(0.35, 0.35, 0.35)], p=0.8),
            v2.RandomGrayscale(p=0.05),
            v2.RandomApply([v2.GaussianBlur(9, sigma=(0.1, 2.5))], p=0.35),
            v2.RandomApply([v2.JPEG((20, 95))], p=0.4),
            v2.ToDtype(torch.float32, scale=True),
            v2.RandomApply([v2.RandomChoice([v2.GaussianNoise(sigma=s) for s in (0.01, 0.02, 0.04)])], p=0.4),
        ])

    def smudge(self, image: torch.Tensor, eyes: bool, mouth: bool) -> torch.Tensor:
        """Random eye and/or mouth smudges on a uint8 image."""
        u = self.rng.uniform
        x = TF.to_dtype(image, torch.float32, scale=True)
        shift = np.array([u(-3, 3), u(-3, 3)])
        lm = self.landmarks + shift + np.array([[u(-1.5, 1.5), u(-1.5, 1.5)] for _ in range(5)])
        if eyes:
            if self.rng.random() < 0.6:
                x = paint_eye_band(x, lm, darkness=u(0.15, 0.7), height=u(0.4, 0.9), width=u(1.7, 2.9),
                                   lens=u(0.0, 0.35), soften=u(0.0, 0.14))
            else:
                x = paint_eye_blur(x, lm, sigma=u(0.04, 0.2), width=u(1.5, 2.7), height=u(0.45, 1.0))
        if mouth:
            if self.rng.random() < 0.5:
                x = paint_mouth_blur(x, lm, sigma=u(0.04, 0.2), width=u(1.1, 2.0), height=u(0.5, 1.0))
            else:
                x = paint_mouth_dark(x, lm, darkness=u(0.15, 0.75), width=u(0.8, 1.6), height=u(0.3, 0.7),
                                     soften=u(0.0, 0.14))
        return TF.to_dtype(x.clamp(0, 1), torch.uint8, scale=True)

    def ghost(self, image: torch.Tensor) -> torch.Tensor:
        """Random ghost glasses on a uint8 image: a random donor's eye region blurred by 0.04-0.2 eye
        distances, the sharper the fainter (opacity 0.25 up to 0.5 for the sharpest, 0.85 for the most
        blurred), half the time darkened, most of the time over eyes blurred first."""
        u = self.rng.uniform
        x = TF.to_dtype(image, torch.float32, scale=True)
        donor = TF.to_dtype(self.donors[self.rng.randrange(len(self.donors))], torch.float32, scale=True)
        lm = self.landmarks + np.array([u(-3, 3), u(-3, 3)])
        if self.rng.random() < 0.7:
            x = paint_eye_blur(x, lm, sigma=u(0.03, 0.12), width=u(1.8, 2.6), height=u(0.6, 1.0))
        darkness = u(0.1, 0.5) if self.rng.random() < 0.5 else 0.0
        blur = u(0, 1)
        x = paint_ghost_glasses(x, lm, donor, self.landmarks, opacity=u(0.25, 0.5 + 0.35 * blur),
                                sigma=0.04 * 5 ** blur, darkness=darkness, width=u(2.0, 2.8), height=u(0.7, 1.1))
        return TF.to_dtype(x.clamp(0, 1), torch.uint8, scale=True)

    def ghost_smile(self, image: torch.Tensor) -> torch.Tensor:
        """A random ghost smile on a uint8 image: a random smiling donor's mouth region blurred by
        0.05-0.15 mouth widths, the sharper the fainter (opacity 0.3 up to 0.5 for the sharpest, 0.9 for
        the most blurred), half the time over a mouth blurred first."""
        u = self.rng.uniform
        x = TF.to_dtype(image, torch.float32, scale=True)
        donor = TF.to_dtype(self.smile_donors[self.rng.randrange(len(self.smile_donors))], torch.float32,
                            scale=True)
        lm = self.landmarks + np.array([u(-3, 3), u(-3, 3)])
        if self.rng.random() < 0.5:
            x = paint_mouth_blur(x, lm, sigma=u(0.03, 0.1), width=u(1.1, 1.8), height=u(0.5, 0.9))
        blur = u(0, 1)
        x = paint_ghost_smile(x, lm, donor, self.landmarks, opacity=u(0.3, 0.5 + 0.4 * blur),
                              sigma=0.05 * 3 ** blur, width=u(1.2, 1.9), height=u(0.6, 1.0))
        return TF.to_dtype(x.clamp(0, 1), torch.uint8, scale=True)

    def low_resolution(self, image: torch.Tensor) -> torch.Tensor:
        """Down to a random 31 to 78 % of the input size (40 to 100 px of 128) and back up (the look of a
        64 px decode pasted into a photo)."""
        s = self.rng.randint(round(0.3125 * self.size), round(0.78125 * self.size))
        return TF.resize(TF.resize(image, [s, s], antialias=True), [self.size, self.size], antialias=True)

    def half_remove(self, image: torch.Tensor) -> torch.Tensor:
        """Glasses half removed from a uint8 face with glasses: the eyes of a random face without glasses
        (``bare_donors``), blurred by 0.03-0.1 eye distances, over a band through the eyes (1.8-2.4 x
        0.45-0.75 eye distances, the editor's own removal band) at 60-100 % opacity; the frames' rims
        and arms outside the band stay (what an editor that fails to remove glasses returns)."""
        u = self.rng.uniform
        x = TF.to_dtype(image, torch.float32, scale=True)
        donor = TF.to_dtype(self.bare_donors[self.rng.randrange(len(self.bare_donors))], torch.float32,
                            scale=True)
        lm = self.landmarks + np.array([u(-2, 2), u(-2, 2)])
        x = paint_ghost_glasses(x, lm, donor, self.landmarks, opacity=u(0.6, 1.0), sigma=u(0.03, 0.1),
                                width=u(1.8, 2.4), height=u(0.45, 0.75))
        return TF.to_dtype(x.clamp(0, 1), torch.uint8, scale=True)

    def __call__(self, image: torch.Tensor, no_glasses: bool, not_smiling: bool,
                 glasses: bool = False) -> torch.Tensor:
        """``no_glasses``/``not_smiling``: the face may get eye/mouth smudges or ghosts; ``glasses``: its
        glasses may be half removed (``half_removed`` the chance; label unchanged)."""
        if glasses and self.rng.random() < self.half_removed:
            image = self.half_remove(image)
        ghost = no_glasses and self.rng.random() < self.ghosts
        ghost_smile = not_smiling and self.rng.random() < self.ghost_smiles
        eyes = no_glasses and not ghost and self.rng.random() < self.occlusion
        mouth = not_smiling and not ghost_smile and self.rng.random() < self.occlusion
        if ghost:
            image = self.ghost(image)
        if ghost_smile:
            image = self.ghost_smile(image)
        if eyes or mouth:
            image = self.smudge(image, eyes, mouth)
        image = self.geometric(image)
        if self.rng.random() < self.low_resolution_chance:
            image = self.low_resolution(image)
        return self.photometric(image)


# --- training and metrics --------------------------------------------------------------------


def split_report(judge: StrictJudge, inputs: torch.Tensor, labels: torch.Tensor) -> dict[str, Any]:
    """Accuracy and balanced accuracy per attribute (decision: probability > 0.5) and their means."""
    pred = judge.predict_tensor(inputs) > 0.5
    acc = accuracy(pred, labels.bool())
    bal = balanced_accuracy(pred, labels.bool())
    editor = [judge.attributes.index(a) for a in DEFAULT_ATTRIBUTES if a in judge.attributes]
    return {"images": len(inputs),
            "editor_mean_balanced_accuracy": bal[editor].nanmean().item(),
            "mean_accuracy": acc.mean().item(), "mean_balanced_accuracy": bal.nanmean().item(),
            "accuracy": dict(zip(judge.attributes, acc.tolist())),
            "balanced_accuracy": dict(zip(judge.attributes, bal.tolist()))}


def frames_per_second(judge: StrictJudge, frames: Sequence[Image.Image], repeats: int = 3) -> float:
    """Throughput of :meth:`StrictJudge.predict_proba` on ``frames`` (best of ``repeats``)."""
    judge.predict_proba(frames[:8])
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        judge.predict_proba(frames)
        best = min(best, time.perf_counter() - t)
    return len(frames) / best


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="Train the strict attribute judge (small ResNet, 128 px, "
                                             "whole face), or a part of it, on real CelebA train images.")
    ap.add_argument("--data", required=True, help="CelebA folder (CelebA's own layout)")
    ap.add_argument("--out", default="strict_judge",
                    help="output folder (a part: the whole-face judge's folder / the region, e.g. strict_judge/mouth)")
    ap.add_argument("--region", default="face", choices=list(REGIONS),
                    help="the part of the frame read (anything but face: a part, read in place of the whole "
                         "face for its attributes)")
    ap.add_argument("--attributes", nargs="+", default=list(CELEBA_ATTRIBUTES), choices=CELEBA_ATTRIBUTES,
                    metavar="ATTRIBUTE", help="attributes to read (default: all 40)")
    ap.add_argument("--image-size", type=int, default=128, help="input size in pixels")
    ap.add_argument("--epochs", type=int, default=7)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3, help="peak AdamW learning rate (one-cycle schedule)")
    ap.add_argument("--weight-decay", type=float, default=5e-4)
    ap.add_argument("--cache-size", type=int, default=0,
                    help="train images are cached at this size; random crops of it are resized to --image-size "
                         "(0: 9/8 of it)")
    ap.add_argument("--occlusion", type=float, default=0.3,
                    help="chance of an eye smudge on a face without glasses, and of a mouth smudge on "
                         "a face not smiling")
    ap.add_argument("--ghosts", type=float, default=0.0,
                    help="chance of ghost glasses (a train face's glasses, blurred, see-through) on a face "
                         "without glasses (0: none)")
    ap.add_argument("--ghost-smiles", type=float, default=0.0,
                    help="chance of a ghost smile (a train face's smiling mouth, blurred, see-through) on a "
                         "face not smiling (0: none)")
    ap.add_argument("--smile-donors", type=int, default=2000,
                    help="smiling train faces (a seeded random choice) that ghost smiles are made of")
    ap.add_argument("--half-removed", type=float, default=0.0,
                    help="chance of half removing the glasses of a face with glasses (a face without glasses' "
                         "blurred eyes over a band through the eyes; the rims outside it stay; label unchanged)")
    ap.add_argument("--bare-donors", type=int, default=2000,
                    help="train faces without glasses (a seeded random choice) that --half-removed takes eyes from")
    ap.add_argument("--low-resolution", type=float, default=0.3,
                    help="chance of lowering a train image's resolution (to 31-78 %% of the input size and back)")
    ap.add_argument("--balance", type=float, default=0.5,
                    help="weight positives by (negatives / positives) ** balance per attribute (clamped to "
                         "0.25-4; 0: plain BCE), for balanced accuracy on rare attributes")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N train images (0: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1: share the CPU)")
    ap.add_argument("--bf16", action="store_true", help="bfloat16 autocast on CPU for training")
    ap.add_argument("--cache-dir", default=".cache/strict_judge", help="where decoded images are cached")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    from training.celeba import CelebA

    args = parse_args(argv)
    if args.region != "face" and Path(args.out).name != args.region:
        raise SystemExit(f"a part reading the {args.region} goes into a folder named {args.region} inside the "
                         f"whole-face judge's (e.g. strict_judge/{args.region}), not {args.out}")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    config = StrictJudgeConfig(image_size=args.image_size, attributes=tuple(args.attributes),
                               region=REGIONS[args.region])
    cache_size = args.cache_size or round(args.image_size * 9 / 8)
    splits = {s: CelebA(args.data, s) for s in ("train", "val", "test")}
    labels = {s: c.labels(config.attributes) for s, c in splits.items()}
    train = load_inputs(splits["train"], cache_size, args.cache_dir, config.region)
    inputs = {s: load_inputs(splits[s], config.image_size, args.cache_dir, config.region) for s in ("val", "test")}
    if args.limit:
        train, labels["train"] = train[: args.limit], labels["train"][: args.limit]
    n = len(train)
    steps = n // args.batch_size
    if steps == 0:
        raise SystemExit(f"{n} train images are too few for batch {args.batch_size}")
    glasses, smiling = splits["train"].labels(("Eyeglasses", "Smiling"))[:n].bool().unbind(1)
    no_glasses, not_smiling = ~glasses, ~smiling
    # smudges and ghosts only where the judge reads the attribute they imitate, and can see them
    eyes_seen = "Eyeglasses" in config.attributes and sees(config.region, LANDMARK_TEMPLATE[:2])
    mouth_seen = "Smiling" in config.attributes and sees(config.region, LANDMARK_TEMPLATE[3:])
    donors = train[torch.nonzero(glasses).flatten()] if eyes_seen else None
    smile_donors = (train[seeded_choice(torch.nonzero(smiling).flatten(), args.smile_donors, args.seed)]
                    if args.ghost_smiles and mouth_seen else None)
    bare_donors = (train[seeded_choice(torch.nonzero(no_glasses).flatten(), args.bare_donors, args.seed)]
                   if args.half_removed and eyes_seen else None)
    augment = Augment(config.image_size, cache_size, args.occlusion, args.seed, donors, args.ghosts,
                      args.low_resolution, smile_donors, args.ghost_smiles, config.region, bare_donors,
                      args.half_removed)
    share = labels["train"].mean(0).clamp(1e-3, 1 - 1e-3)
    pos_weight = ((1 - share) / share).pow(args.balance).clamp(0.25, 4.0)

    read = [a for a in DEFAULT_ATTRIBUTES if a in config.attributes]  # what the kept epoch is chosen by
    judge = StrictJudge(config).to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(judge.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps * args.epochs)
    autocast = torch.autocast("cpu", dtype=torch.bfloat16) if args.bf16 else nullcontext()
    out = Path(args.out)
    best, best_epoch, history, t0 = -1.0, 0, [], time.time()
    for epoch in range(args.epochs):
        judge.train()
        perm = torch.randperm(n)
        bar = tqdm(range(steps), desc=f"strict judge epoch {epoch + 1}/{args.epochs}")
        for s in bar:
            idx = perm[s * args.batch_size:(s + 1) * args.batch_size]
            y = labels["train"][idx]
            x = torch.stack([augment(train[i], eyes_seen and bool(no_glasses[i]), mouth_seen and bool(not_smiling[i]),
                                     eyes_seen and bool(glasses[i]))
                             for i in idx.tolist()]).contiguous(memory_format=torch.channels_last)
            with autocast:
                loss = F.binary_cross_entropy_with_logits(judge(x).float(), y, pos_weight=pos_weight)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            if s % 20 == 0:
                bar.set_postfix(loss=f"{loss.item():.4f}")
        val = split_report(judge, inputs["val"], labels["val"])
        score = val["editor_mean_balanced_accuracy"]
        history.append({"epoch": epoch + 1, "val_editor_mean_balanced_accuracy": score,
                        "val_mean_accuracy": val["mean_accuracy"], "minutes": round((time.time() - t0) / 60, 1)})
        print(f"epoch {epoch + 1}: val balanced accuracy on {read} {score:.4f}, "
              f"mean accuracy {val['mean_accuracy']:.4f} ({(time.time() - t0) / 60:.1f} min)", flush=True)
        if score > best:
            best, best_epoch = score, epoch + 1
            judge.save(out)
    minutes = round((time.time() - t0) / 60, 1)
    judge = StrictJudge.load(out)
    judge.parts.clear()  # this network's own throughput, whatever parts the folder already holds
    frames = []
    for name in splits["test"].names[:200]:
        with Image.open(splits["test"].image_path(name)) as im:
            frames.append(im.convert("RGB"))
    report = {"command": "python -m evaluation.strict_judge " + " ".join(argv if argv is not None else sys.argv[1:]),
              "train_images": n, "epochs": args.epochs, "best_epoch": best_epoch, "train_minutes": minutes,
              "threads": args.threads, "region": args.region, "occlusion": args.occlusion, "ghosts": args.ghosts,
              "ghost_donors": 0 if donors is None else len(donors), "half_removed": args.half_removed,
              "bare_donors": 0 if bare_donors is None else len(bare_donors), "ghost_smiles": args.ghost_smiles,
              "smile_donors": 0 if smile_donors is None else len(smile_donors),
              "low_resolution": args.low_resolution, "balance": args.balance,
              "parameters": sum(p.numel() for p in judge.parameters()),
              "frames_per_second": round(frames_per_second(judge, frames), 1),
              "history": history,
              "val": split_report(judge, inputs["val"], labels["val"]),
              "test": split_report(judge, inputs["test"], labels["test"])}
    (out / METRICS_NAME).write_text(json.dumps(report, indent=2))
    write_readme(out)
    if args.region != "face" and (out.parent / METRICS_NAME).is_file():
        write_readme(out.parent)  # its section on parts
    print(f"test balanced accuracy on {read} {report['test']['editor_mean_balanced_accuracy']:.4f}; "
          f"saved to {out}")
    return report


# --- model card ------------------------------------------------------------------------------


def _pct(v: float) -> str:
    return f"{100 * v:.1f} %"


def editor_section(e: dict[str, Any]) -> str:
    """The README's section on the first editor's "add glasses" photos (metrics key ``editor_eyeglasses_on``)."""
    rows = "\n".join(f"| {name} | {r['yes']} / {r['n']} | {r['yes_first_16']} / 16 |"
                     for name, r in e["judges"].items())
    return f"""
## The first editor's "add glasses" photos

{e['what']}

| reader | read as glasses | on the contact sheet's 16 |
| --- | --- | --- |
{rows}
| a person (by eye) | | {e['by_eye_first_16']} / 16 |

{e['note']}
"""


def candidates_section(c: dict[str, Any]) -> str:
    """The README's section on judges trained with ghost glasses and not shipped (metrics key ``ghost_candidates``)."""
    kinds = ("eye_band", "ghost_glasses", "ghost_glasses_dark", "soft_60", "soft_40")
    rows = "\n".join(f"| {r['name']} | `{r['command']}` | {_pct(r['test']['Eyeglasses'])} | "
                     f"{_pct(r['test']['Smiling'])} | " + " | ".join(_pct(r["fakes"][k]) for k in kinds) + " |"
                     for r in c["runs"])
    return f"""
## Trained with ghost glasses (not shipped)

{c['what']}

| judge | command | test balanced Eyeglasses | test balanced Smiling | {' | '.join(kinds)} |
| --- | --- | --- | --- |{' --- |' * len(kinds)}
{rows}

{c['note']}
"""


def smile_candidate_section(c: dict[str, Any]) -> str:
    """The README's section on the judge trained with ghost smiles and not shipped (metrics key
    ``ghost_smile_candidate``): its figures beside this judge's."""
    rows = "\n".join(f"| {name} | " + " | ".join(_pct(r[k]) for k in c["columns"]) + " |"
                     for name, r in c["judges"].items())
    return f"""
## Trained with ghost smiles (not shipped)

{c['what']}

```bash
{c['command']}
```

| judge | {' | '.join(c['columns'])} |
| --- |{' --- |' * len(c['columns'])}
{rows}

{c['note']}
"""


def accuracy_rows(m: dict[str, Any], attributes: Sequence[str]) -> str:
    """Markdown table rows of a judge's validation and test accuracy per attribute (the editor's first, bold)."""
    val, test = m["val"], m["test"]
    order = [*(a for a in DEFAULT_ATTRIBUTES if a in attributes),
             *(a for a in attributes if a not in DEFAULT_ATTRIBUTES)]
    return "\n".join(f"| {'**' + a + '**' if a in DEFAULT_ATTRIBUTES else a} | {_pct(val['accuracy'][a])} | "
                     f"{_pct(val['balanced_accuracy'][a])} | {_pct(test['accuracy'][a])} | "
                     f"{_pct(test['balanced_accuracy'][a])} |" for a in order)


def epoch_lines(m: dict[str, Any]) -> str:
    """One markdown line per training epoch: its mean validation balanced accuracy."""
    return "\n".join(f"- epoch {h['epoch']}: {_pct(h['val_editor_mean_balanced_accuracy'])} "
                     f"({h['minutes']} min)" for h in m["history"])


def parts_section(folder: Path) -> str:
    """The whole-face README's section on the parts found in ``folder`` (empty if none)."""
    lines = []
    for name in PART_REGIONS:
        if not (folder / name / METRICS_NAME).is_file():
            continue
        part = json.loads((folder / name / METRICS_NAME).read_text())
        config = StrictJudgeConfig.from_dict(json.loads((folder / name / CONFIG_NAME).read_text()))
        acc = ", ".join(f"{a} {_pct(part['test']['balanced_accuracy'][a])}" for a in config.attributes)
        lines.append(f"- `{name}/`: reads {', '.join(config.attributes)} off the {name} only (frame box "
                     f"{config.region} at {config.image_size} px); test balanced accuracy {acc}. Its card: "
                     f"[`{name}/README.md`]({name}/README.md).")
    if not lines:
        return ""
    return ("\n## Parts\n\n`StrictJudge.load` also loads these sub-folders; each one's readings replace the "
            "whole-face network's for its attributes (the table above is the whole-face network's own):\n\n"
            + "\n".join(lines) + "\n")


#: Why each part reads its attribute apart from the whole face (the part READMEs).
WHY_PART: dict[str, str] = {
    "mouth": "a person reads a smile off the mouth. A whole face also shows raised cheeks and narrowed eyes, "
             "which an edit of the mouth leaves as they were (a removed smile) or lifts without drawing a mouth "
             "that smiles (an added smile), and a whole-face reader follows them.",
    "eyes": "a person reads glasses off the frames around the eyes, faint ones included. A whole face at 128 px "
            "loses thin and faint frames, and an editor that fails to remove glasses leaves the rims around "
            "blurred eyes, which a whole-face reader takes for a face without glasses.",
}


def write_part_readme(folder: Path) -> None:
    """(Re)write the README of a part of the strict judge (a judge of one region, ``folder/../<region>``)."""
    config = StrictJudgeConfig.from_dict(json.loads((folder / CONFIG_NAME).read_text()))
    m = json.loads((folder / METRICS_NAME).read_text())
    name, (left, top, right, bottom) = m["region"], config.region
    smudges_by_attribute = (("Eyeglasses", "a dark band or blur over the eyes of train faces without glasses"),
                            ("Smiling", "a blur or darkening over the mouth of train faces not smiling"))
    smudged = [what for attribute, what in smudges_by_attribute if attribute in config.attributes]
    smudges = "" if not (m["occlusion"] and smudged) else (
        f" With chance {m['occlusion']}, {' and '.join(smudged)} (labels unchanged), as for the whole-face judge.")
    if m.get("half_removed"):
        smudges += (f" With chance {m['half_removed']}, glasses half removed from train faces with glasses (the "
                    "blurred eyes of a face without glasses over a band through the eyes, the rims outside it left; "
                    "label unchanged: a person still sees glasses), as for the whole-face judge.")
    text = f"""# Strict attribute judge: the {name} part

A part of the strict judge in the folder above: a small ResNet (basic blocks {config.blocks}, widths
{config.widths}, global average pooling) that reads {', '.join(config.attributes)} off the {name} only,
the {right - left} x {bottom - top} box {config.region} of the CelebA aligned frame at {config.image_size} px
(about the frame's own resolution). `StrictJudge.load("strict_judge")` loads it with the whole-face
network, and its readings replace the whole face's for these attributes.

Why a part: {WHY_PART.get(name, "it reads the attribute where a person looks for it.")} How this
part's readings of the editor's photos compare with blind raters' is in the eye checks next to each
evaluated checkpoint.

Trained on real CelebA train images only, with the whole-face judge's augmentation (flips, random
crops, colour, lowered resolution, blur, JPEG, noise).{smudges} {m['parameters']:,} parameters.

## Training

```bash
{m['command']}
```

{m['train_images']:,} train images, {m['epochs']} epochs ({m['train_minutes']} min on {m['threads']} CPU
thread(s)); kept: epoch {m['best_epoch']}, the best mean validation balanced accuracy on the editor's
attributes it reads. After each epoch:

{epoch_lines(m)}

## Accuracy on real faces

Validation {m['val']['images']:,}, test {m['test']['images']:,} images (CelebA's official split).
Decision: probability > 0.5.

| attribute | val accuracy | val balanced | test accuracy | test balanced |
| --- | --- | --- | --- | --- |
{accuracy_rows(m, config.attributes)}

Licence: trained on CelebA, available for non-commercial research purposes only; these weights
inherit that restriction.
"""
    (folder / "README.md").write_text(text)


def write_readme(folder: str | os.PathLike = "strict_judge") -> None:
    """(Re)write ``folder/README.md`` from ``folder/config.json`` and ``folder/metrics.json``."""
    folder = Path(folder)
    config = StrictJudgeConfig.from_dict(json.loads((folder / CONFIG_NAME).read_text()))
    m = json.loads((folder / METRICS_NAME).read_text())
    if m.get("region", "face") != "face":
        write_part_readme(folder)
        return
    val, test = m["val"], m["test"]
    rows = accuracy_rows(m, config.attributes)
    size_mb = (folder / WEIGHTS_NAME).stat().st_size / 1e6
    epochs = epoch_lines(m)
    ghosts = "" if not m.get("ghosts") else f"""
- Ghost glasses: with chance {m['ghosts']}, instead of an eye smudge, the eye region of one of the
  {m['ghost_donors']:,} train faces with glasses, blurred (Gaussian, 0.04-0.2 eye distances), half
  the time darkened, blended through a soft ellipse over the eyes (most of the time blurred first)
  of a train face without glasses, the sharper the fainter (opacity 25 % up to 50 % for the
  sharpest, 85 % for the most blurred); label unchanged: a person sees faint smears, not glasses
  (`paint_ghost_glasses` in `evaluation/painters.py`)."""
    if m.get("half_removed"):
        ghosts += f"""
- Glasses half removed: with chance {m['half_removed']}, on a train face *with* glasses, the eyes of
  one of {m['bare_donors']:,} train faces without glasses, blurred (0.03-0.1 eye distances), over a
  band through the eyes (1.8-2.4 x 0.45-0.75 eye distances, the size of the editor's removal band)
  at 60-100 % opacity, the rims and arms outside the band left as they were; label unchanged: a
  person still sees glasses (what an editor that fails to remove glasses returns; `Augment.half_remove`)."""
    if m.get("ghost_smiles"):
        ghosts += f"""
- Ghost smiles: with chance {m['ghost_smiles']}, instead of a mouth smudge, the mouth region of one
  of {m['smile_donors']:,} smiling train faces, blurred (Gaussian, 0.05-0.15 mouth widths), blended
  through a soft ellipse over the mouth (half the time blurred first) of a train face not smiling,
  the sharper the fainter (opacity 30 % up to 50 % for the sharpest, 90 % for the most blurred);
  label unchanged: a person sees a smeared mouth, not a smile (`paint_ghost_smile` in
  `evaluation/painters.py`)."""
    text = f"""# Strict attribute judge

A second, independent judge of the CelebA attributes, stricter than `judge/`: it must not take a
dark smudge across the eyes for glasses or a blurred mouth for a smile. Code:
`model/strict_judge.py` (the network and its inference; the app checks its edits with it) and
`evaluation/strict_judge.py` (training, this card); use it as

```python
from model.strict_judge import StrictJudge

judge = StrictJudge.load("strict_judge")
probabilities = judge.predict_proba(frames)   # PIL faces aligned like CelebA frames -> N x {len(config.attributes)}
judge.attributes                              # the column names
```

Each frame is a face aligned like a CelebA aligned image (178 x 218, or any size of that aspect);
the judge reads its central {REGION[2] - REGION[0]} x {REGION[3] - REGION[1]} square
(hair to chin, box {REGION}) resized to {config.image_size} px, and its parts, where this folder has
them, read their own boxes for their attributes (see "Parts" below).

## How it differs from `judge/`

- Network: `judge/` is a plain CNN whose flattened feature map feeds one linear layer; this is a
  ResNet of basic blocks {config.blocks}, widths {config.widths}, with global average pooling.
- Input: `judge/` reads the editor's 64 px crop (`model/preprocessing.py`); this reads the
  {REGION[2] - REGION[0]} x {REGION[3] - REGION[1]} frame square at {config.image_size} px.
- Augmentation: `judge/` flips and shifts; this flips, takes random crops (78-100 % of the area:
  shifts and up to 13 % zoom), jitters colour, turns 5 % grey, lowers the resolution
  ({100 * m['low_resolution']:.0f} % of the images, to 40-100 px and back), blurs (Gaussian),
  re-encodes as JPEG (quality 20-95) and adds Gaussian noise.
- Smudges: with chance {m['occlusion']}, a random dark band or blur over the eyes of train faces
  without glasses, and a random blur or darkening over the mouth of train faces not smiling
  (random versions of the painters in `evaluation/painters.py`, at jittered places; labels unchanged:
  these are still real faces without glasses / smile). `judge/` has none.{ghosts}

Loss: binary cross-entropy per attribute with positives weighted by (negatives / positives) ** {m['balance']}
(clamped to 0.25-4), so that rare attributes such as Eyeglasses are not simply read as absent.
Trained only on real CelebA train images, never on the editor's output. {m['parameters']:,} parameters,
{size_mb:.1f} MB; {m['frames_per_second']} frames/s through `predict_proba` on {m['threads']} CPU thread(s) (this
network alone, measured after training).

## Training

```bash
{m['command']}
```

{m['train_images']:,} train images, {m['epochs']} epochs ({m['train_minutes']} min on {m['threads']} CPU thread(s)
beside other work); kept: epoch {m['best_epoch']}, the best mean validation balanced accuracy on the
editor's six attributes. Mean validation balanced accuracy on those six after each epoch:

{epochs}

## Accuracy on real faces

Validation: {val['images']:,} images, test: {test['images']:,} images (CelebA's official split; no
identity in common with the train images). Decision: probability > 0.5. Balanced accuracy is the
mean of the recalls on faces with and without the attribute. Mean over the editor's six
attributes (bold): validation {_pct(val['editor_mean_balanced_accuracy'])}, test
{_pct(test['editor_mean_balanced_accuracy'])} balanced accuracy; over all {len(config.attributes)}:
test accuracy {_pct(test['mean_accuracy'])}, balanced {_pct(test['mean_balanced_accuracy'])}.

| attribute | val accuracy | val balanced | test accuracy | test balanced |
| --- | --- | --- | --- | --- |
{rows}
"""
    if "fakes" in m:
        f = m["fakes"]
        text += f"""
## Painted fakes

Fakes painted on real {f['split']} faces by `evaluation/fakes.py` (landmarks: {f['landmarks']}):
eye fakes on faces without glasses, mouth fakes on faces not smiling. Each cell is the share of
faces *read as having the attribute* (glasses for eye fakes, smiling for mouth fakes): "none" is
the untouched face (the reader's own false alarms), the other rows are how often the reader is
fooled. The 64 px judge and the encoder head read the editor's 64 px crop of the frame.

```bash
{f['command']}
```

{f['table']}

`ghost_glasses` (opacity 0.5, blur 0.08 eye distances) and `ghost_glasses_dark` (opacity 0.6,
darkened by 0.3) are made of the {f['split']} faces with glasses, `ghost_smile` (opacity 0.7, blur
0.08 mouth widths) of the smiling {f['split']} faces (never of train faces). The rows "glasses" and
"smiling" are real {f['split']} faces with glasses or a smile, untouched ("none": the reader's recall)
and as soft as a decoder draws them: the frame resized down so the face is 60 px (`soft_60`) or
40 px (`soft_40`, the editor's own 64 px crop) wide, and back up; there the cell is the share still
read as glasses or smiling, which should stay high.

The smudges and ghosts of training are random versions of these painters (other sizes, darkness,
opacity and places, on train faces), so this table shows that the judge learned that this family
of smudges is neither glasses nor a smile; how it reads the editor's own outputs is measured by the
user-level evaluation (`evaluation/user_level.py`){' and below' if 'editor_eyeglasses_on' in m else ''}.
"""
    if "without_smudges" in m:
        a = m["without_smudges"]
        bal = ", ".join(f"{k} {_pct(v)}" for k, v in a["test_balanced_accuracy"].items())
        text += f"""
Trained the same way without the smudges or ghosts (`{a['command']}`; {a['note']}), the judge reaches
test balanced accuracy {bal}, and the same fakes fool it as follows:

{a['table']}
"""
    text += parts_section(folder)
    if m.get("earlier"):
        text += f"""
# Earlier experiments

{m['earlier']}
"""
    if "ghost_candidates" in m:
        text += candidates_section(m["ghost_candidates"])
    if "ghost_smile_candidate" in m:
        text += smile_candidate_section(m["ghost_smile_candidate"])
    if "editor_eyeglasses_on" in m:
        text += editor_section(m["editor_eyeglasses_on"])
    text += """
Licence: trained on CelebA, available for non-commercial research purposes only; these weights
inherit that restriction.
"""
    (folder / "README.md").write_text(text)


if __name__ == "__main__":
    main()
