"""IFcVAE-GAN face attribute editor: networks, config, preprocessing and loading."""
from .config import CELEBA_ATTRIBUTES, DEFAULT_ATTRIBUTES, LOSS_TERMS, ModelConfig
from .ifcvae import CheckpointError, IFcVAEGAN

__all__ = ["CELEBA_ATTRIBUTES", "DEFAULT_ATTRIBUTES", "LOSS_TERMS", "CheckpointError", "IFcVAEGAN",
           "ModelConfig"]
