"""Training images/s and inference ms/image of the IFcVAE-GAN on this machine's CPU.

    python -m benchmark.train_speed                 # default config, a few variants
    python -m benchmark.train_speed --threads 1 2 --steps 6

Each variant runs the full training step of training/train.py (encoder+decoder update, aux net
update, discriminator update) on random 64 x 64 batches. Numbers are only comparable within one
run on an otherwise idle machine.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import time  # noqa: E402
from contextlib import nullcontext  # noqa: E402

import torch  # noqa: E402

from model import IFcVAEGAN, ModelConfig  # noqa: E402
from model.losses import aux_loss, discriminator_loss, encoder_decoder_losses  # noqa: E402


def train_step_rate(cfg: ModelConfig, batch: int, steps: int, bf16: bool, channels_last: bool,
                    compiled: bool) -> float:
    """Images per second of full training steps (after 2 warm-up steps)."""
    torch.manual_seed(0)
    model = IFcVAEGAN(cfg).train()
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.RMSprop([*model.encoder.parameters(), *model.decoder.parameters()], lr=2e-4)
    opt_a = torch.optim.RMSprop(model.aux.parameters(), lr=2e-4)
    opt_d = torch.optim.RMSprop(model.discriminator.parameters(), lr=2e-4)
    eg = torch.compile(encoder_decoder_losses) if compiled else encoder_decoder_losses
    x = torch.rand(batch, 3, cfg.image_size, cfg.image_size)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    y = (torch.rand(batch, cfg.num_attributes) > 0.5).float()
    ctx = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if bf16 else nullcontext
    for i in range(steps + 2):
        if i == 2:
            t0 = time.perf_counter()
        with ctx():
            total, _, outs = eg(model, x, y)
        opt.zero_grad()
        total.backward()
        opt.step()
        with ctx():
            la = aux_loss(model, outs["z"], y)
        opt_a.zero_grad()
        la.backward()
        opt_a.step()
        with ctx():
            ld = discriminator_loss(model, x, outs["x_rec"], outs["x_prior"])
        opt_d.zero_grad()
        ld.backward()
        opt_d.step()
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
    ap.add_argument("--compile", action="store_true", help="also try torch.compile (slow to warm up)")
    args = ap.parse_args()
    cfg = ModelConfig(widths=tuple(args.widths))
    print(f"torch {torch.__version__}, widths {cfg.widths}, batch {args.batch}, "
          f"{sum(p.numel() for p in IFcVAEGAN(cfg).parameters()) / 1e6:.2f} M parameters")
    variants = [("fp32", False, False, False), ("fp32 channels_last", False, True, False),
                ("bf16 autocast", True, False, False), ("bf16 channels_last", True, True, False)]
    if args.compile:
        variants.append(("bf16 torch.compile", True, False, True))
    for threads in args.threads:
        torch.set_num_threads(threads)
        for name, bf16, cl, comp in variants:
            rate = train_step_rate(cfg, args.batch, args.steps, bf16, cl, comp)
            print(f"train  threads={threads} {name:<22} {rate:7.1f} images/s")
        for bf16 in (False, True):
            for batch in (1, 16):
                ms = inference_ms(cfg, batch, 20, bf16)
                print(f"infer  threads={threads} {'bf16' if bf16 else 'fp32':<5} batch={batch:<3} {ms:7.2f} ms/image")


if __name__ == "__main__":
    main()
