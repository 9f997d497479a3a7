"""The training CLI on the tiny fixture: a run, an exact resume, and 2 DDP ranks on the CPU."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from model import IFcVAEGAN
from tests.conftest import REPO

TINY = ["--widths", "8", "16", "16", "32", "--z-dim", "8", "--batch-size", "2", "--epochs", "3",
        "--no-progress", "--threads", "1"]


def train(args: list[str], tmp_path: Path, launcher: list[str] | None = None) -> subprocess.CompletedProcess:
    cmd = [*(launcher or [sys.executable]), "-m", "training.train", *TINY, *args,
           "--cache-dir", str(tmp_path / "cache")]
    r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300,
                       env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    return r


@pytest.mark.slow
def test_train_writes_logs_samples_and_checkpoints(celeba_tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    train(["--data", str(celeba_tiny), "--out", str(out), "--max-steps", "4", "--weight", "gan=0",
           "--aux-objective", "confusion"], tmp_path)
    log = (out / "log.csv").read_text().splitlines()
    assert log[0].startswith("step,epoch") and len(log) >= 2
    assert "acc_Smiling" in (out / "val.csv").read_text()
    assert list((out / "samples").glob("*.png"))
    model = IFcVAEGAN.load(out / "last")
    assert model.config.loss_weights["gan"] == 0.0 and model.config.aux_objective == "confusion"
    assert json.loads((out / "best" / "metrics.json").read_text())["epoch"] >= 1


@pytest.mark.slow
def test_resume_continues_exactly(celeba_tiny: Path, tmp_path: Path) -> None:
    straight, split = tmp_path / "straight", tmp_path / "split"
    train(["--data", str(celeba_tiny), "--out", str(straight), "--max-steps", "5", "--ema-decay", "0.9"], tmp_path)
    train(["--data", str(celeba_tiny), "--out", str(split), "--max-steps", "2", "--ema-decay", "0.9"], tmp_path)
    # a run started before an option existed resumes with that option's default
    saved = json.loads((split / "args.json").read_text())
    del saved["init"]
    (split / "args.json").write_text(json.dumps(saved))
    r = train(["--data", str(celeba_tiny), "--out", str(split), "--max-steps", "5", "--resume"], tmp_path)
    assert "resumed" in r.stdout
    a = load_file(straight / "last" / "model.safetensors")
    b = load_file(split / "last" / "model.safetensors")
    assert a.keys() == b.keys()
    for k in a:
        assert (a[k] - b[k]).abs().max() < 1e-5, k


def test_csv_logs_gain_the_columns_that_newer_code_adds(tmp_path: Path) -> None:
    from training.train import append_csv
    path = tmp_path / "val.csv"
    append_csv(path, {"epoch": 1, "acc": 0.5}, ["epoch", "acc"])
    append_csv(path, {"epoch": 2, "acc": 0.6, "repaint": 0.3}, ["epoch", "acc", "repaint"])
    append_csv(path, {"epoch": 3, "acc": 0.7}, ["epoch", "acc"])
    assert path.read_text().splitlines() == ["epoch,acc,repaint", "1,0.5,", "2,0.6,0.3", "3,0.7,"]


def test_resume_may_change_the_schedule_and_records_it(tmp_path: Path) -> None:
    """``--resume`` keeps the run's options, except per-call ones and schedule options given again."""
    from training.train import parse_args, run_args
    out = tmp_path / "run"
    first = run_args(parse_args(["--data", "d", "--out", str(out), "--lr", "1e-4"]), lead=True)
    assert first.lr_decay_start == 0
    (out / "state.pt").write_bytes(b"")
    again = run_args(parse_args(["--data", "d", "--out", str(out), "--resume", "--lr", "1",
                                 "--lr-decay-start", "700", "--threads", "1"]), lead=True)
    assert (again.lr, again.lr_decay_start, again.threads) == (1e-4, 700, 1)  # --lr is not a schedule option
    assert json.loads((out / "args.json").read_text())["lr_decay_start"] == 700
    later = run_args(parse_args(["--data", "d", "--out", str(out), "--resume", "--aux-reset", "500"]), lead=True)
    assert (later.lr_decay_start, later.lr_decay_steps, later.aux_reset) == (700, 10000, 500)
    assert json.loads((out / "args.json").read_text())["aux_reset"] == 500
    shorter = run_args(parse_args(["--data", "d", "--out", str(out), "--resume", "--ema-decay", "0.995",
                                   "--mask-warmup", "700"]), lead=True)
    assert (shorter.ema_decay, shorter.mask_warmup, shorter.aux_reset) == (0.995, 700, 500)
    saved = json.loads((out / "args.json").read_text())
    (out / "args.json").write_text(json.dumps({**saved, "weight": ["kl=0.1", "mask=300"]}))
    heavier = run_args(parse_args(["--data", "d", "--out", str(out), "--resume", "--weight", "mask=1000"]), lead=True)
    assert heavier.weight == ["kl=0.1", "mask=1000"]
    assert json.loads((out / "args.json").read_text())["weight"] == ["kl=0.1", "mask=1000"]


@pytest.mark.slow
def test_a_budget_ending_with_an_epoch_still_validates_it(celeba_tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    r = train(["--data", str(celeba_tiny), "--out", str(out), "--max-steps", "3"], tmp_path)  # 6 faces / batch 2
    assert "done: 3 steps" in r.stdout
    assert [line.split(",")[0] for line in (out / "val.csv").read_text().splitlines()[1:]] == ["1"]
    assert json.loads((out / "best" / "metrics.json").read_text())["epoch"] == 1


@pytest.mark.slow
def test_max_minutes_stops_with_a_checkpoint_to_resume(celeba_tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    r = train(["--data", str(celeba_tiny), "--out", str(out), "--max-minutes", "0.0001"], tmp_path)
    assert "done: 1 steps" in r.stdout  # the time is up after the first step (3 epochs of 3 were asked for)
    assert torch.load(out / "state.pt", weights_only=False)["step"] == 1
    r = train(["--data", str(celeba_tiny), "--out", str(out), "--max-steps", "3", "--resume"], tmp_path)
    assert "resumed" in r.stdout and "done: 3 steps" in r.stdout


@pytest.mark.slow
def test_init_from_a_checkpoint(celeba_tiny: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    train(["--data", str(celeba_tiny), "--out", str(first), "--max-steps", "1"], tmp_path)
    train(["--data", str(celeba_tiny), "--out", str(second), "--max-steps", "1", "--init", str(first / "last")],
          tmp_path)
    a = load_file(first / "last" / "model.safetensors")
    b = load_file(second / "last" / "model.safetensors")
    # same seed and data: ignoring --init would reproduce the first run exactly; with it, the second
    # run is one more small step from where the first ended
    diffs = [(a[k] - b[k]).abs().max().item() for k in a if a[k].is_floating_point() and "running" not in k]
    assert max(diffs) > 0
    assert max(diffs) < 0.05
    r = subprocess.run([sys.executable, "-m", "training.train", "--data", str(celeba_tiny), "--out",
                        str(tmp_path / "bad"), "--init", str(first / "last"), *TINY, "--z-dim", "9"],
                       cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "shapes differ" in r.stderr


@pytest.mark.slow
def test_edit_recipe_from_a_checkpoint_without_critic(celeba_tiny: Path, tmp_path: Path) -> None:
    """The flipped-edit terms, balanced batches and a critic warm-up, started from a paper-model
    checkpoint: its networks are copied, the critic starts fresh, and validation logs the critic."""
    first, second = tmp_path / "first", tmp_path / "second"
    train(["--data", str(celeba_tiny), "--out", str(first), "--max-steps", "1", "--attributes", "Smiling",
           "Eyeglasses"], tmp_path)
    train(["--data", str(celeba_tiny), "--out", str(second), "--init", str(first / "last"), "--max-steps", "3",
           "--weight", "edit_cls=1000", "--weight", "edit_gan=20", "--weight", "cls_rec=0",
           "--aux-objective", "confusion", "--rare-share", "0.25", "--rare-below", "0.4", "--critic-warmup", "1",
           "--batch-size", "4", "--attributes", "Smiling", "Eyeglasses", "--weight", "edit_change=10",
           "--conditional-d", "--aux-steps", "2", "--aux-reset", "2", "--ema-decay", "0.99", "--lr-decay-start", "2",
           "--lr-decay-steps", "2"], tmp_path)
    model = IFcVAEGAN.load(second / "last")
    assert model.critic is not None and model.config.loss_weights["edit_cls"] == 1000.0
    assert model.config.conditional_discriminator and model.discriminator.embed is not None
    log = (second / "log.csv").read_text().splitlines()
    assert "critic" in log[0].split(",") and "aux_floor" in log[0].split(",")
    val = (second / "val.csv").read_text()
    assert "edit_Smiling" in val and "probe_Eyeglasses" in val
    a = load_file(first / "last" / "model.safetensors")
    b = load_file(second / "last" / "model.safetensors")
    assert any(k.startswith("critic.") for k in b) and not any(k.startswith("critic.") for k in a)
    assert "edit_change" in log[0].split(",")


def test_refuses_to_overwrite_a_run(celeba_tiny: Path, tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "state.pt").write_bytes(b"")
    r = subprocess.run([sys.executable, "-m", "training.train", "--data", str(celeba_tiny), "--out",
                        str(tmp_path / "run")], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "--resume" in r.stderr


@pytest.mark.slow
def test_ddp_two_cpu_ranks(celeba_tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "ddp"
    with socket.socket() as sock:  # a free port for the rendezvous
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                "--master_addr", "127.0.0.1", "--master_port", str(port)]
    # --max-minutes: rank 0's clock is broadcast after every step (the limit itself is not reached)
    r = train(["--data", str(celeba_tiny), "--out", str(out), "--max-steps", "3", "--max-minutes", "30"], tmp_path,
              launcher=torchrun)
    assert "done: 3 steps" in r.stdout
    log = (out / "log.csv").read_text().splitlines()
    assert len(log) >= 2
    model = IFcVAEGAN.load(out / "last")
    assert model.attributes[0] == "Smiling"
