"""Copy a checkpoint folder with its float tensors stored as float16, to fit a size-limited transfer.

    python3 eval/gpu_wide/export_half.py SRC_FOLDER DST_FOLDER

Used by ``eval/gpu_wide/gpu_run.sh`` and ``eval/ablation/gpu_ablation.sh``; the copies were loaded
back as float32 (``IFcVAEGAN(config).load_state_dict``) before evaluation.
"""
import shutil
import sys
from pathlib import Path

from safetensors.torch import load_file, save_file

src, dst = map(Path, sys.argv[1:3])
dst.mkdir(parents=True, exist_ok=True)
state = load_file(src / "model.safetensors")
save_file({k: v.half() if v.is_floating_point() else v for k, v in state.items()}, dst / "model.safetensors")
shutil.copy(src / "config.json", dst)
