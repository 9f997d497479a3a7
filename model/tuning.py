"""Per-face decoder tuning ("pivotal tuning"): fit a copy of the decoder to one face before editing.

The shared decoder draws a blurry likeness of a face. Fitting a private copy of the decoder to the
face's own identity code and attribute reading for a few dozen steps makes it draw that face more
sharply, and a second term keeps the copy drawing the attributes: a frozen attribute reader must
still read each single-attribute flip as flipped. That reader is the model's attribute critic when
the checkpoint has one (it learned from real images only, so a smudge that merely satisfies a CNN
trained on the decoder's own output does not pass), else the encoder's head. Edits then come from
the tuned copy (the measurements: ``results/tuning/README.md`` in the repository's history at commit
4df0332).
The shared model is never changed, so concurrent requests do not disturb each other.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch.func import functional_call

from .ifcvae import IFcVAEGAN
from .networks import Decoder

#: Adam steps (the app's and the CLI's default), learning rate and weight of the attribute term
#: (chosen in ``results/tuning`` at commit 4df0332).
DEFAULT_TUNE_STEPS = 80
TUNE_LR = 3e-4
TUNE_CLS_WEIGHT = 1000.0


def single_flips(probs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For one face's ``1 x A`` attribute probabilities: ``A x A`` attribute inputs, row j with
    attribute j set against the encoder's reading (0 if it reads > 0.5, else 1), and those targets."""
    n = probs.shape[1]
    targets = (probs[0] <= 0.5).to(probs.dtype)
    flips = probs.repeat(n, 1)
    flips[torch.arange(n), torch.arange(n)] = targets
    return flips, targets


def attribute_reader(model: IFcVAEGAN) -> Callable[[torch.Tensor], torch.Tensor]:
    """images -> attribute logits, with the weights frozen (gradients reach only the images): the
    model's attribute critic if it has one, else the encoder's head."""
    net = model.critic if model.critic is not None else model.encoder
    weights = {k: v.detach() for k, v in net.named_parameters()}  # no grads into the shared model
    if model.critic is not None:
        return lambda images: functional_call(net, weights, (images,))
    return lambda images: functional_call(net, weights, (images,))[2]


def tune_decoder(model: IFcVAEGAN, image: torch.Tensor, mu: torch.Tensor, probs: torch.Tensor,
                 tune_steps: int = DEFAULT_TUNE_STEPS, lr: float = TUNE_LR,
                 cls_weight: float = TUNE_CLS_WEIGHT) -> Decoder:
    """A copy of ``model.decoder`` fitted to one face: ``image`` ``1 x 3 x S x S`` in [0, 1], its
    identity code ``mu`` (``1 x z_dim``) and attribute probabilities ``probs`` (``1 x A``).

    Each of the ``tune_steps`` Adam steps: the BCE of the face's reconstruction (summed over pixels,
    as in training) plus ``cls_weight`` times the :func:`attribute_reader`'s BCE on the decoded
    single-attribute flips. Batch norm stays in inference mode. Returns the copy in eval mode, without gradients.
    """
    if tune_steps < 0:
        raise ValueError(f"tune_steps must be >= 0, not {tune_steps}")
    if model.encoder.training:  # batch norm would write the flips' statistics into the shared model
        raise ValueError("tune_decoder needs the model in eval mode")
    decoder = copy.deepcopy(model.decoder).eval()
    # inference-mode tensors (from a pipeline) cannot enter autograd: use plain copies
    image, mu, probs = image.clone(), mu.clone(), probs.clone()
    flips, targets = single_flips(probs)
    read = attribute_reader(model)
    opt = torch.optim.Adam(decoder.parameters(), lr=lr)
    with torch.enable_grad():
        for _ in range(tune_steps):
            loss = F.binary_cross_entropy(decoder(mu, probs), image, reduction="sum")
            if cls_weight:
                logits = read(decoder(mu.expand(len(flips), -1), flips))
                loss = loss + cls_weight * F.binary_cross_entropy_with_logits(logits.diagonal(), targets)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return decoder.requires_grad_(False)


def tune_decoders(model: IFcVAEGAN, images: torch.Tensor, mu: torch.Tensor, probs: torch.Tensor,
                  tune_steps: int, before_each: Callable[[], None] | None = None) -> list[Decoder]:
    """:func:`tune_decoder` for each of ``N`` faces (``images`` ``N x 3 x S x S`` in [0, 1]);
    ``before_each`` runs before each face (e.g. a deadline check)."""
    decoders = []
    for i in range(len(images)):
        if before_each is not None:
            before_each()
        decoders.append(tune_decoder(model, images[i:i + 1], mu[i:i + 1], probs[i:i + 1], tune_steps))
    return decoders


def decode_each(decoders: Sequence[Decoder], mu: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Row i of ``mu`` and ``y`` decoded by ``decoders[i]``: ``N x 3 x S x S``."""
    return torch.cat([d(mu[i:i + 1], y[i:i + 1]) for i, d in enumerate(decoders)])
