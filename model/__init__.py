"""IFcVAE-GAN face attribute editor: networks, config, preprocessing and loading."""
import os

# Before torch is imported, once for every entry point (each package's __init__ imports model first):
# OpenMP threads that sleep instead of spin when idle, which keeps torch fast beside other busy
# processes on a shared CPU; and no Hugging Face telemetry (huggingface_hub reads it on import).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from .config import CELEBA_ATTRIBUTES, DEFAULT_ATTRIBUTES, LOSS_TERMS, ModelConfig  # noqa: E402
from .ifcvae import CheckpointError, IFcVAEGAN  # noqa: E402

__all__ = ["CELEBA_ATTRIBUTES", "DEFAULT_ATTRIBUTES", "LOSS_TERMS", "CheckpointError", "IFcVAEGAN",
           "ModelConfig"]
