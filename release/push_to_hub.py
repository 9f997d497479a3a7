"""Push a checkpoint folder (config.json, model.safetensors, README.md model card) to a Hub model repo.

    python -m release.push_to_hub --weights weights --repo-id YOUR_NAME/ifcvae-gan-celeba64
    python -m release.push_to_hub --weights weights/eyes --repo-id YOUR_NAME/ifcvae-gan-eyes   # one region editor

The region editors in the folder's sub-folders (``eyes/``, ``mouth/``; ``model.regions``) go with
it, each with its own config, weights and card.

Needs network access and a write token (``HF_TOKEN`` or ``huggingface-cli login``); without
either it stops with a clear message before sending anything.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from huggingface_hub import HfApi, constants, get_token

from model import IFcVAEGAN
from model.preprocessing import EDIT_REGIONS

FILES = ("config.json", "model.safetensors", "README.md")
#: Pushed when present: the user-level figures the card shows (``evaluation/user_level.py``).
EXTRAS = ("metrics.json",)
#: Uploaded too where present: the images the model card shows.
IMAGES = ("*.png", "*.jpg")


class PushError(RuntimeError):
    """Why a push cannot happen, in words for the user."""


def push(weights: str | Path, repo_id: str, token: str | None = None, private: bool = False,
         message: str = "Upload IFcVAE-GAN checkpoint") -> str:
    """Validate the checkpoint, then upload it; returns the repo URL."""
    folder = Path(weights)
    regions = [name for name in EDIT_REGIONS if (folder / name / "config.json").is_file()]
    for checkpoint in (folder, *(folder / name for name in regions)):
        IFcVAEGAN.load(checkpoint)  # refuses pickles, wrong shapes, unknown config keys
        missing = [f for f in FILES if not (checkpoint / f).is_file()]
        if missing:
            raise PushError(f"{checkpoint} lacks {missing}; a Hub model repo needs the config, the weights and a "
                            "model card")
    if constants.HF_HUB_OFFLINE:
        raise PushError("HF_HUB_OFFLINE is set: pushing needs network access (unset HF_HUB_OFFLINE)")
    token = token or get_token()
    if not token:
        raise PushError("no Hugging Face token: set HF_TOKEN or run `huggingface-cli login`, then try again")
    api = HfApi(token=token)
    try:
        api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
        patterns = [*FILES, *EXTRAS, *IMAGES]
        api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="model",
                          allow_patterns=[*patterns, *(f"{name}/{p}" for name in regions for p in patterns)],
                          commit_message=message)
    except OSError as e:  # requests' connection errors are OSErrors
        raise PushError(f"could not reach the Hub to push {repo_id}: {e}") from e
    return f"https://huggingface.co/{repo_id}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Push a checkpoint folder to a Hugging Face Hub model repo.")
    ap.add_argument("--weights", default="weights", help="checkpoint folder (default: weights)")
    ap.add_argument("--repo-id", required=True, help="Hub repo id, e.g. NAME/ifcvae-gan-celeba64")
    ap.add_argument("--token", default=None, help="write token (default: HF_TOKEN or the saved login)")
    ap.add_argument("--private", action="store_true")
    args = ap.parse_args(argv)
    try:
        url = push(args.weights, args.repo_id, args.token, args.private)
    except Exception as e:  # every failure ends in one readable line, not a traceback
        print(f"push failed: {e}", file=sys.stderr)
        return 1
    print(f"pushed {args.weights} to {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
