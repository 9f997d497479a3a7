"""The one update order: each network is updated by its own step, and only when its term is on."""
import math

import pytest
import torch

from model import IFcVAEGAN, ModelConfig
from training.trainer import Trainer
from training.validation import validate

SMALL = dict(widths=(8, 16, 16, 32), z_dim=12, aux_hidden=32)


def batch(n: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return torch.rand(n, 3, 64, 64, generator=g), (torch.rand(n, 6, generator=g) > 0.5).float()


def snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in module.state_dict().items()}


def changed(before: dict[str, torch.Tensor], module: torch.nn.Module) -> bool:
    return any(not torch.equal(before[k], v) for k, v in module.state_dict().items())


def test_a_step_updates_every_network_whose_term_is_on() -> None:
    torch.manual_seed(0)
    model = IFcVAEGAN(ModelConfig(loss_weights={"edit_cls": 1000.0, "edit_gan": 20.0}, **SMALL)).train()
    trainer = Trainer(model, lr=1e-3)
    nets = {n: snapshot(getattr(model, n)) for n in ("encoder", "decoder", "aux", "discriminator", "critic")}
    logs = trainer.step(*batch())
    assert {"total", "rec", "edit_cls", "edit_gan", "aux_net", "aux_floor", "critic", "disc"} <= set(logs)
    assert all(changed(nets[n], getattr(model, n)) for n in nets)


def test_switched_off_adversaries_are_not_updated() -> None:
    torch.manual_seed(0)
    model = IFcVAEGAN(ModelConfig(loss_weights={"aux": 0.0, "gan": 0.0}, **SMALL)).train()
    trainer = Trainer(model, lr=1e-3)
    aux, disc = snapshot(model.aux), snapshot(model.discriminator)
    logs = trainer.step(*batch())
    assert "aux_net" not in logs and "disc" not in logs and "critic" not in logs
    assert not changed(aux, model.aux) and not changed(disc, model.discriminator)


def test_critic_warm_up_trains_the_critic_alone() -> None:
    torch.manual_seed(0)
    model = IFcVAEGAN(ModelConfig(loss_weights={"edit_cls": 1000.0}, **SMALL)).train()
    trainer = Trainer(model, lr=1e-3)
    enc, critic = snapshot(model.encoder), snapshot(model.critic)
    assert set(trainer.step(*batch(), critic_only=True)) == {"critic"}
    assert changed(critic, model.critic) and not changed(enc, model.encoder)


def test_the_local_critic_learns_in_its_own_step_and_in_the_warm_up() -> None:
    torch.manual_seed(0)
    model = IFcVAEGAN(ModelConfig(loss_weights={"edit_cls": 1000.0, "edit_local": 1000.0}, **SMALL)).train()
    trainer = Trainer(model, lr=1e-3)
    local, enc = snapshot(model.local_critic), snapshot(model.encoder)
    assert set(trainer.step(*batch(), critic_only=True)) == {"critic", "local_critic"}
    assert changed(local, model.local_critic) and not changed(enc, model.encoder)
    local = snapshot(model.local_critic)
    logs = trainer.step(*batch())
    assert {"edit_local", "local_critic"} <= set(logs) and changed(local, model.local_critic)
    assert "opt_local_critic" in trainer.state_dict()
    metrics = validate(model, (torch.rand(60, 3, 64, 64) * 255).to(torch.uint8), batch(60)[1])
    assert 0.0 <= metrics["local_acc_Smiling"] <= 1.0 and 0.0 <= metrics["local_edit_Smiling"] <= 1.0
    assert "local_acc_Eyeglasses" not in metrics


def test_state_round_trip_restores_model_and_optimisers() -> None:
    torch.manual_seed(0)
    model = IFcVAEGAN(ModelConfig(loss_weights={"edit_cls": 1000.0}, **SMALL)).train()
    trainer = Trainer(model, lr=1e-3)
    trainer.step(*batch())
    state = trainer.state_dict()
    assert {"model", "opt_eg", "opt_aux", "opt_disc", "opt_critic"} <= set(state)
    other = Trainer(IFcVAEGAN(model.config).train(), lr=1e-3)
    other.load_state_dict(state)
    torch.manual_seed(5)
    a = trainer.step(*batch())["total"]
    torch.manual_seed(5)
    b = other.step(*batch())["total"]
    torch.testing.assert_close(a, b)


def test_validation_reports_the_critics_edits() -> None:
    torch.manual_seed(0)
    model = IFcVAEGAN(ModelConfig(loss_weights={"edit_cls": 1000.0}, **SMALL))
    images = (torch.rand(10, 3, 64, 64) * 255).to(torch.uint8)
    metrics = validate(model, images, (torch.rand(10, 6) > 0.5).float(), bs=4)
    for a in model.attributes:
        assert 0.0 <= metrics[f"edit_{a}"] <= 1.0
        assert math.isnan(metrics[f"probe_{a}"])  # too few faces for a z-probe
    assert 0.0 <= metrics["critic_acc_mean"] <= 1.0 and model.training


def test_validation_z_probe_reads_what_the_posterior_mean_carries(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh probe on the validation means: high for an attribute written into mu, chance for the rest."""
    torch.manual_seed(0)
    model = IFcVAEGAN(ModelConfig(**SMALL))
    n = 200
    labels = (torch.rand(n, 6) > 0.5).float()
    images = (torch.rand(n, 3, 64, 64) * 255).to(torch.uint8)
    order = iter(range(n))
    encode = model.encode

    def leaky_encode(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar, logits = encode(x)
        rows = torch.tensor([next(order) for _ in range(len(x))])
        mu = torch.randn_like(mu)
        mu[:, 0] += 4 * labels[rows, 0]  # z gives Smiling away
        return mu, logvar, logits

    monkeypatch.setattr(model, "encode", leaky_encode)
    metrics = validate(model, images, labels, bs=50)
    assert metrics["probe_Smiling"] > 0.9
    assert all(metrics[f"probe_{a}"] < 0.7 for a in model.attributes[1:])


def test_validation_measures_how_much_of_the_face_an_edit_repaints(monkeypatch: pytest.MonkeyPatch) -> None:
    """``repaint_<attr>``: 1 where flipping the attribute changes the whole face by more than the
    paste's threshold, 0 where the flip changes nothing."""
    model = IFcVAEGAN(ModelConfig(**SMALL))
    monkeypatch.setattr(model, "decode", lambda mu, y: (0.05 + 0.9 * y[:, :1, None, None]).expand(len(y), 3, 64, 64))
    images = (torch.rand(6, 3, 64, 64) * 255).to(torch.uint8)
    metrics = validate(model, images, (torch.rand(6, 6) > 0.5).float(), bs=4)
    torch.testing.assert_close(metrics["repaint_Smiling"], 1.0)  # the only attribute the fake decoder draws
    assert all(metrics[f"repaint_{a}"] == 0.0 for a in model.attributes[1:])
    torch.testing.assert_close(metrics["repaint_mean"], 1 / 6)


def test_the_critic_may_learn_at_its_own_rate() -> None:
    model = IFcVAEGAN(ModelConfig(loss_weights={"edit_cls": 1000.0}, **SMALL))
    trainer = Trainer(model, lr=5e-5, critic_lr=2e-4)
    assert trainer.optimizers["critic"].param_groups[0]["lr"] == 2e-4
    assert trainer.optimizers["eg"].param_groups[0]["lr"] == 5e-5


def test_averaged_weights_are_swapped_in_and_back_out() -> None:
    """With ``ema_decay`` the trainer keeps the average of the encoder and decoder; ``averaged()``
    shows it (for saving and validation) and restores the live weights afterwards."""
    torch.manual_seed(0)
    model = IFcVAEGAN(ModelConfig(**SMALL)).train()
    start = snapshot(model.decoder)
    trainer = Trainer(model, lr=1e-3, ema_decay=0.5)
    trainer.step(*batch())
    live = snapshot(model.decoder)
    with trainer.averaged():
        avg = snapshot(model.decoder)
    assert snapshot(model.decoder).keys() == live.keys()
    assert all(torch.equal(live[k], v) for k, v in model.decoder.state_dict().items())
    w = "net.0.weight" if "net.0.weight" in live else next(k for k in live if k.endswith("weight"))
    torch.testing.assert_close(avg[w], 0.5 * start[w] + 0.5 * live[w])
    other = Trainer(IFcVAEGAN(model.config).train(), lr=1e-3, ema_decay=0.5)
    other.load_state_dict(trainer.state_dict())
    with other.averaged():
        assert all(torch.equal(avg[k], v) for k, v in other.model.decoder.state_dict().items())


def test_averaged_weights_get_batch_norm_statistics_of_their_own() -> None:
    """With calibration images, the averaged weights' batch norms hold those images' statistics
    through the averaged weights; the live statistics come back afterwards."""
    torch.manual_seed(0)
    model = IFcVAEGAN(ModelConfig(**SMALL)).train()
    trainer = Trainer(model, lr=1e-3, ema_decay=0.5)
    for _ in range(2):
        trainer.step(*batch())
    live = snapshot(model.encoder)
    images = torch.rand(12, 3, 64, 64)
    conv, norm = model.encoder.features[1][0], model.encoder.features[1][1]
    with trainer.averaged(images, batch_size=4):  # equal batches: the average of batch means is the mean
        with torch.no_grad():
            pre = conv(model.encoder.features[0](images))
        torch.testing.assert_close(norm.running_mean, pre.mean((0, 2, 3)), rtol=1e-4, atol=1e-5)
        assert not torch.equal(norm.running_mean, live["features.1.1.running_mean"])
    assert all(torch.equal(live[k], v) for k, v in model.encoder.state_dict().items()) and model.training


def test_a_stronger_adversary_and_a_learning_rate_schedule() -> None:
    torch.manual_seed(0)
    model = IFcVAEGAN(ModelConfig(**SMALL)).train()
    one, three = Trainer(model, lr=1e-3), Trainer(IFcVAEGAN(model.config).train(), lr=1e-3, aux_steps=3)
    x, y = batch()
    calls = []
    three.aux_step = lambda z, y: calls.append(1) or torch.tensor(0.0)  # count the updates
    three.step(x, y)
    assert len(calls) == 3
    one.scale_lr(0.1)
    assert all(abs(g["lr"] - 1e-4) < 1e-12 for opt in one.optimizers.values() for g in opt.param_groups)
    one.scale_lr(1.0)
    assert one.optimizers["eg"].param_groups[0]["lr"] == 1e-3


def test_a_reset_starts_the_auxiliary_net_afresh() -> None:
    torch.manual_seed(0)
    model = IFcVAEGAN(ModelConfig(aux_objective="confusion", **SMALL)).train()
    trainer = Trainer(model, lr=1e-3)
    x, y = batch()
    for _ in range(3):
        trainer.step(x, y)
    trained, others = snapshot(model.aux), snapshot(model.encoder)
    assert trainer.optimizers["aux"].state
    trainer.reset_aux()
    assert not trainer.optimizers["aux"].state and not changed(others, model.encoder)
    fresh = model.aux.state_dict()
    assert all(not torch.equal(trained[k], fresh[k]) for k in fresh)
    # the fresh weights have the default initialisation's scale, not the trained net's
    first = model.aux.net[0].weight
    bound = 1 / first.shape[1] ** 0.5
    assert first.abs().max() <= bound and first.abs().max() > 0.9 * bound
    assert "aux_net" in trainer.step(x, y)  # and it trains on
