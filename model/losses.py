"""Loss terms of the IFcVAE-GAN. Every term is switched by its weight in ``config.loss_weights``.

A weight of 0 removes the term entirely (it is not computed, and the network it needs is not run),
which is how the paper's ablation is reproduced.
"""
from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import torch
from torch import nn
import torch.nn.functional as F

from .ifcvae import IFcVAEGAN
from .paste import ellipse_mask

#: Where on the aligned crop ``edit_local``'s critic looks for each attribute, as a (centre, semi-axes)
#: ellipse in fractions of the side, 1 inside :data:`LOCAL_CORE` of its radius and feathered to 0 at
#: it: the mouth with its corners (inside the paste's smile region, which also holds the cheeks that a
#: smile lifts, where judges read a smile that a person misses).
LOCAL_REGIONS: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "Smiling": ((0.50, 0.80), (0.22, 0.12)),
}
LOCAL_CORE: float = 0.75


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """z = mu + sigma * eps."""
    return mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)


def batch_norms(module: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    """The batch-norm layers of ``module``."""
    return [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


@contextmanager
def frozen_batch_stats(module: nn.Module) -> Iterator[None]:
    """Batch norm layers of ``module`` still normalise with the batch's statistics but leave their
    running statistics alone: for passes on inputs that inference never sees (reconstructions
    through the encoder, prior samples through the decoder), whose statistics would otherwise leak
    into the running averages used at inference and shift every reconstruction's colours."""
    norms = batch_norms(module)
    saved = [m.momentum for m in norms]
    for m in norms:
        m.momentum = 0.0
    try:
        yield
    finally:
        for m, momentum in zip(norms, saved):
            m.momentum = momentum


def encoder_decoder_losses(model: IFcVAEGAN, x: torch.Tensor, y: torch.Tensor,
                           scales: Mapping[str, float] | None = None
                           ) -> tuple[torch.Tensor, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Losses of the encoder and decoder for a batch (x in [0, 1], y in {0, 1}); ``scales``
    multiplies terms by a schedule's factor (``mask``: the mask term's warm-up).

    Returns (weighted total, unweighted terms, outputs). The outputs are the sampled ``z`` and the
    decoded images with the attribute values each was rendered with, for the discriminator:
    ``x_rec``/``y_rec``, ``x_prior``/``y_prior`` when the GAN term is on, ``x_edit``/``y_edit`` when
    an edit term is on (for a masked editor the composite, and ``x_flip`` the decoded flip). Per image: ``rec`` is the BCE summed over pixels, ``kl`` the KL summed over z
    dimensions; the other terms are means.
    """
    w = model.config.loss_weights
    scales = scales or {}
    mu, logvar, y_logits = model.encoder(x)
    z = reparameterize(mu, logvar)
    # The decoder renders the encoder's own y_hat (as in the paper), as a condition: the attribute
    # head learns only from the classification terms, not from what helps the reconstruction.
    y_hat = torch.sigmoid(y_logits).detach()
    x_rec = model.decoder(z, y_hat)
    terms: dict[str, torch.Tensor] = {}
    outputs = {"z": z, "x_rec": x_rec, "y_rec": y_hat}
    if w["rec"]:
        # in float32 outside autocast: CUDA's autocast refuses binary_cross_entropy on probabilities
        with torch.autocast(x.device.type, enabled=False):
            terms["rec"] = F.binary_cross_entropy(x_rec.float(), x.float(), reduction="sum") / len(x)
    if w["kl"]:
        terms["kl"] = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / len(x)
    if w["cls"]:
        terms["cls"] = F.binary_cross_entropy_with_logits(y_logits.float(), y)
    if w["cls_rec"]:
        with frozen_batch_stats(model.encoder):
            y_rec_logits = model.encoder(x_rec)[2]
        terms["cls_rec"] = F.binary_cross_entropy_with_logits(y_rec_logits.float(), y)
    if w["aux"]:
        terms["aux"] = adversarial_aux_term(model.aux(z).float(), y, model.config.aux_objective)
    if w["z_gap"]:
        terms["z_gap"] = attribute_gap(mu.float(), y)
    if w["gan"]:
        with frozen_batch_stats(model.decoder):
            x_prior = outputs["x_prior"] = model.decoder(torch.randn_like(z), y)
        outputs["y_prior"] = y
        logits = model.discriminator(torch.cat([x_rec, x_prior]), torch.cat([y_hat, y]))
        terms["gan"] = F.binary_cross_entropy_with_logits(logits.float(), torch.ones_like(logits.float()))
    if w["rec_feat"]:
        terms["rec_feat"] = feature_distance(model, x, x_rec)
    if w["edit_cls"] or w["edit_gan"] or w["edit_change"] or w["edit_local"] or w["mask"]:
        x_edit, y_edit, y_drawn = flipped_edit(model, z, y_hat, y)
        # a masked editor's edit terms judge both the decoded flip (so that the decoder learns to
        # draw the attribute) and the composite (so that the mask opens where the drawing is needed)
        judged = [x_edit]
        if model.mask_net is not None:
            outputs["x_flip"] = x_edit
            x_edit, mask = masked_composite(model, x, x_rec, x_edit, y_drawn, y_hat)
            judged.append(x_edit)
            if w["mask"]:
                terms["mask"] = mask_cost(mask) * scales.get("mask", 1.0)
        outputs["x_edit"], outputs["y_edit"] = x_edit, y_drawn
        if w["edit_cls"]:
            with frozen(model.critic):
                critic_logits = model.critic(torch.cat(judged))
            terms["edit_cls"] = F.binary_cross_entropy_with_logits(critic_logits.float(), y_edit.repeat(len(judged), 1))
        if w["edit_gan"]:
            logits = model.discriminator(torch.cat(judged), y_drawn.repeat(len(judged), 1)).float()
            terms["edit_gan"] = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
        if w["edit_change"]:
            # the reconstruction is the fixed target: the edit moves toward it, never it toward the edit
            terms["edit_change"] = (x_edit.float() - x_rec.detach().float()).abs().mean()
        if w["edit_local"]:
            terms["edit_local"] = local_edit_term(model, x_edit, y_edit, y_edit != y)
    total = sum(w[k] * v for k, v in terms.items())
    return total, terms, outputs


def local_view(x: torch.Tensor, attribute: str) -> torch.Tensor:
    """``x`` (``N x 3 x S x S`` in [0, 1]) inside ``attribute``'s :data:`LOCAL_REGIONS` ellipse,
    feathered into mid-grey outside it: all that the local critic sees."""
    centre, axes = LOCAL_REGIONS[attribute]
    mask = torch.from_numpy(ellipse_mask(x.shape[-1], centre, axes, LOCAL_CORE).copy()).to(x)
    return x * mask + 0.5 * (1 - mask)


def local_attributes(model: IFcVAEGAN) -> list[tuple[int, str]]:
    """(column, name) of the model's attributes that have a :data:`LOCAL_REGIONS` entry."""
    return [(j, a) for j, a in enumerate(model.attributes) if a in LOCAL_REGIONS]


def local_critic_loss(model: IFcVAEGAN, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The local critic's own loss: read each local attribute of real images from its region alone."""
    losses = [F.binary_cross_entropy_with_logits(model.local_critic(local_view(x, a))[:, j].float(), y[:, j])
              for j, a in local_attributes(model)]
    return torch.stack(losses).mean() if losses else x.sum() * 0.0


def local_edit_term(model: IFcVAEGAN, x_edit: torch.Tensor, y_edit: torch.Tensor, flipped: torch.Tensor
                    ) -> torch.Tensor:
    """The frozen local critic's BCE on each local attribute of the faces where it was flipped,
    reading the rendering's region alone (:func:`local_view`). Mean over those attributes; 0 (with a
    graph) where no face of the batch had one flipped."""
    losses = []
    for j, name in local_attributes(model):
        rows = flipped[:, j]
        if not rows.any():
            continue
        with frozen(model.local_critic):
            logits = model.local_critic(local_view(x_edit[rows], name))[:, j]
        losses.append(F.binary_cross_entropy_with_logits(logits.float(), y_edit[rows, j]))
    return torch.stack(losses).mean() if losses else x_edit.sum() * 0.0


def attribute_gap(mu: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean over attributes of the squared distance between the mean ``mu`` (``N x D``) of the faces
    with the attribute and of those without it (``y`` ``N x A`` in {0, 1}), each dimension divided
    by its (detached) standard deviation over the batch and summed over dimensions.

    Unbiased: the sampling variance of the two means (each group's variance over its size) is
    subtracted, so a batch whose groups come from one distribution scores 0 in expectation, and its
    gradient does not simply shrink the groups. Attributes with fewer than two faces on either side
    of the batch are left out.
    """
    x = mu / mu.detach().std(0).clamp_min(1e-6)
    gaps = []
    for j in range(y.shape[1]):
        pos = y[:, j] > 0.5
        a, b = x[pos], x[~pos]
        if len(a) < 2 or len(b) < 2:
            continue
        noise = a.var(0) / len(a) + b.var(0) / len(b)
        gaps.append(((a.mean(0) - b.mean(0)).pow(2) - noise).sum())
    return torch.stack(gaps).mean() if gaps else x.sum() * 0.0


def flipped_edit(model: IFcVAEGAN, z: torch.Tensor, y_hat: torch.Tensor, y: torch.Tensor
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The edit the app asks for, at training time: each attribute flipped with ``flip_prob``.

    Flipped attributes are set to the opposite of the label, the others keep the encoder's reading
    ``y_hat`` (as an edit keeps them). Returns the decoded images, the attribute values they should
    show (the flipped labels) and the values they were rendered with. Batch norm statistics are left
    alone, as for prior samples.
    """
    flip = torch.rand_like(y) < model.config.flip_prob
    y_edit = torch.where(flip, 1.0 - y, y)
    y_drawn = torch.where(flip, 1.0 - y, y_hat)
    with frozen_batch_stats(model.decoder):
        x_edit = model.decoder(z, y_drawn)
    return x_edit, y_edit, y_drawn


def masked_composite(model: IFcVAEGAN, x: torch.Tensor, x_rec: torch.Tensor, x_flip: torch.Tensor,
                     y_drawn: torch.Tensor, y_hat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A masked editor's training edit: the mask head reads the input, the (detached) decodings
    and the attribute change; the edit is the decoded flip where the mask is on and the input where
    it is off. Returns (composite, mask)."""
    mask = model.mask_net(x, x_rec.detach(), x_flip.detach(), y_drawn, y_hat)
    return mask * x_flip + (1 - mask) * x, mask


def mask_cost(mask: torch.Tensor) -> torch.Tensor:
    """The ``mask`` term: the mask's mean plus its total variation (mean absolute step between
    neighbouring pixels), so that an edit opens as little of the image as it needs, in one piece."""
    m = mask.float()
    tv = (m[..., 1:, :] - m[..., :-1, :]).abs().mean() + (m[..., :, 1:] - m[..., :, :-1]).abs().mean()
    return m.mean() + tv


@contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """``module`` in eval mode with no parameter gradients: a fixed judge that gradients pass through."""
    was_training = module.training
    params = [p for p in module.parameters() if p.requires_grad]
    module.eval()
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)
        module.train(was_training)


def feature_distance(model: IFcVAEGAN, x: torch.Tensor, x_rec: torch.Tensor) -> torch.Tensor:
    """Mean squared distance between the discriminator's block features of ``x`` (fixed targets) and
    of ``x_rec``, summed over blocks. One pass over both, so that batch norm treats them alike."""
    with frozen_batch_stats(model.discriminator):
        feats = model.discriminator.features(torch.cat([x, x_rec]))
    return sum(F.mse_loss(f[len(x):].float(), f[: len(x)].detach().float()) for f in feats)


def adversarial_aux_term(aux_logits: torch.Tensor, y: torch.Tensor, objective: str) -> torch.Tensor:
    """The encoder's term against the auxiliary net, which reads the attributes from z.

    ``negated_bce`` (the paper's): minus the auxiliary net's BCE. It has no floor, so the encoder can
    also win by making the auxiliary net confidently wrong, i.e. by keeping the attributes in z.
    ``confusion``: the KL divergence from the batch's attribute frequencies to the auxiliary net's
    predictions (mean over attributes); 0 when z tells the auxiliary net nothing beyond the frequencies.
    ``balanced``: the KL divergence from 1/2 to its predictions, the answer of a class-balanced
    auxiliary net (:func:`aux_loss`) that z tells nothing.
    """
    if objective == "negated_bce":
        return -F.binary_cross_entropy_with_logits(aux_logits, y)
    if objective == "balanced":
        target = torch.full_like(aux_logits, 0.5)
    else:
        target = y.mean(0, keepdim=True).expand_as(aux_logits)
    return F.binary_cross_entropy_with_logits(aux_logits, target) - aux_floor(y, objective)


def class_balance(y: torch.Tensor) -> torch.Tensor:
    """Per-element weights that give each attribute's positives and negatives in the batch half of
    its weight each (mean weight 1); a class the batch lacks weighs as if it had one member."""
    freq = y.mean(0, keepdim=True).clamp(1 / len(y), 1 - 1 / len(y))
    return torch.where(y > 0.5, 0.5 / freq, 0.5 / (1 - freq))


def aux_floor(y: torch.Tensor, objective: str = "confusion") -> torch.Tensor:
    """The auxiliary net's loss when z tells it nothing (mean over attributes): the entropy of the
    batch's attribute frequencies, or ln 2 for the class-balanced net. Its loss well below this
    means z carries attributes."""
    if objective == "balanced":
        return torch.tensor(math.log(2.0), device=y.device)
    freq = y.mean(0)
    return -(torch.special.xlogy(freq, freq) + torch.special.xlogy(1 - freq, 1 - freq)).mean()


def aux_loss(model: IFcVAEGAN, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The auxiliary net's own loss: predict the true attributes from the (detached) identity code
    (class-balanced BCE under the ``balanced`` objective)."""
    weight = class_balance(y) if model.config.aux_objective == "balanced" else None
    return F.binary_cross_entropy_with_logits(model.aux(z.detach()).float(), y, weight=weight)


def critic_loss(model: IFcVAEGAN, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The attribute critic's own loss: read the true attributes of real images."""
    return F.binary_cross_entropy_with_logits(model.critic(x).float(), y)


def discriminator_loss(model: IFcVAEGAN, x: torch.Tensor, y: torch.Tensor,
                       fakes: Sequence[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
    """Real images (with their labels) vs decoded ones (reconstructions, prior samples, flipped edits,
    each with the attribute values it was rendered with; detached here). Only a conditional D reads
    the attributes."""
    real = model.discriminator(x, y).float()
    fake = model.discriminator(torch.cat([f.detach() for f, _ in fakes]),
                               torch.cat([c.detach() for _, c in fakes])).float()
    return (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
            + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
