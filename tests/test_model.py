"""The IFcVAE-GAN module: shapes, config, save/load, editing and the switchable loss terms."""
import json
import math

import pytest
import torch
import torch.nn.functional as F

from model import CheckpointError, IFcVAEGAN, ModelConfig
from model.config import LOSS_TERMS
from model.losses import (
    LOCAL_REGIONS, attribute_gap, local_critic_loss, local_edit_term, local_view,
    adversarial_aux_term, aux_floor, aux_loss, class_balance, discriminator_loss, encoder_decoder_losses,
    feature_distance,
)

SMALL = dict(widths=(8, 16, 16, 32), z_dim=12, aux_hidden=32)


@pytest.fixture()
def model() -> IFcVAEGAN:
    torch.manual_seed(0)
    return IFcVAEGAN(ModelConfig(**SMALL)).eval()


def batch(n: int = 4, size: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return torch.rand(n, 3, size, size, generator=g), (torch.rand(n, 6, generator=g) > 0.5).float()


def test_shapes(model: IFcVAEGAN) -> None:
    x, y = batch()
    mu, logvar, logits = model.encode(x)
    assert mu.shape == logvar.shape == (4, 12)
    assert logits.shape == (4, 6)
    out = model.decode(mu, y)
    assert out.shape == x.shape
    assert out.min() >= 0 and out.max() <= 1
    assert model.aux(mu).shape == (4, 6)
    assert model.discriminator(x).shape == (4,)
    assert model.predict_proba(x).shape == (4, 6)


def test_other_image_size_and_depth() -> None:
    m = IFcVAEGAN(ModelConfig(image_size=32, widths=(8, 16, 32), z_dim=4, aux_hidden=8)).eval()
    assert m.reconstruct(torch.rand(2, 3, 32, 32)).shape == (2, 3, 32, 32)


def test_wrong_input_shape_is_a_clear_error(model: IFcVAEGAN) -> None:
    with pytest.raises(ValueError, match="B x 3 x 64 x 64"):
        model.encode(torch.rand(2, 3, 32, 32))


def test_config_round_trip() -> None:
    cfg = ModelConfig(attributes=("Smiling", "Eyeglasses"), loss_weights={"gan": 0.0}, aux_objective="confusion",
                      **SMALL)
    again = ModelConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again == cfg and again.aux_objective == "confusion"
    assert again.loss_weights["gan"] == 0.0 and again.loss_weights["rec"] == 1.0


@pytest.mark.parametrize("bad, match", [
    ({"colour": 1}, "unknown config keys"),
    ({"attributes": ["Smiling", "Purple_Hair"]}, "unknown CelebA attributes"),
    ({"loss_weights": {"perceptual": 1.0}}, "unknown loss terms"),
    ({"image_size": 60}, "multiple of"),
    ({"aux_objective": "maximise"}, "unknown aux_objective"),
    ({"loss_weights": {"gan": 0.0, "rec_feat": 1.0}}, "rec_feat uses the discriminator"),
])
def test_config_rejects_bad_values(bad: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ModelConfig.from_dict(bad)


def test_save_load_gives_identical_outputs(model: IFcVAEGAN, tmp_path) -> None:
    model.save_pretrained(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".md") == ["config.json", "model.safetensors"]
    assert json.loads((tmp_path / "config.json").read_text())["widths"] == list(SMALL["widths"])
    loaded = IFcVAEGAN.load(tmp_path)
    assert loaded.config == model.config
    x, _ = batch()
    torch.testing.assert_close(loaded.edit(x, {"Smiling": 1.0}), model.edit(x, {"Smiling": 1.0}), rtol=0, atol=0)
    for (k, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), k


def test_changing_an_attribute_changes_the_image_with_z_fixed(model: IFcVAEGAN) -> None:
    x, _ = batch()
    mu, _, logits = model.encode(x)
    y = torch.sigmoid(logits)
    with torch.no_grad():
        off = model.decode(mu, model.attribute_values(y, {"Smiling": 0.0}))
        on = model.decode(mu, model.attribute_values(y, {"Smiling": 1.0}))
        again = model.decode(mu, model.attribute_values(y, {"Smiling": 0.0}))
    assert (on - off).abs().mean() > 1e-4
    torch.testing.assert_close(off, again)
    assert torch.equal(model.edit(x, {}), model.reconstruct(x))


def test_unknown_attribute_in_edit(model: IFcVAEGAN) -> None:
    with pytest.raises(KeyError, match="Purple_Hair"):
        model.edit(batch()[0], {"Purple_Hair": 1.0})


#: terms beyond the paper, off by default
EXTRA_TERMS = {"rec_feat", "edit_cls", "edit_gan", "edit_change", "edit_local", "z_gap", "mask"}
#: every term a whole-face model can have on (the mask term is a region editor's: tests/test_regions.py)
ALL_ON = {t: 1.0 for t in EXTRA_TERMS - {"mask"}}


def test_the_papers_loss_terms_are_on_by_default(model: IFcVAEGAN) -> None:
    x, y = batch()
    total, terms, outs = encoder_decoder_losses(model.train(), x, y)
    assert set(terms) == set(LOSS_TERMS) - EXTRA_TERMS
    assert model.critic is None
    w = model.config.loss_weights
    torch.testing.assert_close(total, sum(w[k] * v for k, v in terms.items()))
    assert outs["x_rec"].shape == x.shape and outs["x_prior"].shape == x.shape
    assert aux_loss(model, outs["z"], y).item() > 0
    fakes = [(outs["x_rec"], outs["y_rec"]), (outs["x_prior"], outs["y_prior"])]
    assert discriminator_loss(model, x, y, fakes).item() > 0


@pytest.mark.parametrize("term", LOSS_TERMS)
def test_zero_weight_removes_its_term(term: str) -> None:
    torch.manual_seed(0)
    # the terms that need the GAN's discriminator go with it
    off = {term, "rec_feat", "edit_gan"} if term == "gan" else {term}
    m = IFcVAEGAN(ModelConfig(loss_weights={**ALL_ON, **{t: 0.0 for t in off}}, **SMALL)).train()
    x, y = batch()
    total, terms, outs = encoder_decoder_losses(m, x, y)
    assert set(terms) == set(LOSS_TERMS) - off - {"mask"}
    torch.testing.assert_close(total, sum(m.config.loss_weights[k] * v for k, v in terms.items()))
    total.backward()
    if term == "aux":  # the auxiliary net is not run at all, so it gets no gradient
        assert all(p.grad is None for p in m.aux.parameters())
    if term == "gan":
        assert "x_prior" not in outs
        assert all(p.grad is None for p in m.discriminator.parameters())
    if term == "edit_cls":  # no critic is built
        assert m.critic is None
    elif m.critic is not None:  # the critic judges the edit, frozen: gradients pass through, none stay
        assert all(p.grad is None for p in m.critic.parameters())
        assert all(p.requires_grad for p in m.critic.parameters()) and m.critic.training
    if m.local_critic is not None:  # so does the local critic
        assert all(p.grad is None for p in m.local_critic.parameters()) and m.local_critic.training
    assert (m.local_critic is None) == (term == "edit_local")


def test_edit_terms_score_the_flipped_rendering() -> None:
    """``edit_cls`` rewards the decoder for renderings the critic reads as the flipped labels."""
    torch.manual_seed(0)
    m = IFcVAEGAN(ModelConfig(loss_weights={"edit_cls": 1.0, "edit_gan": 1.0}, flip_prob=1.0, **SMALL)).train()
    x, y = batch()
    _, terms, outs = encoder_decoder_losses(m, x, y)
    assert outs["x_edit"].shape == x.shape
    m.critic.eval()
    with torch.no_grad():
        expected = F.binary_cross_entropy_with_logits(m.critic(outs["x_edit"]), 1.0 - y)  # every attribute flipped
    torch.testing.assert_close(terms["edit_cls"], expected)
    with pytest.raises(ValueError, match="edit_gan"):
        ModelConfig(loss_weights={"edit_gan": 1.0, "gan": 0.0})


def test_edit_change_is_the_edits_mean_pixel_change_and_trains_the_decoder() -> None:
    """``edit_change`` is 0 when no attribute is flipped and measures |G(z, y') - G(z, y_hat)| otherwise."""
    torch.manual_seed(0)
    m = IFcVAEGAN(ModelConfig(loss_weights={"edit_change": 1.0}, flip_prob=1.0, **SMALL)).train()
    x, y = batch()
    _, terms, outs = encoder_decoder_losses(m, x, y)
    torch.testing.assert_close(terms["edit_change"], (outs["x_edit"] - outs["x_rec"]).abs().mean())
    assert terms["edit_change"] > 0
    torch.testing.assert_close(outs["y_edit"], 1.0 - y)  # rendered with every attribute flipped
    outs["x_rec"].retain_grad()
    outs["x_edit"].retain_grad()
    terms["edit_change"].backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in m.decoder.parameters())
    assert outs["x_edit"].grad.abs().sum() > 0
    assert outs["x_rec"].grad is None  # the reconstruction is the target, not pulled toward the edit
    with torch.no_grad():  # same z, same attributes: the two renderings agree, the term vanishes
        m.eval()
        z = torch.randn(3, SMALL["z_dim"])
        ys = torch.rand(3, 6)
        assert (m.decoder(z, ys) - m.decoder(z, ys)).abs().max() == 0


def test_edit_local_reads_a_flipped_smile_from_the_lips_alone() -> None:
    """``edit_local``: a local critic, which sees only the lips, reads the rendering of the faces whose
    Smiling was flipped; only the lips of those renderings get a gradient, the critic none."""
    torch.manual_seed(0)
    m = IFcVAEGAN(ModelConfig(loss_weights={"edit_local": 1.0}, **SMALL)).train()
    assert m.critic is None and m.local_critic is not None
    x_edit = torch.rand(4, 3, 64, 64, requires_grad=True)
    y_edit = torch.tensor([[1.0] + [0.0] * 5, [0.0] * 6, [1.0] * 6, [0.0] * 6])
    flipped = torch.zeros(4, 6, dtype=torch.bool)
    flipped[[0, 2], 0] = True  # Smiling flipped on faces 0 and 2 only
    flipped[1, 1:] = True  # other attributes flipped on face 1: not this term's business
    loss = local_edit_term(m, x_edit, y_edit, flipped)
    loss.backward()
    assert all(p.grad is None for p in m.local_critic.parameters())
    grad = x_edit.grad.abs().sum(1)
    assert grad[[1, 3]].sum() == 0 and grad[[0, 2]].sum() > 0
    (cx, cy), (ax, ay) = LOCAL_REGIONS["Smiling"]
    rows, cols = torch.meshgrid(torch.arange(64), torch.arange(64), indexing="ij")
    outside = ((cols + 0.5) / 64 - cx) ** 2 / ax ** 2 + ((rows + 0.5) / 64 - cy) ** 2 / ay ** 2 > 1
    assert grad[0][outside].sum() == 0 and grad[0][~outside].sum() > 0
    view = local_view(x_edit.detach(), "Smiling")
    assert (view[:, :, outside] == 0.5).all() and torch.equal(view[:, :, 51, 32], x_edit.detach()[:, :, 51, 32])
    assert local_edit_term(m, x_edit, y_edit, torch.zeros(4, 6, dtype=torch.bool)) == 0
    _, terms, _ = encoder_decoder_losses(m, *batch())
    assert "edit_local" in terms and terms["edit_local"].requires_grad
    x, y = batch()
    assert local_critic_loss(m, x, y).item() > 0
    assert IFcVAEGAN(ModelConfig(attributes=("Eyeglasses",), loss_weights={"edit_local": 1.0}, **SMALL)
                     ).local_critic is not None  # no local attribute: the term is 0, as the critic's loss
    assert IFcVAEGAN(ModelConfig(**SMALL)).local_critic is None


def test_attribute_gap_is_zero_for_independent_codes_and_pulls_leaked_attributes_out() -> None:
    """``z_gap``: about 0 when mu does not depend on the attributes (unbiased), large when one
    dimension carries one, and its gradient moves the two groups' means together."""
    torch.manual_seed(0)
    y = (torch.rand(64, 6) > 0.7).float()
    chance = torch.stack([attribute_gap(torch.randn(64, 20), (torch.rand(64, 6) > 0.7).float()) for _ in range(300)])
    assert abs(chance.mean()) < 0.1
    mu = torch.randn(64, 20)
    mu[:, 0] += 3 * y[:, 0]
    mu.requires_grad_(True)
    gap = attribute_gap(mu, y)
    assert gap > chance.quantile(0.99)  # far above what independent codes score
    gap.backward()
    pos = y[:, 0] > 0.5
    assert mu.grad[pos, 0].mean() > 0 > mu.grad[~pos, 0].mean()  # descent lowers the positives, raises the rest
    assert attribute_gap(torch.randn(5, 20), torch.ones(5, 6)) == 0  # no face without the attributes
    m = IFcVAEGAN(ModelConfig(loss_weights={"z_gap": 1.0}, **SMALL)).train()
    x, _ = batch()
    _, terms, _ = encoder_decoder_losses(m, x, y[:len(x)])
    assert "z_gap" in terms and terms["z_gap"].requires_grad


def test_conditional_discriminator_reads_the_claimed_attributes() -> None:
    """The projection D starts as the unconditional one (zero embedding), then its logit depends on y."""
    torch.manual_seed(0)
    cfg = dict(loss_weights={"edit_gan": 1.0}, **SMALL)
    plain, cond = IFcVAEGAN(ModelConfig(**cfg)).eval(), IFcVAEGAN(ModelConfig(conditional_discriminator=True, **cfg)).eval()
    assert plain.discriminator.embed is None
    missing = cond.load_state_dict(plain.state_dict(), strict=False).missing_keys
    assert missing == ["discriminator.embed.weight"]
    x, y = batch()
    with torch.no_grad():
        torch.testing.assert_close(cond.discriminator(x, y), plain.discriminator(x))
        cond.discriminator.embed.weight.normal_()
        assert not torch.allclose(cond.discriminator(x, y), cond.discriminator(x, 1 - y))
    with pytest.raises(ValueError, match="attributes"):
        cond.discriminator(x)
    _, terms, outs = encoder_decoder_losses(cond.train(), x, y)
    assert {"gan", "edit_gan"} <= set(terms)
    fakes = [(outs[k], outs[c]) for k, c in (("x_rec", "y_rec"), ("x_prior", "y_prior"), ("x_edit", "y_edit"))]
    assert discriminator_loss(cond, x, y, fakes).item() > 0


def test_feature_term_pulls_the_reconstruction_to_the_image_in_discriminator_features() -> None:
    """``rec_feat`` is 0 for a perfect reconstruction, trains encoder and decoder (not the
    discriminator's statistics) and grows with the reconstruction's error."""
    torch.manual_seed(0)
    m = IFcVAEGAN(ModelConfig(loss_weights={"rec_feat": 1.0}, **SMALL)).train()
    x, _ = batch()
    stats = {k: v.clone() for k, v in m.discriminator.state_dict().items() if "running" in k}
    assert feature_distance(m, x, x.clone()).item() == 0
    assert feature_distance(m, x, (x + 0.3).clamp(0, 1)) > feature_distance(m, x, (x + 0.1).clamp(0, 1)) > 0
    assert all(torch.equal(v, m.discriminator.state_dict()[k]) for k, v in stats.items())
    _, terms, _ = encoder_decoder_losses(m, *batch())
    terms["rec_feat"].backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in m.decoder.parameters() if p.requires_grad)
    assert all(p.grad is None or not p.grad.abs().sum() for p in m.aux.parameters())


def test_losses_run_under_autocast_that_refuses_probability_bce(model: IFcVAEGAN, monkeypatch) -> None:
    """CUDA's autocast raises on ``binary_cross_entropy``: the reconstruction term must run outside it."""
    import torch.nn.functional as F

    plain_bce = F.binary_cross_entropy

    def refusing_bce(*args, **kwargs):
        if torch.is_autocast_enabled("cpu"):
            raise RuntimeError("binary_cross_entropy is unsafe to autocast")
        return plain_bce(*args, **kwargs)

    monkeypatch.setattr(F, "binary_cross_entropy", refusing_bce)
    x, y = batch()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        total, terms, _ = encoder_decoder_losses(model.train(), x, y)
    assert terms["rec"].dtype == torch.float32 and torch.isfinite(total)


def test_confusion_objective_has_a_floor_that_the_papers_lacks() -> None:
    """``confusion`` is 0 exactly when the auxiliary net predicts the attribute frequencies and
    positive otherwise; the paper's ``negated_bce`` keeps rewarding a confidently wrong auxiliary net."""
    y = torch.tensor([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    at_frequency = torch.logit(y.mean(0, keepdim=True)).expand_as(y)
    right, wrong = (2 * y - 1) * 8, (1 - 2 * y) * 8
    assert adversarial_aux_term(at_frequency, y, "confusion").abs() < 1e-6
    assert adversarial_aux_term(right, y, "confusion") > 0.1
    assert adversarial_aux_term(wrong, y, "confusion") > adversarial_aux_term(right, y, "confusion")
    assert adversarial_aux_term(wrong, y, "negated_bce") < adversarial_aux_term(at_frequency, y, "negated_bce") - 5


def test_balanced_objective_weighs_rare_attributes_like_common_ones() -> None:
    """Under ``balanced`` the auxiliary net's loss gives each class of each attribute half the weight,
    so that predicting the majority class no longer beats reading z; the encoder's term is 0 exactly
    when the auxiliary net answers 1/2, and the floor is ln 2."""
    torch.manual_seed(0)
    y = torch.zeros(8, 2)
    y[0, 0] = 1.0  # a rare attribute: 1 of 8
    y[:, 1] = torch.tensor([1.0, 0.0] * 4)
    w = class_balance(y)
    torch.testing.assert_close(w.mean(0), torch.ones(2))
    torch.testing.assert_close((w * y).sum(0), (w * (1 - y)).sum(0))  # positives weigh as much as negatives
    half = torch.zeros(8, 2)
    assert adversarial_aux_term(half, y, "balanced").abs() < 1e-6
    assert adversarial_aux_term(torch.logit(y.mean(0, keepdim=True)).expand_as(y), y, "balanced") > 0.1
    torch.testing.assert_close(aux_floor(y, "balanced"), torch.tensor(math.log(2.0)))
    m = IFcVAEGAN(ModelConfig(aux_objective="balanced", attributes=("Eyeglasses", "Smiling"), **SMALL))
    majority = torch.tensor([[-20.0, 0.0]]).expand(8, 2)  # "never" for the rare one: right on 7 of 8
    plain = F.binary_cross_entropy_with_logits(majority, y)
    with torch.no_grad():
        for p in m.aux.parameters():
            p.zero_()
        m.aux.net[-1].bias.copy_(majority[0])
    balanced = aux_loss(m, torch.zeros(8, SMALL["z_dim"]), y)
    assert balanced > 3 * plain  # the balanced net is punished for ignoring the rare positives


def test_confusion_objective_trains_the_encoder_only_through_z() -> None:
    torch.manual_seed(0)
    m = IFcVAEGAN(ModelConfig(aux_objective="confusion", loss_weights={"gan": 0.0, "cls_rec": 0.0}, **SMALL)).train()
    x, y = batch()
    total, terms, _ = encoder_decoder_losses(m, x, y)
    assert terms["aux"] >= 0
    terms["aux"].backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in m.encoder.parameters())
    assert all(p.grad is None for p in m.decoder.parameters())


def running_stats(model: IFcVAEGAN) -> dict[str, torch.Tensor]:
    """Running means and variances of the encoder's and decoder's batch norms (those inference uses)."""
    return {k: v.clone() for k, v in model.state_dict().items()
            if k.startswith(("encoder.", "decoder.")) and k.endswith(("running_mean", "running_var"))}


def test_only_real_images_update_the_batch_norm_running_statistics() -> None:
    """Inference normalises with running statistics: reconstructions fed back to the encoder and prior
    samples through the decoder must not leak into them (they shifted reconstructions' colours)."""
    x, y = batch()
    torch.manual_seed(0)
    full = IFcVAEGAN(ModelConfig(**SMALL)).train()
    start = running_stats(full)
    torch.manual_seed(0)
    plain = IFcVAEGAN(ModelConfig(loss_weights={"cls_rec": 0.0, "gan": 0.0}, **SMALL)).train()
    torch.manual_seed(1)
    encoder_decoder_losses(full, x, y)
    torch.manual_seed(1)
    encoder_decoder_losses(plain, x, y)  # the same real encode and reconstruction, nothing else
    after = running_stats(full)
    assert any(not torch.equal(start[k], after[k]) for k in start)  # the real passes did update them
    for k, v in running_stats(plain).items():
        torch.testing.assert_close(after[k], v, rtol=0, atol=0)
    assert all(m.momentum == 0.1 for m in full.modules() if isinstance(m, torch.nn.BatchNorm2d))


def test_pickle_checkpoints_are_refused(tmp_path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(ModelConfig(**SMALL).to_dict()))
    (tmp_path / "pytorch_model.bin").write_bytes(b"not even a pickle")
    with pytest.raises(CheckpointError, match="pickle"):
        IFcVAEGAN.load(tmp_path)
    with pytest.raises(CheckpointError, match="pickle"):
        IFcVAEGAN.load(tmp_path / "pytorch_model.bin")


def test_config_not_matching_weights_is_a_clear_error(model: IFcVAEGAN, tmp_path) -> None:
    model.save_pretrained(tmp_path)
    cfg = json.loads((tmp_path / "config.json").read_text())
    cfg["z_dim"] = 20
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="shape mismatches"):
        IFcVAEGAN.load(tmp_path)
    cfg["z_dim"], cfg["colour"] = 12, "blue"
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="unknown config keys"):
        IFcVAEGAN.load(tmp_path)


def test_corrupt_safetensors_is_a_clear_error(model: IFcVAEGAN, tmp_path) -> None:
    model.save_pretrained(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"\x00" * 100)
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        IFcVAEGAN.load(tmp_path)
