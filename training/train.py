"""Train an IFcVAE-GAN on a CelebA folder: flags, then a short loop around :class:`training.trainer.Trainer`.

    python -m training.train --data ../shared/celeba --out runs/base
    python -m training.train --data ../shared/celeba --out runs/base --resume     # continue exactly
    python -m training.train --data ../shared/celeba --out runs/base --resume --lr-decay-start 5000  # with a decay
    python -m training.train --data ../shared/celeba --out runs/more --init weights --bf16   # from weights
    python -m training.train --data ../shared/celeba --out runs/eyes --region eyes --masked-edit \
        --attributes Eyeglasses --weight mask=...   # a region editor (see README "Training")
    torchrun --nproc_per_node 2 -m training.train --data ../shared/celeba --out runs/ddp

Writes to ``--out``: ``log.csv`` (training losses), ``val.csv`` (per-epoch validation),
``samples/*.png`` (originals | reconstructions | each attribute flipped), ``last/`` and ``best/``
(loadable checkpoints: config.json + model.safetensors) and ``state.pt`` (optimisers, RNG and data
position, for ``--resume``).
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import time
from pathlib import Path

import torch
import torch.distributed as dist
from tqdm import tqdm

from model import IFcVAEGAN, ModelConfig
from model.config import AUX_OBJECTIVES, DEFAULT_ATTRIBUTES, LOSS_TERMS
from model.preprocessing import EDIT_REGIONS, to_model_input
from training.celeba import CelebA, load_crops
from training.edit_sheet import decoded_rows, save_grid
from training.grow import grown_state
from training.sampling import BatchSampler
from training.trainer import Trainer
from training.validation import validate

#: Options that belong to one call, not to the run: ``--resume`` takes them from the command line.
PER_CALL = ("data", "out", "resume", "epochs", "max_steps", "max_minutes", "no_progress", "threads",
            "sample_minutes", "ckpt_minutes", "device", "cache_dir")
#: Schedule options that ``--resume`` changes when they are given (the run's ``args.json`` records it).
RESCHEDULE = ("lr_decay_start", "lr_decay_steps", "lr_decay_final", "aux_reset", "ema_decay", "mask_warmup")
#: Train images whose batch statistics become the averaged weights' batch-norm statistics (--ema-decay).
CALIBRATION_IMAGES = 1024
LOG_FIELDS = ["step", "epoch", "elapsed_s", "img_per_s", "total", *LOSS_TERMS, "aux_net", "aux_floor", "critic",
              "local_critic", "disc"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="Train an IFcVAE-GAN on a CelebA-layout folder.")
    ap.add_argument("--data", required=True, help="CelebA folder (img_align_celeba/, list_attr_celeba.txt, ...)")
    ap.add_argument("--out", required=True, help="run folder")
    ap.add_argument("--resume", action="store_true", help="continue the run in --out exactly where it stopped")
    ap.add_argument("--init", default=None, metavar="CHECKPOINT",
                    help="start from these weights (folder or Hub id, same shapes) with fresh optimisers; "
                         "a network the checkpoint lacks (the attribute critic) starts fresh; a checkpoint "
                         "at a smaller --image-size whose --widths end this run's starts the inner blocks")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0: no limit)")
    ap.add_argument("--max-minutes", type=float, default=0,
                    help="stop with a checkpoint after this many minutes of this call (0: no limit); "
                         "--resume goes on from there")
    ap.add_argument("--batch-size", type=int, default=64, help="per process")
    ap.add_argument("--lr", type=float, default=2e-4, help="RMSprop learning rate (all networks)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--image-size", type=int, default=64, help="side of the whole-face crop (not for --region)")
    ap.add_argument("--region", choices=sorted(EDIT_REGIONS), default=None,
                    help="train a region editor on this box of the CelebA frame, at the frame's own resolution "
                         f"({', '.join(f'{k}: {v}' for k, v in EDIT_REGIONS.items())})")
    ap.add_argument("--masked-edit", action="store_true",
                    help="a region editor with a mask head: edits keep the input's pixels where the mask is off "
                         "(the mask term's weight: --weight mask=W)")
    ap.add_argument("--mirror-mask", action="store_true",
                    help="the mask is left-right symmetric (its union with its mirror image): one lens or one "
                         "mouth corner opened opens the other")
    ap.add_argument("--warp", action="store_true",
                    help="editing only: an edit moves the input's own pixels along the optical flow from the "
                         "reconstruction to the decoded edit, and draws only what that move leaves unexplained")
    ap.add_argument("--follows", nargs="+", default=[], metavar="LEADER=FOLLOWER",
                    help="editing only: an edit that sets LEADER and leaves FOLLOWER alone sets FOLLOWER to the "
                         "same value (e.g. Smiling=Mouth_Slightly_Open: an added smile opens the mouth)")
    ap.add_argument("--z-dim", type=int, default=100)
    ap.add_argument("--widths", type=int, nargs="+", default=[32, 64, 128, 256])
    ap.add_argument("--attributes", nargs="+", default=list(DEFAULT_ATTRIBUTES))
    ap.add_argument("--weight", action="append", default=[], metavar="TERM=W",
                    help=f"loss weight override, e.g. --weight gan=0 (terms: {', '.join(LOSS_TERMS)}); with --resume "
                         "it replaces the run's weight of that term")
    ap.add_argument("--aux-objective", default=ModelConfig.aux_objective, choices=list(AUX_OBJECTIVES),
                    help="the encoder's term against the auxiliary net: the paper's negated BCE, or confusion "
                         "(pull its predictions to the attribute frequencies; see model/losses.py)")
    ap.add_argument("--flip-prob", type=float, default=ModelConfig.flip_prob,
                    help="chance that each attribute is flipped in the edit pass (edit_cls / edit_gan terms)")
    ap.add_argument("--rare-share", type=float, default=0.0,
                    help="balance batches: this share of every batch comes from the positives of each "
                         "attribute rarer than --rare-below (0: uniform batches)")
    ap.add_argument("--rare-below", type=float, default=0.15)
    ap.add_argument("--critic-lr", type=float, default=None,
                    help="the attribute critic's learning rate (default: --lr)")
    ap.add_argument("--critic-warmup", type=int, default=0,
                    help="train only the attribute critic for this many first steps (edit_cls on)")
    ap.add_argument("--conditional-d", action="store_true",
                    help="projection discriminator that also reads the attributes each image claims")
    ap.add_argument("--mask-warmup", type=int, default=2000,
                    help="the mask term's weight rises linearly from 0 to its value over this many steps after "
                         "--critic-warmup, so that the mask opens where the edit needs it before it is made sparse; "
                         "may be given with --resume")
    ap.add_argument("--aux-steps", type=int, default=1, help="auxiliary-net updates per step")
    ap.add_argument("--aux-reset", type=int, default=0, metavar="N",
                    help="start the auxiliary net afresh every N steps (0: never), so that the encoder keeps "
                         "facing an adversary that has just learned what z holds; may be given with --resume")
    ap.add_argument("--ema-decay", type=float, default=0.0,
                    help="average the encoder and decoder weights with this decay (e.g. 0.999) and save "
                         "and validate the averaged ones (0: no average); may be given with --resume (a shorter "
                         "average for a run that turned out short)")
    ap.add_argument("--lr-decay-start", type=int, default=0,
                    help="from this step on, lower every learning rate linearly (0: constant rate)")
    ap.add_argument("--lr-decay-steps", type=int, default=10000,
                    help="steps over which the rate falls to --lr-decay-final of its start")
    ap.add_argument("--lr-decay-final", type=float, default=0.1)
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
                       aux_objective=args.aux_objective, flip_prob=args.flip_prob,
                       conditional_discriminator=args.conditional_d,
                       region=EDIT_REGIONS[args.region] if args.region else None,
                       masked_edit=args.masked_edit, mirror_mask=args.mirror_mask, warp=args.warp,
                       follows=follows(args.follows))


def follows(pairs: list[str]) -> dict[str, tuple[str, ...]]:
    """``--follows LEADER=FOLLOWER ...`` as ``ModelConfig.follows``."""
    out: dict[str, tuple[str, ...]] = {}
    for pair in pairs:
        leader, _, follower = pair.partition("=")
        out[leader] = (*out.get(leader, ()), follower)
    return out


def lr_factor(step: int, args: argparse.Namespace) -> float:
    """The learning-rate multiplier at ``step``: 1, then linear down to ``--lr-decay-final``."""
    if not args.lr_decay_start or step < args.lr_decay_start:
        return 1.0
    done = min((step - args.lr_decay_start) / max(args.lr_decay_steps, 1), 1.0)
    return 1.0 - done * (1.0 - args.lr_decay_final)


def run_args(args: argparse.Namespace, lead: bool) -> argparse.Namespace:
    """The run's settings: this call's, saved to ``args.json`` for a new run; for ``--resume`` the
    saved ones (options added since the run started keep their defaults) with this call's PER_CALL,
    and the RESCHEDULE options and loss weights (``--weight``, merged term by term) this call gives
    (saved back to ``args.json``)."""
    out = Path(args.out)
    if args.resume:
        if not (out / "state.pt").exists():
            raise SystemExit(f"--resume: no {out / 'state.pt'}")
        defaults = vars(parse_args(["--data", args.data, "--out", args.out]))
        saved = {**defaults, **json.loads((out / "args.json").read_text())}
        changed = {k: getattr(args, k) for k in RESCHEDULE if getattr(args, k) != defaults[k]}
        if args.weight:  # loss weights given again replace the saved ones of the same terms
            given = {w.partition("=")[0] for w in args.weight}
            changed["weight"] = [w for w in saved["weight"] if w.partition("=")[0] not in given] + args.weight
        if changed and lead:
            (out / "args.json").write_text(json.dumps({**saved, **changed}, indent=2))
        return argparse.Namespace(**{**saved, **changed, **{k: getattr(args, k) for k in PER_CALL}})
    if lead:
        if (out / "state.pt").exists():
            raise SystemExit(f"{out} already holds a run: pass --resume to continue it, or pick another --out")
        out.mkdir(parents=True, exist_ok=True)
        (out / "args.json").write_text(json.dumps(vars(args), indent=2))
    return args


#: Parts of a model that ``--init`` may start fresh when the checkpoint lacks them.
OPTIONAL_PARTS = ("critic.", "local_critic.", "discriminator.embed.")


def init_from(model: IFcVAEGAN, checkpoint: str) -> None:
    """Copy a checkpoint's weights into ``model``; only the optional parts the checkpoint lacks (the
    attribute critic, the local critic, a conditional discriminator's embedding) stay fresh. A checkpoint at a smaller
    image size starts the inner blocks of a grown model (``training.grow``); its outer blocks stay fresh."""
    source = IFcVAEGAN.load(checkpoint)
    start, own = source.state_dict(), model.state_dict()
    if source.config.image_size != model.config.image_size:
        try:
            start, copied = grown_state(start, source.config, own, model.config)
        except ValueError as e:
            raise SystemExit(f"--init {checkpoint}: {e}") from None
        print(f"--init {checkpoint}: {copied} of {len(own)} tensors copied into the "
              f"{model.config.image_size} px model, the rest start fresh")
    fresh = {k for k in own if k.startswith(OPTIONAL_PARTS)} - set(start)
    if {k: v.shape for k, v in start.items()} != {k: v.shape for k, v in own.items() if k not in fresh}:
        raise SystemExit(f"--init {checkpoint}: its shapes differ from this run's config {model.config}")
    model.load_state_dict(start, strict=not fresh)


def setup_distributed(device: str) -> tuple[int, int, str]:
    """(rank, world size, this rank's device); initialises the process group under torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world > 1:
        dist.init_process_group("nccl" if device.startswith("cuda") else "gloo")
        if device.startswith("cuda"):
            device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
            torch.cuda.set_device(device)
    return rank, world, device


class Budget:
    """``--max-steps`` / ``--max-minutes`` of this call; under DDP rank 0's clock decides, so that all
    ranks stop at the same step."""

    def __init__(self, max_steps: int, max_minutes: float, world: int, device: str) -> None:
        self.max_steps, self.max_s, self.world, self.device = max_steps, max_minutes * 60, world, device
        self.t0 = time.time()

    def spent(self, step: int) -> bool:
        if self.max_steps and step >= self.max_steps:
            return True
        if not self.max_s:
            return False
        late = time.time() - self.t0 > self.max_s
        if self.world > 1:
            flag = torch.tensor(float(late), device=self.device)
            dist.broadcast(flag, 0)
            late = bool(flag.item())
        return late


def append_csv(path: Path, row: dict[str, object], fields: list[str]) -> None:
    """Append ``row``; if the file's header lacks some of ``fields`` (a run resumed by newer code
    that logs more), rewrite it with the columns of both, earlier rows left blank in the new ones."""
    if path.exists():
        with path.open(newline="") as f:
            header = next(csv.reader(f), [])  # only the header: the log is appended to every few steps
        if header and set(fields) - set(header):
            with path.open(newline="") as f:
                old = list(csv.DictReader(f))
            fields = header + [k for k in fields if k not in header]
            with path.open("w", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=fields, restval="")
                writer.writeheader()
                writer.writerows(old)
        else:
            fields = header or fields
    new = not path.exists() or path.stat().st_size == 0
    with path.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, restval="")
        if new:
            writer.writeheader()
        writer.writerow(row)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    rank, world, device = setup_distributed(args.device)
    lead = rank == 0
    if args.threads:
        torch.set_num_threads(args.threads)
    if device.startswith("cuda"):
        torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick its fastest convolutions
    args = run_args(args, lead)
    out = Path(args.out)

    torch.manual_seed(args.seed + rank)
    model = IFcVAEGAN(model_config(args)).to(device)
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    if args.init and not args.resume:
        init_from(model, args.init)
    cfg = model.config

    quiet = not lead or args.no_progress
    train, val = CelebA(args.data, "train"), CelebA(args.data, "val")
    train_x = load_crops(train, cfg.image_size, args.cache_dir, progress=not quiet, region=cfg.region)
    train_y = train.labels(cfg.attributes)
    if args.limit:
        train_x, train_y = train_x[: args.limit], train_y[: args.limit]
    val_x = load_crops(val, cfg.image_size, args.cache_dir, progress=not quiet, region=cfg.region)[: args.val_limit]
    val_y = val.labels(cfg.attributes)[: args.val_limit]
    sampler = BatchSampler(train_y, args.batch_size, args.seed, rank, world, args.rare_share, args.rare_below)
    if sampler.steps == 0:
        raise SystemExit(f"{len(train_x)} train images are too few for batch {args.batch_size} x {world} ranks")

    trainer = Trainer(model, args.lr, bf16=args.bf16, world=world, critic_lr=args.critic_lr,
                      aux_steps=args.aux_steps, ema_decay=args.ema_decay)
    epoch, skip, step, best, elapsed = 0, 0, 0, -math.inf, 0.0
    if args.resume:
        st = torch.load(out / "state.pt", map_location=device, weights_only=True)
        trainer.load_state_dict(st)
        epoch, skip, step, best, elapsed = st["epoch"], st["skip"], st["step"], st["best"], st["elapsed"]
        torch.set_rng_state(st["rng"][rank].cpu())
        if lead:
            print(f"resumed {out} at epoch {epoch}, step {step}")

    def save_state(next_epoch: int, next_skip: int) -> None:
        rngs = [torch.get_rng_state()]
        if world > 1:  # every rank's RNG, so that each resumes its own random stream
            rngs = [None] * world
            dist.all_gather_object(rngs, torch.get_rng_state())
        if lead:
            tmp = out / "state.tmp"
            torch.save({**trainer.state_dict(), "epoch": next_epoch, "skip": next_skip, "step": step,
                        "best": best, "elapsed": elapsed, "rng": rngs}, tmp)
            tmp.replace(out / "state.pt")
            with trainer.averaged(calibration):
                model.save_pretrained(out / "last")

    fixed = to_model_input(val_x[:8]).to(device)
    calibration = to_model_input(train_x[:CALIBRATION_IMAGES]).to(device)  # batch-norm statistics of the average
    budget = Budget(args.max_steps, args.max_minutes, world, device)
    t_sample = t_ckpt = time.time()
    t_start = time.time() - elapsed
    model.train()
    stop = budget.spent(step)
    while epoch < args.epochs and not stop:
        bar = tqdm(sampler.epoch(epoch, skip), total=sampler.steps, initial=skip,
                   desc=f"epoch {epoch + 1}/{args.epochs}", disable=quiet)
        t_log, n_log = time.time(), 0
        for s, idx in bar:
            x = train_x[idx]
            mirror = torch.rand(len(idx)) < 0.5
            x[mirror] = x[mirror].flip(-1)
            x = to_model_input(x).to(device)
            if args.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            trainer.scale_lr(lr_factor(step, args))
            if args.aux_reset and step > args.critic_warmup and step % args.aux_reset == 0:
                trainer.reset_aux()
            mask_scale = min(1.0, max(0.0, (step - args.critic_warmup) / max(args.mask_warmup, 1)))
            logs = trainer.step(x, train_y[idx].to(device), critic_only=step < args.critic_warmup,
                                scales={"mask": mask_scale})
            step += 1
            n_log += len(idx) * world
            elapsed = time.time() - t_start
            if lead and (step % 20 == 0 or s == sampler.steps - 1):
                vals = {k: v.item() for k, v in logs.items()}
                bar.set_postfix({k: f"{v:.3g}" for k, v in vals.items()})
                ips = n_log / max(time.time() - t_log, 1e-9)
                t_log, n_log = time.time(), 0
                append_csv(out / "log.csv", {"step": step, "epoch": epoch, "elapsed_s": f"{elapsed:.1f}",
                                             "img_per_s": f"{ips:.1f}", **{k: f"{v:.4f}" for k, v in vals.items()}},
                           LOG_FIELDS)
            now = time.time()
            if lead and now - t_sample > args.sample_minutes * 60:
                with trainer.averaged(calibration):
                    save_grid(decoded_rows(model, fixed), out / "samples" / f"step{step:07d}.png")
                t_sample = now
            stop = budget.spent(step)
            if now - t_ckpt > args.ckpt_minutes * 60 or stop:
                save_state(epoch, s + 1)
                t_ckpt = now
            if stop and s < sampler.steps - 1:
                break  # mid-epoch; stopping on an epoch's last step still validates it below
        else:
            epoch, skip = epoch + 1, 0
            if lead:  # validate, keep the best, checkpoint at the next epoch's start
                with trainer.averaged(calibration):
                    metrics = {"epoch": epoch, "step": step, "elapsed_s": round(elapsed, 1),
                               **validate(model, val_x, val_y)}
                    append_csv(out / "val.csv", metrics, list(metrics))
                    print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                   for k, v in metrics.items()))
                    save_grid(decoded_rows(model, fixed), out / "samples" / f"epoch{epoch:03d}.png")
                    if metrics["acc_mean"] > best:
                        best = metrics["acc_mean"]
                        model.save_pretrained(out / "best")
                        (out / "best" / "metrics.json").write_text(json.dumps(metrics, indent=2))
            save_state(epoch, 0)
            continue
        break
    if lead:
        with trainer.averaged(calibration):
            save_grid(decoded_rows(model, fixed), out / "samples" / "final.png")
        print(f"done: {step} steps, {elapsed / 60:.1f} min; checkpoints in {out}/last and {out}/best")
    if world > 1:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
