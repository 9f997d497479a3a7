"""The update order of IFcVAE-GAN training, in one place: one step method per network, then save and
resume. ``training/train.py``, the ablation and the speed benchmark all train through :class:`Trainer`.

One training step, on a batch of real images ``x`` and their labels ``y``:

1. encoder + decoder (:meth:`Trainer.encoder_decoder_step`): every loss term whose weight is on;
2. auxiliary net (:meth:`Trainer.aux_step`): read the attributes from the detached z (``aux`` on;
   ``aux_steps`` updates on the same z);
3. attribute critic (:meth:`Trainer.critic_step`): read the attributes of augmented real images
   (``edit_cls`` on); then the local critic (:meth:`Trainer.local_critic_step`): the same from the
   regions of ``model.losses.LOCAL_REGIONS`` alone (``edit_local`` on);
4. discriminator (:meth:`Trainer.discriminator_step`): real images against every decoded image of
   step 1 (``gan`` on);
5. the running average of the encoder and decoder weights (``ema_decay`` > 0), which is what
   :meth:`Trainer.averaged` swaps in (with batch-norm statistics recomputed for it) for saving and
   validation.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any, ContextManager

import torch
import torch.distributed as dist

from model import IFcVAEGAN
from model.losses import (aux_floor, aux_loss, batch_norms, critic_loss, discriminator_loss,
                          encoder_decoder_losses, local_critic_loss, reparameterize)
from training.augment import augment_for_critic

#: The decoded images the discriminator learns to reject, each with the attributes it was rendered with.
DECODED = (("x_rec", "y_rec"), ("x_prior", "y_prior"), ("x_edit", "y_edit"), ("x_flip", "y_edit"))


class Trainer:
    """Optimisers and update steps of one model (RMSprop for every network, as in the paper; the
    critic, which only learns from real images, may have a learning rate of its own).

    Under ``torch.distributed`` (``world`` > 1) each update averages its gradients over the ranks.
    ``aux_steps``: updates of the auxiliary net per step (a stronger adversary); ``ema_decay``: keep
    an exponential moving average of the encoder's and decoder's weights (0: none).
    """

    def __init__(self, model: IFcVAEGAN, lr: float, bf16: bool = False, world: int = 1,
                 critic_lr: float | None = None, aux_steps: int = 1, ema_decay: float = 0.0) -> None:
        self.model = model
        self.weights = model.config.loss_weights
        self.world = world
        self.bf16 = bf16
        self.aux_steps = aux_steps
        self.ema_decay = ema_decay
        self.optimizers = {
            "eg": torch.optim.RMSprop([p for _, p in self._generator_params()], lr=lr),
            "aux": torch.optim.RMSprop(model.aux.parameters(), lr=lr),
            "disc": torch.optim.RMSprop(model.discriminator.parameters(), lr=lr),
        }
        if model.critic is not None:
            self.optimizers["critic"] = torch.optim.RMSprop(model.critic.parameters(), lr=critic_lr or lr)
        if model.local_critic is not None:
            self.optimizers["local_critic"] = torch.optim.RMSprop(model.local_critic.parameters(), lr=critic_lr or lr)
        self.base_lrs = {k: [g["lr"] for g in opt.param_groups] for k, opt in self.optimizers.items()}
        if world > 1:  # every rank starts from rank 0's weights
            for t in model.state_dict().values():
                dist.broadcast(t, 0)
        self.ema = {name: p.detach().clone() for name, p in self._generator_params()} if ema_decay else {}

    def _generator_params(self) -> Iterator[tuple[str, torch.nn.Parameter]]:
        """The encoder's, decoder's and mask head's parameters (what an edit runs), by state-dict name."""
        for prefix in ("encoder", "decoder", "mask_net"):
            for name, p in getattr(self.model, prefix).named_parameters() if getattr(self.model, prefix) else ():
                yield f"{prefix}.{name}", p

    def scale_lr(self, factor: float) -> None:
        """Set every optimiser's learning rate to ``factor`` times its initial one (a decay schedule)."""
        for k, opt in self.optimizers.items():
            for group, base in zip(opt.param_groups, self.base_lrs[k]):
                group["lr"] = base * factor

    @contextmanager
    def averaged(self, calibration: torch.Tensor | None = None, batch_size: int = 256) -> Iterator[None]:
        """The model with the averaged encoder and decoder weights swapped in (no-op without EMA).

        Batch-norm running statistics belong to the weights that produced them, so with
        ``calibration`` (real images, model input) the encoder's and decoder's statistics are
        recomputed for the averaged weights from those images, as training computes them (the
        encoder on the images, the decoder on sampled z and the head's attributes). Live weights and
        statistics come back afterwards.
        """
        if not self.ema:
            yield
            return
        nets = (self.model.encoder, self.model.decoder)
        live = {name: p.detach().clone() for name, p in self._generator_params()}
        buffers = [{k: v.clone() for k, v in net.named_buffers()} for net in nets]
        modes = [net.training for net in nets]
        with torch.no_grad():
            for name, p in self._generator_params():
                p.copy_(self.ema[name])
            if calibration is not None:
                self._recalibrate_batch_norm(calibration, batch_size)
        try:
            yield
        finally:
            with torch.no_grad():
                for name, p in self._generator_params():
                    p.copy_(live[name])
                for net, saved, mode in zip(nets, buffers, modes):
                    for k, v in net.named_buffers():
                        v.copy_(saved[k])
                    net.train(mode)

    def _recalibrate_batch_norm(self, images: torch.Tensor, batch_size: int) -> None:
        """Running statistics of the encoder's and decoder's batch norms = the plain average over
        ``images`` of the batch statistics, with the current weights."""
        norms = batch_norms(self.model.encoder) + batch_norms(self.model.decoder)
        momenta = [m.momentum for m in norms]
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # cumulative average
        self.model.encoder.train()
        self.model.decoder.train()
        for chunk in images.split(batch_size):
            mu, logvar, y_logits = self.model.encoder(chunk)
            self.model.decoder(reparameterize(mu, logvar), torch.sigmoid(y_logits))
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum

    def autocast(self, device: torch.device) -> ContextManager[Any]:
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16) if self.bf16 else nullcontext()

    def step(self, x: torch.Tensor, y: torch.Tensor, critic_only: bool = False,
             scales: dict[str, float] | None = None) -> dict[str, torch.Tensor]:
        """One training step (the update order above). Returns detached losses for logging: the
        unweighted terms, ``total``, and each adversary's own loss. ``critic_only`` trains just the
        critic (its warm-up before the edit terms can trust it); ``scales``: schedule factors of
        loss terms (:func:`model.losses.encoder_decoder_losses`)."""
        if critic_only:
            return {"critic": self.critic_step(x, y),
                    **({"local_critic": self.local_critic_step(x, y)} if self.model.local_critic is not None else {})}
        logs, outs = self.encoder_decoder_step(x, y, scales)
        if self.weights["aux"]:
            for _ in range(self.aux_steps):
                logs["aux_net"] = self.aux_step(outs["z"], y)
            logs["aux_floor"] = aux_floor(y, self.model.config.aux_objective)
        if self.model.critic is not None:
            logs["critic"] = self.critic_step(x, y)
        if self.model.local_critic is not None:
            logs["local_critic"] = self.local_critic_step(x, y)
        if self.weights["gan"]:
            logs["disc"] = self.discriminator_step(x, y, [(outs[k], outs[c]) for k, c in DECODED if k in outs])
        if self.ema:
            with torch.no_grad():
                for name, p in self._generator_params():
                    self.ema[name].lerp_(p.detach(), 1.0 - self.ema_decay)
        return logs

    def encoder_decoder_step(self, x: torch.Tensor, y: torch.Tensor, scales: dict[str, float] | None = None
                             ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """Update E, G (and M) on every loss term that is on; returns (logs, outputs for the adversaries)."""
        with self.autocast(x.device):
            total, terms, outs = encoder_decoder_losses(self.model, x, y, scales)
        self._update("eg", total)
        return {"total": total.detach(), **{k: v.detach() for k, v in terms.items()}}, outs

    def reset_aux(self) -> None:
        """Start the auxiliary net afresh (new weights, empty optimiser state): a new adversary that
        must find again whatever z still tells about the attributes, which the encoder then removes."""
        for layer in self.model.aux.modules():
            if isinstance(layer, torch.nn.Linear):
                layer.reset_parameters()
        if self.world > 1:
            for t in self.model.aux.state_dict().values():
                dist.broadcast(t, 0)
        self.optimizers["aux"].state.clear()

    def aux_step(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Update the auxiliary net: predict the attributes from the (detached) identity code."""
        with self.autocast(z.device):
            loss = aux_loss(self.model, z, y)
        return self._update("aux", loss)

    def critic_step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Update the attribute critic on augmented real images (never on decoded ones)."""
        with self.autocast(x.device):
            loss = critic_loss(self.model, augment_for_critic(x), y)
        return self._update("critic", loss)

    def local_critic_step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Update the local critic on the regions of augmented real images (never decoded ones)."""
        with self.autocast(x.device):
            loss = local_critic_loss(self.model, augment_for_critic(x), y)
        return self._update("local_critic", loss)

    def discriminator_step(self, x: torch.Tensor, y: torch.Tensor,
                           fakes: list[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
        """Update the discriminator: real images against the decoded ones (each with its attributes)."""
        with self.autocast(x.device):
            loss = discriminator_loss(self.model, x, y, fakes)
        return self._update("disc", loss)

    def _update(self, name: str, loss: torch.Tensor) -> torch.Tensor:
        opt = self.optimizers[name]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if self.world > 1:
            for group in opt.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        dist.all_reduce(p.grad)
                        p.grad /= self.world
        opt.step()
        return loss.detach()

    # -- save / resume ------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Model, optimiser and average states (for ``state.pt``)."""
        return {"model": self.model.state_dict(), "ema": self.ema,
                **{f"opt_{k}": opt.state_dict() for k, opt in self.optimizers.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        for k, opt in self.optimizers.items():
            opt.load_state_dict(state[f"opt_{k}"])
        if self.ema:
            for name, t in state["ema"].items():
                self.ema[name].copy_(t)
