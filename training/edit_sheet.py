"""A labelled sheet of edits on a few faces: what the model decodes, and what the app shows.

Columns are faces; rows are the originals, their reconstructions, then each attribute flipped as
the decoder renders it, then the same flips as the app pastes them by default (the original crop
plus the edit's change under the face mask, with the crop's own detail taken out where the edit
changes much, ``model.paste.add_change``). Each row is named on the left.
"""
from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image, ImageDraw
from torchvision.transforms.functional import to_pil_image
from torchvision.utils import make_grid, save_image

from model import IFcVAEGAN
from model.losses import masked_composite
from model.paste import add_change
from model.preprocessing import to_uint8
from model.tuning import decode_each, tune_decoders

#: Width in pixels of the row-name margin, and the padding between tiles.
LABEL_WIDTH, PADDING = 150, 1


@torch.no_grad()
def decoded_rows(model: IFcVAEGAN, x: torch.Tensor, tune_steps: int = 0) -> list[tuple[str, torch.Tensor]]:
    """(row name, N x 3 x H x W float images in [0, 1]): the originals, their reconstructions, then
    each attribute flipped from the encoder's own decision (on where it says off, off where on).
    With ``tune_steps``, each face is decoded by a decoder copy fitted to it (``model.tuning``).
    A masked region editor's flip is its composite, followed by rows of the decoded flip and its mask."""
    was_training = model.training
    model.eval()
    mu, _, logits = model.encode(x)
    p = torch.sigmoid(logits)
    decoders = tune_decoders(model, x, mu, p, tune_steps) if tune_steps else None

    def decode(y: torch.Tensor) -> torch.Tensor:
        return (model.decode(mu, y) if decoders is None else decode_each(decoders, mu, y)).float()
    rec = decode(p)
    rows = [("original", x.float()), ("reconstruction", rec)]
    for j, name in enumerate(model.attributes):
        y = p.clone()
        y[:, j] = 1.0 - (p[:, j] > 0.5).float()
        flipped = decode(y)
        if model.mask_net is None:
            rows.append((f"{name} flipped", flipped))
            continue
        composite, mask = masked_composite(model, x.float(), rec, flipped, y, p)
        rows += [(f"{name} flipped", composite.float()), (f"{name} decoded", flipped),
                 (f"{name} mask", mask.float().expand(-1, 3, -1, -1))]
    model.train(was_training)
    return rows


def edit_rows(decoded: list[tuple[str, torch.Tensor]]) -> list[tuple[str, torch.Tensor]]:
    """:func:`decoded_rows`, then each flip as the app pastes it (``model.paste.add_change``)."""
    (_, original), (_, rec), flips = decoded[0], decoded[1], decoded[2:]
    return decoded + [(f"{name}, pasted", add_change(original, rec, im)) for name, im in flips]


def save_grid(rows: list[tuple[str, torch.Tensor]], path: Path) -> None:
    """The rows as one unlabelled grid (a row of tiles per entry), as training's ``samples/*.png``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(torch.cat([im for _, im in rows]).cpu(), path, nrow=len(rows[0][1]), padding=PADDING)


def edit_sheet(rows: list[tuple[str, torch.Tensor]], path: Path) -> Image.Image:
    """Write the rows (e.g. :func:`edit_rows`) as a sheet with each row named on the left; return it."""
    faces = rows[0][1]
    tile = faces.shape[-2] + PADDING
    grid = make_grid(torch.cat([im for _, im in rows]).cpu(), nrow=len(faces), padding=PADDING, pad_value=1.0)
    sheet = Image.new("RGB", (LABEL_WIDTH + grid.shape[-1], grid.shape[-2]), "white")
    sheet.paste(to_pil_image(to_uint8(grid)), (LABEL_WIDTH, 0))
    draw = ImageDraw.Draw(sheet)
    for i, (name, _) in enumerate(rows):
        draw.text((4, i * tile + tile // 2 - 6), name, fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)
    return sheet
