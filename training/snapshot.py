"""Keep a training run's last weights in the repository, so that a later session can go on from them.

    python -m training.snapshot --run runs/eyes_v1 --out weights/in_training/eyes

Writes ``--out/config.json`` and ``model.safetensors`` (every network of the model, adversaries
included, stored as bfloat16: half the size, and ``--init`` loads them into a float32 model), and
copies the run's ``args.json``, ``log.csv`` and ``val.csv`` beside them. A later session continues
with ``python -m training.train ... --init weights/in_training/eyes`` and the run's own flags (fresh
optimisers; the ``--out`` folder of the run that made it is not needed).
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

from model import IFcVAEGAN
from model.ifcvae import CONFIG_NAME, WEIGHTS_NAME, CheckpointError

#: The run's record copied with the weights.
RECORD = ("args.json", "log.csv", "val.csv")


def snapshot(run: Path, out: Path) -> Path:
    """Write the snapshot of ``run/last`` (a ``training.train`` run folder) to ``out``."""
    model = IFcVAEGAN.load(run / "last")
    out.mkdir(parents=True, exist_ok=True)
    (out / CONFIG_NAME).write_text((run / "last" / CONFIG_NAME).read_text())
    state = {k: (v.to(torch.bfloat16) if v.is_floating_point() else v).contiguous()
             for k, v in model.state_dict().items()}
    save_file(state, str(out / WEIGHTS_NAME))
    for name in RECORD:
        if (run / name).is_file():
            shutil.copyfile(run / name, out / name)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Keep a training run's last weights for a later session.")
    ap.add_argument("--run", required=True, type=Path, help="the training run folder (with last/)")
    ap.add_argument("--out", required=True, type=Path, help="where to write the snapshot")
    args = ap.parse_args(argv)
    try:
        out = snapshot(args.run, args.out)
    except (OSError, CheckpointError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {out}: {(out / WEIGHTS_NAME).stat().st_size / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
