"""Training images/s and inference ms/image of the IFcVAE-GAN on this machine's CPU.

    python -m benchmark.train_speed                 # default config, a few variants
    python -m benchmark.train_speed --threads 1 2 --steps 6

Each variant runs the training step of ``training.trainer.Trainer`` (the one the training CLI runs:
every network's update, each only if its loss term is on) on random 64 x 64 batches; ``--edit``
adds the edit terms and the attribute critic. Numbers are only comparable within one
run on an otherwise idle machine.
"""
from __future__ import annotations

import argparse
import time
from contextlib import nullcontext

import torch

from model import IFcVAEGAN, ModelConfig
from training.trainer import Trainer


def train_step_rate(cfg: ModelConfig, batch: int, steps: int, bf16: bool, channels_last: bool) -> float:
    """Images per second of full training steps (``Trainer.step``, after 2 warm-up steps)."""
    torch.manual_seed(0)
    model = IFcVAEGAN(cfg).train()
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    trainer = Trainer(model, lr=2e-4, bf16=bf16)
    x = torch.rand(batch, 3, cfg.image_size, cfg.image_size)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    y = (torch.rand(batch, cfg.num_attributes) > 0.5).float()
    for i in range(steps + 2):
        if i == 2:
            t0 = time.perf_counter()
        trainer.step(x, y)
    return steps * batch / (time.perf_counter() - t0)


@torch.inference_mode()
def inference_ms(cfg: ModelConfig, batch: int, reps: int, bf16: bool) -> float:
    """Milliseconds per image for encode + decode (an edit)."""
    model = IFcVAEGAN(cfg).eval()
    x = torch.rand(batch, 3, cfg.image_size, cfg.image_size)
    ctx = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if bf16 else nullcontext
    with ctx():
        model.edit(x, {cfg.attributes[0]: 1.0})
        t0 = time.perf_counter()
        for _ in range(reps):
            model.edit(x, {cfg.attributes[0]: 1.0})
    return (time.perf_counter() - t0) / (reps * batch) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[torch.get_num_threads()])
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--widths", type=int, nargs="+", default=list(ModelConfig().widths))
    ap.add_argument("--edit", action="store_true", help="with the edit terms and the attribute critic")
    args = ap.parse_args()
    edit = {"edit_cls": 1000.0, "edit_gan": 20.0} if args.edit else {}
    cfg = ModelConfig(widths=tuple(args.widths), loss_weights=edit)
    print(f"torch {torch.__version__}, widths {cfg.widths}, batch {args.batch}, "
          f"{sum(p.numel() for p in IFcVAEGAN(cfg).parameters()) / 1e6:.2f} M parameters")
    variants = [("fp32", False, False), ("fp32 channels_last", False, True),
                ("bf16 autocast", True, False), ("bf16 channels_last", True, True)]
    for threads in args.threads:
        torch.set_num_threads(threads)
        for name, bf16, cl in variants:
            rate = train_step_rate(cfg, args.batch, args.steps, bf16, cl)
            print(f"train  threads={threads} {name:<22} {rate:7.1f} images/s")
        for bf16 in (False, True):
            for batch in (1, 16):
                ms = inference_ms(cfg, batch, 20, bf16)
                print(f"infer  threads={threads} {'bf16' if bf16 else 'fp32':<5} batch={batch:<3} {ms:7.2f} ms/image")


if __name__ == "__main__":
    main()
