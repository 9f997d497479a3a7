"""The labelled edit sheet: its rows are what the model decodes and what the app pastes."""
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from model import IFcVAEGAN
from model.paste import face_mask
from training.edit_sheet import LABEL_WIDTH, decoded_rows, edit_rows, edit_sheet


def test_rows_name_decoded_and_pasted_flips(weights_dir: Path) -> None:
    model = IFcVAEGAN.load(weights_dir)
    torch.manual_seed(0)
    x = torch.rand(3, 3, 64, 64)
    rows = dict(edit_rows(decoded_rows(model, x)))
    names = list(rows)
    assert names[:2] == ["original", "reconstruction"]
    assert names[2:] == [f"{a} flipped" for a in model.attributes] + [f"{a} flipped, pasted" for a in model.attributes]
    assert torch.equal(rows["original"], x)
    mu, _, logits = model.encode(x)
    assert torch.allclose(rows["reconstruction"], model.decode(mu, torch.sigmoid(logits)).float(), atol=1e-6)
    outside = torch.tensor(face_mask(64) == 0)
    for a in model.attributes:
        decoded, pasted = rows[f"{a} flipped"], rows[f"{a} flipped, pasted"]
        assert not torch.allclose(decoded, rows["reconstruction"], atol=1e-3)  # the flip changes the decoding
        assert torch.equal(pasted[..., outside], x[..., outside])  # the photo is untouched outside the mask
        assert not torch.equal(pasted, x)


def test_sheet_has_a_label_margin_and_one_tile_per_face_and_row(weights_dir: Path, tmp_path: Path) -> None:
    model = IFcVAEGAN.load(weights_dir)
    x = torch.rand(2, 3, 64, 64)
    edit_sheet(edit_rows(decoded_rows(model, x)), tmp_path / "sheet" / "edits.png")
    sheet = Image.open(tmp_path / "sheet" / "edits.png").convert("RGB")
    assert sheet.size == (LABEL_WIDTH + 2 * 65 + 1, (2 + 2 * model.config.num_attributes) * 65 + 1)
    margin = np.asarray(sheet.crop((0, 0, LABEL_WIDTH, 65)))
    assert (margin < 128).any() and (margin == 255).mean() > 0.8  # dark label text on white
    first = sheet.crop((LABEL_WIDTH + 1, 1, LABEL_WIDTH + 65, 65))
    expected = (x[0].permute(1, 2, 0) * 255).round().to(torch.uint8)
    assert torch.equal(torch.from_numpy(np.array(first)), expected)
