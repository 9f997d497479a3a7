"""The update order of IFcVAE-GAN training, in one place: one step method per network, then save and
resume. ``training/train.py``, the ablation and the speed benchmark all train through :class:`Trainer`.

One training step, on a batch of real images ``x`` and their labels ``y``:

1. encoder + decoder (:meth:`Trainer.encoder_decoder_step`): every loss term whose weight is on;
2. auxiliary net (:meth:`Trainer.aux_step`): read the attributes from the detached z (``aux`` on);
3. attribute critic (:meth:`Trainer.critic_step`): read the attributes of augmented real images
   (``edit_cls`` on);
4. discriminator (:meth:`Trainer.discriminator_step`): real images against every decoded image of
   step 1 (``gan`` on).
"""
from __future__ import annotations

from contextlib import nullcontext
from typing import Any, ContextManager

import torch
import torch.distributed as dist

from model import IFcVAEGAN
from model.losses import aux_floor, aux_loss, critic_loss, discriminator_loss, encoder_decoder_losses
from training.augment import augment_for_critic

DECODED = ("x_rec", "x_prior", "x_edit")  # the decoded images the discriminator learns to reject


class Trainer:
    """Optimisers and update steps of one model (RMSprop for every network, as in the paper; the
    critic, which only learns from real images, may have a learning rate of its own).

    Under ``torch.distributed`` (``world`` > 1) each update averages its gradients over the ranks.
    """

    def __init__(self, model: IFcVAEGAN, lr: float, bf16: bool = False, world: int = 1,
                 critic_lr: float | None = None) -> None:
        self.model = model
        self.weights = model.config.loss_weights
        self.world = world
        self.bf16 = bf16
        self.optimizers = {
            "eg": torch.optim.RMSprop([*model.encoder.parameters(), *model.decoder.parameters()], lr=lr),
            "aux": torch.optim.RMSprop(model.aux.parameters(), lr=lr),
            "disc": torch.optim.RMSprop(model.discriminator.parameters(), lr=lr),
        }
        if model.critic is not None:
            self.optimizers["critic"] = torch.optim.RMSprop(model.critic.parameters(), lr=critic_lr or lr)
        if world > 1:  # every rank starts from rank 0's weights
            for t in model.state_dict().values():
                dist.broadcast(t, 0)

    def autocast(self, device: torch.device) -> ContextManager[Any]:
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16) if self.bf16 else nullcontext()

    def step(self, x: torch.Tensor, y: torch.Tensor, critic_only: bool = False) -> dict[str, torch.Tensor]:
        """One training step (the update order above). Returns detached losses for logging: the
        unweighted terms, ``total``, and each adversary's own loss. ``critic_only`` trains just the
        critic (its warm-up before the edit terms can trust it)."""
        if critic_only:
            return {"critic": self.critic_step(x, y)}
        logs, outs = self.encoder_decoder_step(x, y)
        if self.weights["aux"]:
            logs["aux_net"] = self.aux_step(outs["z"], y)
            logs["aux_floor"] = aux_floor(y)
        if self.model.critic is not None:
            logs["critic"] = self.critic_step(x, y)
        if self.weights["gan"]:
            logs["disc"] = self.discriminator_step(x, [outs[k] for k in DECODED if k in outs])
        return logs

    def encoder_decoder_step(self, x: torch.Tensor, y: torch.Tensor
                             ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """Update E and G on every loss term that is on; returns (logs, outputs for the adversaries)."""
        with self.autocast(x.device):
            total, terms, outs = encoder_decoder_losses(self.model, x, y)
        self._update("eg", total)
        return {"total": total.detach(), **{k: v.detach() for k, v in terms.items()}}, outs

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

    def discriminator_step(self, x: torch.Tensor, fakes: list[torch.Tensor]) -> torch.Tensor:
        """Update the discriminator: real images against the decoded ones."""
        with self.autocast(x.device):
            loss = discriminator_loss(self.model, x, fakes)
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
        """Model and optimiser states (for ``state.pt``)."""
        return {"model": self.model.state_dict(),
                **{f"opt_{k}": opt.state_dict() for k, opt in self.optimizers.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        for k, opt in self.optimizers.items():
            opt.load_state_dict(state[f"opt_{k}"])
