"""Train an IFcVAE-GAN on a CelebA folder.

    python -m training.train --data ../shared/celeba --out runs/base
    python -m training.train --data ../shared/celeba --out runs/base --resume     # continue exactly
    python -m training.train --data ../shared/celeba --out runs/more --init weights --bf16   # from weights
    torchrun --nproc_per_node 2 -m training.train --data ../shared/celeba --out runs/ddp

Writes to ``--out``: ``log.csv`` (training losses), ``val.csv`` (per-epoch validation),
``samples/*.png`` (originals | reconstructions | each attribute flipped), ``last/`` and ``best/``
(loadable checkpoints: config.json + model.safetensors) and ``state.pt`` (optimisers, RNG and data
position, for ``--resume``).
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch: no spinning threads on a shared CPU

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402
from contextlib import nullcontext  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn.parallel import DistributedDataParallel  # noqa: E402
from tqdm import tqdm  # noqa: E402

from model import IFcVAEGAN, ModelConfig  # noqa: E402
from model.config import AUX_OBJECTIVES, DEFAULT_ATTRIBUTES, LOSS_TERMS  # noqa: E402
from model.losses import aux_loss, discriminator_loss, encoder_decoder_losses  # noqa: E402
from model.preprocessing import to_model_input  # noqa: E402
from training.celeba import CelebA, load_crops  # noqa: E402
from training.edit_sheet import decoded_rows, save_grid  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="Train an IFcVAE-GAN on a CelebA-layout folder.")
    ap.add_argument("--data", required=True, help="CelebA folder (img_align_celeba/, list_attr_celeba.txt, ...)")
    ap.add_argument("--out", required=True, help="run folder")
    ap.add_argument("--resume", action="store_true", help="continue the run in --out exactly where it stopped")
    ap.add_argument("--init", default=None, metavar="CHECKPOINT",
                    help="start from these weights (folder or Hub id, same shapes) with fresh optimisers, "
                         "e.g. to go on training the shipped weights/ where runs/NAME/state.pt is gone")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0: no limit)")
    ap.add_argument("--max-minutes", type=float, default=0,
                    help="stop with a checkpoint after this many minutes of this call (0: no limit), "
                         "e.g. to fit a time-limited machine; --resume goes on from there")
    ap.add_argument("--batch-size", type=int, default=64, help="per process")
    ap.add_argument("--lr", type=float, default=2e-4, help="RMSprop learning rate (all networks)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--image-size", type=int, default=64)
    ap.add_argument("--z-dim", type=int, default=100)
    ap.add_argument("--widths", type=int, nargs="+", default=[32, 64, 128, 256])
    ap.add_argument("--attributes", nargs="+", default=list(DEFAULT_ATTRIBUTES))
    ap.add_argument("--weight", action="append", default=[], metavar="TERM=W",
                    help=f"loss weight override, e.g. --weight gan=0 (terms: {', '.join(LOSS_TERMS)})")
    ap.add_argument("--aux-objective", default=ModelConfig.aux_objective, choices=list(AUX_OBJECTIVES),
                    help="the encoder's term against the auxiliary net: the paper's negated BCE, or confusion "
                         "(pull its predictions to the attribute frequencies; see model/losses.py)")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N train images (0: all)")
    ap.add_argument("--val-limit", type=int, default=2000, help="validation images per evaluation")
    ap.add_argument("--cache-dir", default=None, help="where decoded crops are cached")
    ap.add_argument("--sample-minutes", type=float, default=5.0, help="sample grid every N minutes")
    ap.add_argument("--ckpt-minutes", type=float, default=5.0, help="checkpoint every N minutes")
    ap.add_argument("--threads", type=int, default=0, help="torch threads per process (0: torch's default)")
    ap.add_argument("--bf16", action="store_true", help="bfloat16 autocast (CPU with avx512_bf16, or GPU)")
    ap.add_argument("--channels-last", action="store_true", help="channels_last memory format")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--no-progress", action="store_true")
    return ap.parse_args(argv)


def model_config(args: argparse.Namespace) -> ModelConfig:
    weights = {}
    for item in args.weight:
        term, _, value = item.partition("=")
        weights[term] = float(value)
    return ModelConfig(image_size=args.image_size, z_dim=args.z_dim, widths=tuple(args.widths),
                       attributes=tuple(args.attributes), loss_weights=weights,
                       aux_objective=args.aux_objective)


class TrainStep(nn.Module):
    """One module around the model so that DistributedDataParallel syncs every update's gradients."""

    def __init__(self, model: IFcVAEGAN) -> None:
        super().__init__()
        self.model = model

    def forward(self, mode: str, x: torch.Tensor, y: torch.Tensor, *extra: torch.Tensor):
        if mode == "eg":
            return encoder_decoder_losses(self.model, x, y)
        if mode == "aux":
            return aux_loss(self.model, extra[0], y)
        if mode == "disc":
            return discriminator_loss(self.model, x, extra[0], extra[1])
        raise ValueError(mode)


def batches(n: int, batch: int, epoch: int, seed: int, rank: int, world: int, skip: int):
    """Index batches of one epoch: a seeded permutation, sharded across ranks, from batch ``skip`` on."""
    g = torch.Generator().manual_seed(seed * 100_003 + epoch)
    perm = torch.randperm(n, generator=g)
    per_rank = n // world
    mine = perm[rank * per_rank:(rank + 1) * per_rank]
    steps = per_rank // batch
    for s in range(skip, steps):
        yield s, mine[s * batch:(s + 1) * batch]


def steps_per_epoch(n: int, batch: int, world: int) -> int:
    return (n // world) // batch


@torch.no_grad()
def validate(model: IFcVAEGAN, images: torch.Tensor, labels: torch.Tensor, device: str, bs: int = 250
             ) -> dict[str, float]:
    """Classification accuracy per attribute and reconstruction MSE on held-out crops."""
    model.eval()
    correct = torch.zeros(labels.shape[1])
    se = 0.0
    for i in range(0, len(images), bs):
        x = to_model_input(images[i:i + bs]).to(device)
        mu, _, logits = model.encode(x)
        rec = model.decode(mu, torch.sigmoid(logits))
        correct += ((logits > 0).float().cpu() == labels[i:i + bs]).sum(0)
        se += (rec - x).pow(2).mean(dim=(1, 2, 3)).sum().item()
    model.train()
    acc = correct / len(images)
    out = {f"acc_{a}": acc[j].item() for j, a in enumerate(model.attributes)}
    out["acc_mean"] = acc.mean().item()
    out["rec_mse"] = se / len(images)
    return out


def sample_grid(model: IFcVAEGAN, x: torch.Tensor, path: Path) -> None:
    """Rows: originals, reconstructions, then one row per attribute with that attribute flipped."""
    save_grid(decoded_rows(model, x), path)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    device = args.device
    if world > 1:
        backend = "nccl" if device.startswith("cuda") else "gloo"
        dist.init_process_group(backend)
        if device.startswith("cuda"):
            device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
            torch.cuda.set_device(device)
    if args.threads:
        torch.set_num_threads(args.threads)
    if device.startswith("cuda"):
        torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick its fastest convolutions
    lead = rank == 0
    out = Path(args.out)
    state_file = out / "state.pt"
    if args.resume:
        if not state_file.exists():
            raise SystemExit(f"--resume: no {state_file}")
        # the run's own settings; options added to this script since the run started keep their defaults
        saved_args = {**vars(parse_args(["--data", args.data, "--out", args.out])),
                      **json.loads((out / "args.json").read_text())}
        for k in ("data", "out", "resume", "epochs", "max_steps", "max_minutes", "no_progress", "threads",
                  "sample_minutes", "ckpt_minutes", "device", "cache_dir"):
            saved_args[k] = getattr(args, k)
        args = argparse.Namespace(**saved_args)
    elif lead:
        if state_file.exists():
            raise SystemExit(f"{out} already holds a run: pass --resume to continue it, or pick another --out")
        out.mkdir(parents=True, exist_ok=True)
        (out / "args.json").write_text(json.dumps(vars(args), indent=2))

    torch.manual_seed(args.seed + rank)
    cfg = model_config(args)
    model = IFcVAEGAN(cfg).to(device)
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    if args.init and not args.resume:
        start = IFcVAEGAN.load(args.init)
        if {k: v.shape for k, v in start.state_dict().items()} != {k: v.shape for k, v in model.state_dict().items()}:
            raise SystemExit(f"--init {args.init}: its shapes differ from this run's config {cfg}")
        model.load_state_dict(start.state_dict())
    w = cfg.loss_weights
    eg_params = [*model.encoder.parameters(), *model.decoder.parameters()]
    opt_eg = torch.optim.RMSprop(eg_params, lr=args.lr)
    opt_aux = torch.optim.RMSprop(model.aux.parameters(), lr=args.lr)
    opt_d = torch.optim.RMSprop(model.discriminator.parameters(), lr=args.lr)

    train = CelebA(args.data, "train")
    val = CelebA(args.data, "val")
    show = not lead or args.no_progress
    train_x = load_crops(train, cfg.image_size, args.cache_dir, progress=not show)
    train_y = train.labels(cfg.attributes)
    val_x = load_crops(val, cfg.image_size, args.cache_dir, progress=not show)[: args.val_limit]
    val_y = val.labels(cfg.attributes)[: args.val_limit]
    if args.limit:
        train_x, train_y = train_x[: args.limit], train_y[: args.limit]
    n_steps = steps_per_epoch(len(train_x), args.batch_size, world)
    if n_steps == 0:
        raise SystemExit(f"{len(train_x)} train images are too few for batch {args.batch_size} x {world} ranks")

    epoch, skip, step, best, elapsed = 0, 0, 0, -math.inf, 0.0
    if args.resume:
        st = torch.load(state_file, map_location=device, weights_only=True)
        model.load_state_dict(st["model"])
        opt_eg.load_state_dict(st["opt_eg"])
        opt_aux.load_state_dict(st["opt_aux"])
        opt_d.load_state_dict(st["opt_d"])
        epoch, skip, step, best, elapsed = st["epoch"], st["skip"], st["step"], st["best"], st["elapsed"]
        torch.set_rng_state(st["rng"][rank].cpu())
        if lead:
            print(f"resumed {out} at epoch {epoch}, step {step}")

    stepper: nn.Module = TrainStep(model)
    if world > 1:
        stepper = DistributedDataParallel(stepper, find_unused_parameters=True)
    autocast = (torch.autocast(device_type=device.split(":")[0], dtype=torch.bfloat16) if args.bf16
                else nullcontext())
    fixed = to_model_input(val_x[:8]).to(device)
    log_file = out / "log.csv"
    log_fields = ["step", "epoch", "elapsed_s", "img_per_s", "total", *LOSS_TERMS, "aux_net", "disc"]
    if lead and not log_file.exists():
        with log_file.open("w", newline="") as f:
            csv.writer(f).writerow(log_fields)

    def save_state(next_epoch: int, next_skip: int) -> None:
        rngs = [torch.get_rng_state()]
        if world > 1:  # every rank's RNG, so that each resumes its own random stream
            rngs = [None] * world
            dist.all_gather_object(rngs, torch.get_rng_state())
        if not lead:
            return
        tmp = state_file.with_suffix(".tmp")
        torch.save({"model": model.state_dict(), "opt_eg": opt_eg.state_dict(), "opt_aux": opt_aux.state_dict(),
                    "opt_d": opt_d.state_dict(), "epoch": next_epoch, "skip": next_skip, "step": step,
                    "best": best, "elapsed": elapsed, "rng": rngs}, tmp)
        tmp.replace(state_file)
        model.save_pretrained(out / "last")

    t_sample = t_ckpt = t_call = time.time()
    t_start = time.time() - elapsed

    def budget_spent() -> bool:
        """``--max-steps`` reached or ``--max-minutes`` passed; under DDP rank 0's clock decides, so
        that all ranks stop at the same step."""
        if args.max_steps and step >= args.max_steps:
            return True
        if not args.max_minutes:
            return False
        late = time.time() - t_call > args.max_minutes * 60
        if world > 1:
            flag = torch.tensor(float(late), device=device)
            dist.broadcast(flag, 0)
            late = bool(flag.item())
        return late

    model.train()
    stop = budget_spent()
    while epoch < args.epochs and not stop:
        bar = tqdm(batches(len(train_x), args.batch_size, epoch, args.seed, rank, world, skip),
                   total=n_steps, initial=skip, desc=f"epoch {epoch + 1}/{args.epochs}", disable=show)
        t_log, n_log = time.time(), 0
        for s, idx in bar:
            x = train_x[idx]
            flip = torch.rand(len(idx)) < 0.5
            x[flip] = x[flip].flip(-1)
            x = to_model_input(x).to(device)
            y = train_y[idx].to(device)
            if args.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            with autocast:
                total, terms, outs = stepper("eg", x, y)
            opt_eg.zero_grad(set_to_none=True)
            total.backward()
            opt_eg.step()
            extra = {}
            if w["aux"]:
                with autocast:
                    la = stepper("aux", x, y, outs["z"].detach())
                opt_aux.zero_grad(set_to_none=True)
                la.backward()
                opt_aux.step()
                extra["aux_net"] = la.item()
            if w["gan"]:
                with autocast:
                    ld = stepper("disc", x, y, outs["x_rec"].detach(), outs["x_prior"].detach())
                opt_d.zero_grad(set_to_none=True)
                ld.backward()
                opt_d.step()
                extra["disc"] = ld.item()
            step += 1
            n_log += len(idx) * world
            elapsed = time.time() - t_start
            if lead and (step % 20 == 0 or s == n_steps - 1):
                ips = n_log / max(time.time() - t_log, 1e-9)
                t_log, n_log = time.time(), 0
                vals = {k: v.item() for k, v in terms.items()} | extra
                bar.set_postfix({k: f"{v:.3g}" for k, v in vals.items()})
                with log_file.open("a", newline="") as f:
                    csv.writer(f).writerow([step, epoch, f"{elapsed:.1f}", f"{ips:.1f}", f"{total.item():.4f}",
                                            *(f"{vals[k]:.4f}" if k in vals else "" for k in log_fields[5:])])
            now = time.time()
            if lead and now - t_sample > args.sample_minutes * 60:
                sample_grid(model, fixed, out / "samples" / f"step{step:07d}.png")
                t_sample = now
            stop = budget_spent()
            if now - t_ckpt > args.ckpt_minutes * 60 or stop:
                save_state(epoch, s + 1)
                t_ckpt = now
            if stop and s < n_steps - 1:
                break  # mid-epoch; stopping on an epoch's last step still validates it below
        else:
            # end of epoch: validate, keep the best, checkpoint at the next epoch's start
            epoch, skip = epoch + 1, 0
            if lead:
                metrics = validate(model, val_x, val_y, device)
                metrics = {"epoch": epoch, "step": step, "elapsed_s": round(elapsed, 1), **metrics}
                new = not (out / "val.csv").exists()
                with (out / "val.csv").open("a", newline="") as f:
                    wr = csv.DictWriter(f, fieldnames=list(metrics))
                    if new:
                        wr.writeheader()
                    wr.writerow(metrics)
                print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items()))
                sample_grid(model, fixed, out / "samples" / f"epoch{epoch:03d}.png")
                if metrics["acc_mean"] > best:
                    best = metrics["acc_mean"]
                    model.save_pretrained(out / "best")
                    (out / "best" / "metrics.json").write_text(json.dumps(metrics, indent=2))
            save_state(epoch, 0)
            continue
        break
    if lead:
        sample_grid(model, fixed, out / "samples" / "final.png")
        print(f"done: {step} steps, {elapsed / 60:.1f} min; checkpoints in {out}/last and {out}/best")
    if world > 1:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
