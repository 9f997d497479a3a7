"""The IFcVAE-GAN as one config-driven module with safetensors-only save/load and inference helpers."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Mapping, NamedTuple

import torch
from huggingface_hub import PyTorchModelHubMixin, hf_hub_download
from safetensors import safe_open
from safetensors.torch import load_file
from torch import nn

from .config import ModelConfig
from .motion import moved_edit, warp
from .networks import AttributeCritic, AuxNet, Decoder, Discriminator, Encoder, MaskNet

WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded: missing files, pickle files, or a config that does not fit."""


class MaskedParts(NamedTuple):
    """A masked editor's edit of a batch and what it is made of (``B x C x H x W``; ``flow``, the move
    of the input's own pixels in pixels (x, y), None for an editor without ``config.warp``)."""

    reconstruction: torch.Tensor
    decoded: torch.Tensor
    mask: torch.Tensor
    flow: torch.Tensor | None
    composite: torch.Tensor


def composite(images: torch.Tensor, decoded: torch.Tensor, mask: torch.Tensor, flow: torch.Tensor | None
              ) -> torch.Tensor:
    """A masked edit: ``decoded`` where ``mask`` is on, ``images`` (moved by ``flow``) where it is off."""
    base = images if flow is None else warp(images, flow)
    return mask * decoded + (1 - mask) * base


class IFcVAEGAN(
    nn.Module,
    PyTorchModelHubMixin,
    library_name="ifcvae-gan",
    tags=["face-editing", "vae-gan", "celeba", "image-to-image"],
    paper_url="https://arxiv.org/abs/1711.05175",
    license="other",
    pipeline_tag="image-to-image",
):
    """Encoder E, decoder G, auxiliary net A and discriminator D of the IFcVAE-GAN, the attribute
    critic C when the config's ``edit_cls`` term is on (``critic`` is None otherwise), and a local
    critic, which sees only the part of the face where an attribute shows (the lips of a smile),
    when ``edit_local`` is on (``local_critic`` is None otherwise). A region editor
    (``config.region``) with ``config.masked_edit`` also holds the mask head M (``mask_net``), and its
    edits keep the input's own pixels where the mask is off.

    Images are float tensors ``B x 3 x H x W`` in [0, 1] (``config.image_shape``); attribute values
    are in [0, 1] (0 absent, 1 present; a little beyond 1 exaggerates).
    """

    def __init__(self, config: ModelConfig | dict | None = None) -> None:
        super().__init__()
        if config is None:
            config = ModelConfig()
        elif isinstance(config, Mapping):
            config = ModelConfig.from_dict(dict(config))
        self.config = config
        self._hub_mixin_config = config
        self.encoder = Encoder(config)
        self.decoder = Decoder(config)
        self.aux = AuxNet(config)
        self.discriminator = Discriminator(config)
        self.critic = AttributeCritic(config) if config.has_critic else None
        self.local_critic = AttributeCritic(config) if config.loss_weights["edit_local"] else None
        self.mask_net = MaskNet(config) if config.masked_edit else None

    # -- inference --------------------------------------------------------------------------
    @property
    def attributes(self) -> tuple[str, ...]:
        return self.config.attributes

    def encode(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Images -> (mu, logvar, attribute logits)."""
        self._check_images(images)
        return self.encoder(images)

    def decode(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """(identity code, attribute values in [0, 1]) -> images in [0, 1]."""
        return self.decoder(z, y)

    @torch.no_grad()
    def predict_proba(self, images: torch.Tensor) -> torch.Tensor:
        """Attribute probabilities from the encoder's classifier head, ``B x num_attributes``."""
        return torch.sigmoid(self.encode(images)[2])

    def attribute_values(self, base: torch.Tensor, changes: Mapping[str, float]) -> torch.Tensor:
        """Copy of ``base`` (``B x num_attributes``) with the named attributes set to the given values,
        and those that follow them (``config.follows``) and are not named set to the same value."""
        y = base.clone()
        for name in changes:
            if name not in self.config.attributes:
                raise KeyError(f"unknown attribute {name!r}; this model has {list(self.config.attributes)}")
        followed = {f: v for a, v in changes.items() for f in self.config.follows.get(a, ()) if f not in changes}
        for name, value in {**followed, **changes}.items():
            y[:, self.config.attributes.index(name)] = float(value)
        return y

    @torch.no_grad()
    def edit(self, images: torch.Tensor, changes: Mapping[str, float]) -> torch.Tensor:
        """Encode, set the named attribute units to the values wanted, decode (z = posterior mean);
        a masked editor's edit is :meth:`masked_edit`'s composite."""
        if self.mask_net is not None:
            return self.masked_edit(images, changes)[2]
        mu, _, logits = self.encode(images)
        return self.decode(mu, self.attribute_values(torch.sigmoid(logits), changes))

    @torch.no_grad()
    def masked_edit(self, images: torch.Tensor, changes: Mapping[str, float],
                    decode: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """A masked editor's edit: (the decoded edit, the mask ``B x 1 x H x W``, the composite: the
        decoded edit where the mask is on, the input's own pixels (moved by the displacement field
        of a ``config.warp`` editor) where it is off). ``decode``: draws (z, y) instead of the shared
        decoder (per-face tuned decoders, ``model.tuning``)."""
        parts = self.masked_parts(images, changes, decode)
        return parts.decoded, parts.mask, parts.composite

    @torch.no_grad()
    def masked_parts(self, images: torch.Tensor, changes: Mapping[str, float],
                     decode: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None) -> "MaskedParts":
        """:meth:`masked_edit` with the reconstruction it reads first, from one encoding; for a
        ``config.warp`` editor, with the flow that moves the input (``model.motion``) and the mask
        kept to what that move leaves unexplained."""
        if self.mask_net is None:
            raise ValueError("this checkpoint has no mask head (config.masked_edit is off)")
        decode = decode or self.decode
        mu, _, logits = self.encode(images)
        y_hat = torch.sigmoid(logits)
        y = self.attribute_values(y_hat, changes)
        reconstruction, decoded = decode(mu, y_hat), decode(mu, y)
        mask, flow = self.mask_net(images, reconstruction, decoded, y, y_hat), None
        if self.config.warp:
            flow, mask = moved_edit(reconstruction, decoded, mask)
        return MaskedParts(reconstruction, decoded, mask, flow, composite(images, decoded, mask, flow))

    @torch.no_grad()
    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        """Decode the posterior mean with the predicted attributes (a masked editor's decoding too,
        not its composite)."""
        mu, _, logits = self.encode(images)
        return self.decode(mu, torch.sigmoid(logits))

    def _check_images(self, images: torch.Tensor) -> None:
        h, w = self.config.image_shape
        if images.ndim != 4 or tuple(images.shape[1:]) != (3, h, w):
            raise ValueError(f"expected images of shape B x 3 x {h} x {w}, got {tuple(images.shape)}")

    # -- loading (safetensors + JSON only) --------------------------------------------------------
    @classmethod
    def _from_pretrained(  # type: ignore[override]
        cls,
        *,
        model_id: str,
        revision: str | None,
        cache_dir: str | Path | None,
        force_download: bool,
        local_files_only: bool,
        token: str | bool | None,
        map_location: str = "cpu",
        strict: bool = True,
        **model_kwargs: Any,
    ) -> "IFcVAEGAN":
        """Load ``model.safetensors`` strictly; never unpickle anything."""
        if os.path.isdir(model_id):
            weights = Path(model_id) / WEIGHTS_NAME
            if not weights.is_file():
                pickles = sorted(p.name for p in Path(model_id).iterdir() if p.suffix in PICKLE_SUFFIXES)
                hint = (f" It holds pickle files {pickles}, which are refused because unpickling can run "
                        "arbitrary code; convert them to safetensors." if pickles else "")
                raise CheckpointError(f"no {WEIGHTS_NAME} in {model_id}.{hint}")
        else:
            try:
                weights = Path(hf_hub_download(repo_id=model_id, filename=WEIGHTS_NAME, revision=revision,
                                               cache_dir=cache_dir, force_download=force_download, token=token,
                                               local_files_only=local_files_only))
            except Exception as e:  # offline, no such repo, or a repo with pickle weights only
                raise CheckpointError(f"could not get {WEIGHTS_NAME} of Hub repo {model_id!r} (only "
                                      f"safetensors checkpoints are loaded): {e}") from e
        try:
            with torch.device("meta"):  # sizes only: a config.json can ask for terabytes
                skeleton = cls(**model_kwargs)
        except (TypeError, ValueError, RuntimeError) as e:  # RuntimeError: e.g. negative sizes
            raise CheckpointError(f"invalid config for {model_id}: {e}") from e
        check_fits(skeleton, weights)  # before any memory is allocated for the config's tensors
        model = cls(**model_kwargs)
        load_safetensors_into(model, weights, map_location)
        return model.eval()

    @classmethod
    def load(cls, path_or_id: str | os.PathLike, **kwargs: Any) -> "IFcVAEGAN":
        """``from_pretrained`` that refuses pickle paths and reports config problems clearly."""
        path = str(path_or_id)
        if path.endswith(PICKLE_SUFFIXES):
            raise CheckpointError(f"{path} is a pickle file; only safetensors checkpoints are loaded "
                                  "(unpickling can run arbitrary code)")
        if os.path.isdir(path):
            cfg = Path(path) / CONFIG_NAME
            if not cfg.is_file():
                raise CheckpointError(f"no {CONFIG_NAME} in {path}")
            try:
                json.loads(cfg.read_text())
            except json.JSONDecodeError as e:
                raise CheckpointError(f"{cfg} is not valid JSON: {e}") from e
        elif os.path.exists(path):
            raise CheckpointError(f"{path} is a file; give the checkpoint folder (config.json + {WEIGHTS_NAME})")
        try:
            return cls.from_pretrained(path, **kwargs)
        except CheckpointError:
            raise
        except (OSError, ValueError, TypeError) as e:  # e.g. offline without a cached config.json
            raise CheckpointError(f"could not load checkpoint {path!r}: {e}") from e


def safetensors_shapes(weights: str | os.PathLike) -> dict[str, tuple[int, ...]]:
    """Tensor names and shapes from a safetensors file's header (no tensor data is read)."""
    try:
        with safe_open(str(weights), framework="pt") as f:
            return {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    except Exception as e:  # safetensors raises its own error types for corrupt headers
        raise CheckpointError(f"{weights} is not a readable safetensors file: {e}") from e


def check_fits(model: nn.Module, weights: str | os.PathLike) -> None:
    """Raise a readable CheckpointError unless the file holds exactly ``model``'s tensors, shapes included
    (``model`` may live on the meta device)."""
    shapes = safetensors_shapes(weights)
    own = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    missing = sorted(set(own) - set(shapes))
    unexpected = sorted(set(shapes) - set(own))
    wrong = [f"{k}: file {shapes[k]} vs config {v}" for k, v in own.items() if k in shapes and shapes[k] != v]
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"missing tensors {missing[:5]}{'...' if len(missing) > 5 else ''}")
        if unexpected:
            parts.append(f"unexpected tensors {unexpected[:5]}{'...' if len(unexpected) > 5 else ''}")
        if wrong:
            parts.append(f"shape mismatches {wrong[:5]}{'...' if len(wrong) > 5 else ''}")
        raise CheckpointError(f"{weights} does not fit its config.json: " + "; ".join(parts))


def load_safetensors_into(model: nn.Module, weights: str | os.PathLike, map_location: str = "cpu") -> None:
    """Load a safetensors file into ``model`` strictly, with readable errors for any mismatch."""
    check_fits(model, weights)
    try:
        state = load_file(str(weights), device=map_location)
    except Exception as e:  # corrupt data after a valid header
        raise CheckpointError(f"{weights} is not a readable safetensors file: {e}") from e
    model.load_state_dict(state, strict=True)


def load_folder_config(folder: str | os.PathLike, config_cls: Any, kind: str, command: str) -> Any:
    """The config of a ``config.json`` + ``model.safetensors`` folder (a judge's, say), parsed by
    ``config_cls.from_dict``; a CheckpointError naming ``kind`` and the ``command`` that makes one if
    the folder is incomplete or its config invalid."""
    folder = Path(folder)
    if not (folder / CONFIG_NAME).is_file() or not (folder / WEIGHTS_NAME).is_file():
        raise CheckpointError(f"{folder} is not a {kind} folder ({CONFIG_NAME} + {WEIGHTS_NAME}); "
                              f"train one with {command}")
    try:
        return config_cls.from_dict(json.loads((folder / CONFIG_NAME).read_text()))
    except (ValueError, TypeError) as e:
        raise CheckpointError(f"invalid {kind} config in {folder}: {e}") from e
