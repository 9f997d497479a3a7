"""The attribute judge: an independent CNN for all 40 CelebA attributes, used to score the editor.

It is trained only on real CelebA train crops (the same 64 x 64 crops as the editor, from
``model/preprocessing.py``) and never sees the editor's outputs::

    python -m evaluation.judge --data ../shared/celeba --out judge --epochs 8 --threads 1 --bf16

Writes ``--out/config.json``, ``--out/model.safetensors`` (the epoch with the best validation
accuracy) and ``--out/metrics.json`` (its accuracy per attribute on the test split).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn
from tqdm import tqdm

from evaluation.metrics import accuracy, balanced_accuracy
from model.config import CELEBA_ATTRIBUTES
from model.ifcvae import CONFIG_NAME, WEIGHTS_NAME, load_folder_config, load_safetensors_into
from model.preprocessing import to_model_input
from training.celeba import CelebA, load_crops


@dataclass
class JudgeConfig:
    """Input size, stage widths and the attributes the judge predicts."""

    image_size: int = 64
    widths: tuple[int, ...] = (32, 48, 96, 192, 256)
    dropout: float = 0.3
    attributes: tuple[str, ...] = CELEBA_ATTRIBUTES

    def __post_init__(self) -> None:
        self.widths = tuple(int(w) for w in self.widths)
        self.attributes = tuple(self.attributes)
        bad = [a for a in self.attributes if a not in CELEBA_ATTRIBUTES]
        if bad:
            raise ValueError(f"unknown CelebA attributes {bad}")
        if self.image_size % 2 ** (len(self.widths) - 1):
            raise ValueError(f"image_size {self.image_size} must be a multiple of {2 ** (len(self.widths) - 1)}")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "widths": list(self.widths), "attributes": list(self.attributes)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "JudgeConfig":
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown judge config keys {sorted(unknown)}")
        return cls(**d)


def _conv(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class AttributeJudge(nn.Module):
    """Images ``B x 3 x S x S`` in [0, 1] -> logits of the configured attributes.

    A stem at full resolution, then per further width one stride-2 and one stride-1 3x3 conv;
    the last feature map is flattened (attribute positions matter) into one linear layer.
    """

    def __init__(self, config: JudgeConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or JudgeConfig()
        w = config.widths
        layers: list[nn.Module] = [_conv(3, w[0], 1)]
        for a, b in zip(w, w[1:]):
            layers += [_conv(a, b, 2), _conv(b, b, 1)]
        self.features = nn.Sequential(*layers, nn.Flatten(), nn.Dropout(config.dropout))
        bottom = config.image_size // 2 ** (len(w) - 1)
        self.head = nn.Linear(w[-1] * bottom**2, len(config.attributes))

    @property
    def attributes(self) -> tuple[str, ...]:
        return self.config.attributes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    @torch.no_grad()
    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """Boolean ``B x num_attributes`` decisions (probability > 0.5); images of any size are resized."""
        s = self.config.image_size
        if images.shape[-2:] != (s, s):
            images = F.interpolate(images, size=(s, s), mode="bilinear", antialias=True, align_corners=False)
        return self(images.float()) > 0

    def save(self, folder: str | os.PathLike) -> None:
        """``config.json`` + ``model.safetensors`` (no pickle)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / CONFIG_NAME).write_text(json.dumps(self.config.to_dict(), indent=2))
        save_file({k: v.contiguous() for k, v in self.state_dict().items()}, str(folder / WEIGHTS_NAME))

    @classmethod
    def load(cls, folder: str | os.PathLike) -> "AttributeJudge":
        judge = cls(load_folder_config(folder, JudgeConfig, "judge", "python -m evaluation.judge"))
        load_safetensors_into(judge, Path(folder) / WEIGHTS_NAME)
        return judge.eval()


def augment(x: torch.Tensor, shift: int) -> torch.Tensor:
    """Random horizontal flips and translations of up to ``shift`` pixels (edge-replicated), uint8 in/out."""
    x = torch.where((torch.rand(len(x)) < 0.5)[:, None, None, None], x.flip(-1), x)
    if shift:
        s = x.shape[-1]
        padded = F.pad(x.float(), (shift,) * 4, mode="replicate").to(x.dtype)
        dx, dy = torch.randint(0, 2 * shift + 1, (2,)).tolist()  # one offset per batch keeps it cheap
        x = padded[..., dy:dy + s, dx:dx + s]
    return x


@torch.no_grad()
def judge_predictions(judge: AttributeJudge, images: torch.Tensor, batch: int = 500,
                      autocast: bool = False) -> torch.Tensor:
    """Boolean decisions for uint8 crops ``N x 3 x S x S``, in batches."""
    judge.eval()
    ctx = torch.autocast("cpu", dtype=torch.bfloat16) if autocast else nullcontext()
    out = []
    with ctx:
        for i in range(0, len(images), batch):
            out.append(judge.predict(to_model_input(images[i:i + batch])))
    return torch.cat(out)


def test_report(judge: AttributeJudge, images: torch.Tensor, labels: torch.Tensor) -> dict[str, Any]:
    """Accuracy and balanced accuracy per attribute, and their means."""
    pred = judge_predictions(judge, images)
    acc = accuracy(pred, labels.bool())
    bal = balanced_accuracy(pred, labels.bool())
    return {"images": len(images), "mean_accuracy": acc.mean().item(),
            "mean_balanced_accuracy": bal.nanmean().item(),
            "accuracy": dict(zip(judge.attributes, acc.tolist())),
            "balanced_accuracy": dict(zip(judge.attributes, bal.tolist()))}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="Train the independent 40-attribute judge on real CelebA crops.")
    ap.add_argument("--data", required=True, help="CelebA folder (CelebA's own layout)")
    ap.add_argument("--out", default="judge", help="output folder (config.json, model.safetensors, metrics.json)")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3, help="peak AdamW learning rate (one-cycle schedule)")
    ap.add_argument("--weight-decay", type=float, default=5e-4)
    ap.add_argument("--shift", type=int, default=4, help="max random translation in pixels")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N train images (0: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1: share the CPU)")
    ap.add_argument("--bf16", action="store_true", help="bfloat16 autocast on CPU")
    ap.add_argument("--cache-dir", default=None, help="where decoded crops are cached")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    config = JudgeConfig()
    splits = {s: CelebA(args.data, s) for s in ("train", "val", "test")}
    crops = {s: load_crops(c, config.image_size, args.cache_dir) for s, c in splits.items()}
    labels = {s: c.labels(config.attributes) for s, c in splits.items()}
    if args.limit:
        crops["train"], labels["train"] = crops["train"][: args.limit], labels["train"][: args.limit]
    n = len(crops["train"])
    steps = n // args.batch_size
    if steps == 0:
        raise SystemExit(f"{n} train images are too few for batch {args.batch_size}")

    judge = AttributeJudge(config)
    opt = torch.optim.AdamW(judge.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps * args.epochs)
    autocast = torch.autocast("cpu", dtype=torch.bfloat16) if args.bf16 else nullcontext()
    out = Path(args.out)
    best, t0 = -1.0, time.time()
    for epoch in range(args.epochs):
        judge.train()
        perm = torch.randperm(n)
        bar = tqdm(range(steps), desc=f"judge epoch {epoch + 1}/{args.epochs}")
        for s in bar:
            idx = perm[s * args.batch_size:(s + 1) * args.batch_size]
            x = to_model_input(augment(crops["train"][idx], args.shift))
            with autocast:
                loss = F.binary_cross_entropy_with_logits(judge(x).float(), labels["train"][idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            if s % 20 == 0:
                bar.set_postfix(loss=f"{loss.item():.4f}")
        val = accuracy(judge_predictions(judge, crops["val"], autocast=args.bf16), labels["val"].bool()).mean().item()
        print(f"epoch {epoch + 1}: val mean accuracy {val:.4f} ({(time.time() - t0) / 60:.1f} min)")
        if val > best:
            best = val
            judge.save(out)
    judge = AttributeJudge.load(out)
    report = {"val_mean_accuracy": best, "train_images": n, "train_minutes": round((time.time() - t0) / 60, 1),
              "command": "python -m evaluation.judge " + " ".join(argv if argv is not None else sys.argv[1:]),
              "test": test_report(judge, crops["test"], labels["test"])}
    (out / "metrics.json").write_text(json.dumps(report, indent=2))
    print(f"test mean accuracy {report['test']['mean_accuracy']:.4f}; saved to {out}")
    return report


if __name__ == "__main__":
    main()
