"""Growing a trained model to twice the image size (``--init`` across sizes)."""
from pathlib import Path

import pytest
import torch

from model import IFcVAEGAN, ModelConfig
from tests.test_train import train
from training.grow import grown_state

SMALL = ModelConfig(image_size=32, widths=(8, 16, 32), z_dim=8, aux_hidden=16,
                    loss_weights={"edit_cls": 1000.0}, conditional_discriminator=True)
LARGE = ModelConfig(**{**SMALL.to_dict(), "image_size": 64, "widths": (4, 8, 16, 32)})


def test_inner_blocks_are_copied_and_the_image_end_starts_fresh() -> None:
    torch.manual_seed(0)
    small, large = IFcVAEGAN(SMALL), IFcVAEGAN(LARGE)
    state, copied = grown_state(small.state_dict(), SMALL, large.state_dict(), LARGE)
    large.load_state_dict(state)
    # the blocks inside the RGB-facing ones, and the heads, come from the small model
    assert torch.equal(large.encoder.features[2][0].weight, small.encoder.features[1][0].weight)
    assert torch.equal(large.encoder.head.weight, small.encoder.head.weight)
    assert torch.equal(large.decoder.fc[0].weight, small.decoder.fc[0].weight)
    assert torch.equal(large.decoder.blocks[1].conv.weight, small.decoder.blocks[1].conv.weight)
    assert torch.equal(large.discriminator.net[-1].weight, small.discriminator.net[-1].weight)
    assert torch.equal(large.discriminator.embed.weight, small.discriminator.embed.weight)
    assert torch.equal(large.critic.net[3][0].weight, small.critic.net[2][0].weight)
    assert torch.equal(large.aux.net[0].weight, small.aux.net[0].weight)
    # the RGB-facing blocks and the new ones keep their fresh weights
    fresh = IFcVAEGAN(LARGE).state_dict()
    for key in ("encoder.features.0.0.weight", "encoder.features.1.0.weight", "decoder.blocks.2.conv.weight",
                "decoder.blocks.3.conv.weight"):
        assert key in state and state[key].shape == fresh[key].shape
        assert not any(state[key].shape == t.shape and torch.equal(state[key], t) for t in small.state_dict().values())
    assert copied == sum(1 for k in state if not any(
        k.startswith(p) for p in ("encoder.features.0.", "encoder.features.1.", "discriminator.net.0.",
                                  "discriminator.net.1.", "critic.net.0.", "critic.net.1.",
                                  "decoder.blocks.2.", "decoder.blocks.3.")))
    # and the grown model runs at its size
    large.eval()
    mu, _, y = large.encoder(torch.rand(2, 3, 64, 64))
    assert large.decoder(mu, torch.sigmoid(y)).shape == (2, 3, 64, 64)


@pytest.mark.parametrize("change", [{"widths": (4, 8, 16, 64)}, {"z_dim": 9}, {"image_size": 128},
                                    {"attributes": ("Smiling",)}])
def test_a_model_that_is_not_grown_by_whole_blocks_is_refused(change: dict) -> None:
    other = ModelConfig(**{**LARGE.to_dict(), **change})
    with pytest.raises(ValueError, match="not the 32 px model"):
        grown_state(IFcVAEGAN(SMALL).state_dict(), SMALL, IFcVAEGAN(other).state_dict(), other)


@pytest.mark.slow
def test_train_cli_grows_a_checkpoint(celeba_tiny: Path, tmp_path: Path) -> None:
    small, large = tmp_path / "small", tmp_path / "large"
    train(["--data", str(celeba_tiny), "--out", str(small), "--max-steps", "1", "--image-size", "32",
           "--widths", "8", "16", "32"], tmp_path)
    r = train(["--data", str(celeba_tiny), "--out", str(large), "--max-steps", "1", "--image-size", "64",
               "--widths", "4", "8", "16", "32", "--init", str(small / "last")], tmp_path)
    assert "tensors copied into the 64 px model" in r.stdout
    assert IFcVAEGAN.load(large / "last").config.image_size == 64
