"""Per-face decoder tuning: a sharper likeness that still edits, without touching the shared model."""
from pathlib import Path

import numpy as np
import pytest
import torch

from evaluation.metrics import psnr
from model.images import load_image
from model.pipeline import Analysis, FaceEditor
from model.preprocessing import to_model_input, to_uint8
from model import IFcVAEGAN, ModelConfig
from model.tuning import attribute_reader, single_flips, tune_decoder

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def portrait(face_editor: FaceEditor) -> Analysis:
    return face_editor.analyze(load_image(EXAMPLES / "portrait.jpg"))


def test_single_flips_set_one_attribute_against_the_reading() -> None:
    probs = torch.tensor([[0.9, 0.2, 0.6]])
    flips, targets = single_flips(probs)
    assert torch.equal(targets, torch.tensor([0.0, 1.0, 0.0]))
    assert torch.allclose(flips, torch.tensor([[0.0, 0.2, 0.6], [0.9, 1.0, 0.6], [0.9, 0.2, 0.0]]))


def test_the_attribute_term_reads_with_the_critic_when_the_checkpoint_has_one() -> None:
    """A checkpoint with an attribute critic (trained on real images only) tunes against it, frozen;
    one without reads with the encoder's head."""
    torch.manual_seed(0)
    small = dict(widths=(8, 16, 16, 32), z_dim=12, aux_hidden=32)
    with_critic = IFcVAEGAN(ModelConfig(loss_weights={"edit_cls": 1000.0}, **small)).eval()
    plain = IFcVAEGAN(ModelConfig(**small)).eval()
    x = torch.rand(2, 3, 64, 64, requires_grad=True)
    with torch.no_grad():
        torch.testing.assert_close(attribute_reader(with_critic)(x), with_critic.critic(x))
        torch.testing.assert_close(attribute_reader(plain)(x), plain.encoder(x)[2])
    attribute_reader(with_critic)(x).sum().backward()
    assert x.grad is not None and all(p.grad is None for p in with_critic.parameters())
    decoder = tune_decoder(with_critic, x.detach()[:1], torch.zeros(1, 12), torch.full((1, 6), 0.3), tune_steps=2)
    assert not torch.equal(next(decoder.parameters()), next(with_critic.decoder.parameters()))


def test_tuning_sharpens_the_face_keeps_it_editable_and_leaves_the_shared_model_alone(
        portrait: Analysis, face_editor: FaceEditor) -> None:
    model = face_editor.model
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = to_model_input(portrait.inputs[:1])
    decoder = tune_decoder(model, x, portrait.mu[:1], portrait.probs[:1], tune_steps=40)
    with torch.no_grad():
        rec = decoder(portrait.mu[:1], portrait.probs[:1])
        flips, targets = single_flips(portrait.probs[:1])
        read = model.predict_proba(decoder(portrait.mu.expand(len(flips), -1), flips)).diagonal()
    assert psnr(x, rec).item() > psnr(x, portrait.reconstructions[:1]).item() + 3
    assert ((read > 0.5).float() == targets).float().mean() >= 5 / 6  # the flips still read as flipped
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())
    assert all(p.grad is None for p in model.parameters())
    model.train()
    try:
        with pytest.raises(ValueError, match="eval mode"):
            tune_decoder(model, x, portrait.mu[:1], portrait.probs[:1], tune_steps=1)
    finally:
        model.eval()


def test_tuned_analysis_edits_each_face_with_its_own_decoder(face_editor: FaceEditor) -> None:
    plain = face_editor.analyze(load_image(EXAMPLES / "group.jpg"))
    tuned = face_editor.analyze(load_image(EXAMPLES / "group.jpg"), tune_steps=5)
    assert plain.decoders is None and len(tuned.decoders) == len(tuned.faces) > 1
    assert not torch.equal(tuned.reconstructions, plain.reconstructions)
    assert np.array_equal(face_editor.edit(tuned, {}).image, tuned.image)  # no change: the photo itself
    changes = {"Smiling": float(tuned.probs[1, 0] < 0.5)}
    one = face_editor.edit(tuned, changes, faces=[1])
    with torch.no_grad():
        y = face_editor.model.attribute_values(tuned.probs[1:2], changes)
        expected = tuned.decoders[1](tuned.mu[1:2], y)
    assert np.array_equal(one.edited[0], to_uint8(expected)[0].permute(1, 2, 0).numpy())
    assert not np.array_equal(one.image, tuned.image)
