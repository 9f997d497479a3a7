"""Write a region editor's Hub model card (``README.md`` of ``weights/eyes/`` or ``weights/mouth/``)
from files, never from memory.

    python -m release.region_card --weights weights/eyes --train-run runs/eyes --notes results/regions/eyes.md

Sources: the region editor (``config.json``, ``model.safetensors``), its training run (``args.json``,
``log.csv``, ``val.csv``), the user-level evaluation and eye check of the composition it ships in
(``metrics.json`` and ``eye_check.json`` of the checkpoint folder above it, ``--composition``), the
previous composition's figures (``--previous``, a folder with the same two files) and free text
(``--notes``: the recipe's reasons and the lever table). Anything no file reports is "not measured".
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from huggingface_hub import ModelCard, ModelCardData

from evaluation.report import pct
from model import IFcVAEGAN
from release.model_card import (DATASET_ID, DATASET_NAME, LICENSE_LINK, LICENSE_NAME, NOT_MEASURED, lookup,
                                parameter_count, read_rows, training_run, training_section)

#: The user-level and eye-check figures of a composition, next to its checkpoint.
METRICS, EYE_CHECK = "metrics.json", "eye_check.json"
DIRECTION_NAMES = {"on": "off → on", "off": "on → off"}


def validation_section(run: dict[str, Any] | None, attributes: tuple[str, ...]) -> str:
    """The last validation row: the encoder's accuracy, the critic's reading of the edits, the
    share of the region the mask opens, the z-probe."""
    rows = run["validation"] if run else []
    if not rows:
        return f"Validation: {NOT_MEASURED}."
    last = rows[-1]

    def cell(key: str) -> str:
        return pct(float(last[key])) if last.get(key) not in (None, "", "nan") else "–"

    head = "| attribute | encoder accuracy | critic reads the edit | mask opens | z-probe (0.5: nothing) |"
    lines = [head, "| --- | --- | --- | --- | --- |"]
    lines += [f"| {a} | {cell(f'acc_{a}')} | {cell(f'edit_{a}')} | {cell(f'mask_{a}')} | {cell(f'probe_{a}')} |"
              for a in attributes]
    return (f"After epoch {last['epoch']} (step {int(last['step']):,}), on the first validation images of the run:\n\n"
            + "\n".join(lines))


def figures(folder: Path | None) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(user-level metrics, eye check) of a composition folder; None where a file is missing."""
    if folder is None:
        return None, None
    read = [json.loads((folder / f).read_text()) if (folder / f).is_file() else None for f in (METRICS, EYE_CHECK)]
    return read[0], read[1]


def cell_figures(metrics: dict[str, Any] | None, check: dict[str, Any] | None, attribute: str,
                 direction: str) -> list[str]:
    """By eye, took and looks unedited, the headline judge, same person, others kept: one cell's figures."""
    eye = lookup(check, "results", attribute, direction, "eye")
    unedited = lookup(check, "results", attribute, direction, "took_unedited")
    user = lookup(metrics, "user_level", attribute, direction)
    return [pct(eye) if eye is not None else NOT_MEASURED, pct(unedited) if unedited is not None else NOT_MEASURED,
            pct(user["success"]) if user and user.get("success") is not None else NOT_MEASURED,
            pct(user["same_person"]) if user and user.get("same_person") is not None else NOT_MEASURED,
            pct(user["others_kept"]) if user and user.get("others_kept") is not None else NOT_MEASURED]


def figures_section(attributes: tuple[str, ...], composition: Path | None, previous: Path | None) -> str:
    """This composition's figures for the editor's attributes, beside the previous composition's."""
    ours, theirs = figures(composition), figures(previous)
    if ours == (None, None):
        return (f"Not measured yet: run `python -m evaluation.user_level --weights WEIGHTS ...` and "
                "`python -m evaluation.eye_check ...` on the checkpoint folder this editor ships in, then "
                "regenerate this card with `--composition WEIGHTS`.")
    head = ["attribute", "direction", "by eye", "took, looks unedited", "headline judge", "same person (dlib)",
            "others kept"]
    columns = head[2:]
    if previous is not None:
        head += [f"{c} (previous)" for c in columns]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for a in attributes:
        if lookup(ours[0], "user_level", a) is None and lookup(ours[1], "results", a) is None:
            continue  # an attribute of the editor that the app does not offer
        for d, name in DIRECTION_NAMES.items():
            row = [a, name, *cell_figures(*ours, a, d)]
            if previous is not None:
                row += cell_figures(*theirs, a, d)
            lines.append("| " + " | ".join(row) + " |")
    sources = f"`{composition}/{METRICS}` and `{composition}/{EYE_CHECK}`"
    if previous is not None:
        sources += f"; previous: `{previous}`"
    return "\n".join(lines) + f"\n\nFrom {sources}."


TEMPLATE = """---
{{ card_data }}
---

# IFcVAE-GAN region editor: {{ name }} ({{ attributes }})

One of the face attribute editor's region editors: an IFcVAE-GAN (Creswell & Mohamied, "Adversarial
Information Factorization", [arXiv 1711.05175](https://arxiv.org/abs/1711.05175)) trained on one box
of CelebA's aligned 178 x 218 frame, at the frame's own resolution: the {{ name }}, (left, top, right,
bottom) = {{ box }}, a {{ width }} x {{ height }} image. Its encoder splits the region into an identity
code z ({{ z_dim }}-D) and attribute units ({{ attributes }}); its decoder draws (z, y); an auxiliary
net tries to read the attributes from z and the encoder is trained to defeat it; a discriminator
sharpens the drawings. A mask head says where an edit applies: the edit is the drawing where the
mask is on and the input's own pixels elsewhere. In the app the region is cut from the same
alignment as the whole face, and only the pixels the mask opens change in the photo (blended in
the gradient domain{{ fill }}). {{ params }} parameters in all.

## Use

```python
from model import IFcVAEGAN
editor = IFcVAEGAN.from_pretrained("{{ folder }}")            # or a Hub id
decoded, mask, edited = editor.masked_edit(regions, {"{{ first }}": 1.0})   # B x 3 x {{ height }} x {{ width }} in [0, 1]
```

The whole pipeline (detection, alignment, the whole-face model for the other attributes, paste) uses
it when it sits in a sub-folder of the checkpoint: `FaceEditor.load("weights")` with `weights/{{ name }}/`.

## Training

{{ training }}

{{ validation }}

## What a user gets (the composition it ships in)

{{ figures }}

{{ notes }}

## Limits

The editor draws what CelebA shows: frontal, well-lit celebrity faces. Faces far from frontal,
partly hidden, or much darker or paler than most of CelebA are edited less reliably. CelebA is
available for non-commercial research only, and these weights inherit that restriction.
"""


def build_card(model: IFcVAEGAN, name: str, folder: str, run: dict[str, Any] | None, composition: Path | None,
               previous: Path | None, notes: str | None) -> ModelCard:
    cfg = model.config
    assert cfg.region is not None
    height, width = cfg.image_shape
    data = ModelCardData(license="other", license_name=LICENSE_NAME, license_link=LICENSE_LINK,
                         library_name="ifcvae-gan", pipeline_tag="image-to-image", datasets=[DATASET_ID],
                         tags=["face-editing", "vae-gan", "celeba", "region-editor", name])
    fill = ("; where a pair of glasses is removed, its thin frames are filled from the photo's own neighbourhood"
            if "Eyeglasses" in cfg.attributes else "")
    return ModelCard.from_template(
        data, template_str=TEMPLATE, name=name, attributes=", ".join(cfg.attributes), box=tuple(cfg.region),
        width=width, height=height, z_dim=cfg.z_dim, fill=fill, first=cfg.attributes[0], folder=folder,
        params=parameter_count(model.encoder, model.decoder, model.mask_net),
        training=training_section(run) if run else f"Training run: {NOT_MEASURED}.",
        validation=validation_section(run, cfg.attributes), figures=figures_section(cfg.attributes, composition,
                                                                                    previous),
        notes=notes or "", dataset=DATASET_NAME)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Write a region editor's model card from result files.")
    ap.add_argument("--weights", required=True, type=Path, help="the region editor's folder, e.g. weights/eyes")
    ap.add_argument("--train-run", type=Path, default=None, help="its training run folder")
    ap.add_argument("--composition", type=Path, default=None,
                    help="the checkpoint folder it ships in (default: the folder above --weights)")
    ap.add_argument("--previous", type=Path, default=None,
                    help="a folder with the previous composition's metrics.json and eye_check.json")
    ap.add_argument("--notes", type=Path, default=None, help="markdown added to the card (recipe, lever table)")
    args = ap.parse_args(argv)
    try:
        model = IFcVAEGAN.load(args.weights)
        if model.config.region is None:
            raise ValueError(f"{args.weights} is not a region editor (its config has no region)")
        run = training_run(args.train_run) if args.train_run else None
        notes = args.notes.read_text() if args.notes else None
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    composition = args.composition or args.weights.parent
    card = build_card(model, args.weights.name, str(args.weights), run, composition, args.previous, notes)
    card.save(args.weights / "README.md")
    print(f"wrote {args.weights / 'README.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
