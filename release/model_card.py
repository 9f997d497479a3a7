"""Write the Hub model card (``README.md`` of a checkpoint folder) from files, never from memory.

    python -m release.model_card --weights weights --metrics results/NAME/metrics.json --train-run runs/main

Sources: the checkpoint (``config.json``, ``model.safetensors``, and the user-level evaluation's
``metrics.json`` that ``evaluation/user_level.py`` writes next to it, with its contact sheets), the
crop-level evaluation's ``metrics.json`` (``evaluation/evaluate.py``; a training validation row such
as ``best/metrics.json`` is accepted too) and the training run folder (``args.json``, ``log.csv``,
``val.csv``). Without ``--metrics`` the run's last validation row is used (classification and
reconstruction error only). Anything no file reports is written as "not measured".
"""
from __future__ import annotations

import argparse
import csv
import json
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any, Callable

import torch
from huggingface_hub import EvalResult, ModelCard, ModelCardData

from evaluation.eye_check import table as eye_table
from evaluation.report import num, pct
from evaluation.user_level_report import comparison_table, legend, user_level_table, variants_table, z_probe_table
from model import IFcVAEGAN
from training.train import parse_args as train_args

NOT_MEASURED = "not measured"
#: CelebA on the Hub (images, 40 attributes, identities), for the card's dataset link.
DATASET_ID = "flwrlabs/celeba"
DATASET_NAME = "CelebA (aligned faces)"
LICENSE_NAME = "celeba-dataset-release-agreement"
LICENSE_LINK = "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html"
MODEL_NAME = "IFcVAE-GAN face attribute editor (CelebA {size}x{size})"
#: The Hub id shown in the usage examples when none is given.
REPO_ID_EXAMPLE = "NAME/ifcvae-gan-celeba64"
#: Training options given once per value (argparse ``action="append"``).
APPEND_OPTIONS = ("weight",)
CLASSIFICATION = ("image-classification", "Face attribute classification")
EDITING = ("image-to-image", "Face attribute editing")
#: Headline numbers for the Hub's model-index: (path in metrics.json, task, metric type, metric name).
HEADLINES: tuple[tuple[tuple[str, ...], tuple[str, str], str, str], ...] = (
    (("summary", "accuracy"), CLASSIFICATION, "accuracy", "Mean attribute accuracy"),
    (("summary", "balanced_accuracy"), CLASSIFICATION, "balanced_accuracy", "Mean balanced attribute accuracy"),
    (("summary", "edit_success"), EDITING, "accuracy", "Edit success (independent attribute judge)"),
    (("summary", "others_kept"), EDITING, "accuracy", "Other attributes kept (independent judge)"),
    (("summary", "identity_same"), EDITING, "accuracy", "Same person after edit (dlib distance < 0.6)"),
    (("summary", "detail_success"), EDITING, "accuracy", "Edit success as pasted by the app (independent judge)"),
    (("summary", "identity_same_detail"), EDITING, "accuracy", "Same person after edit as pasted by the app"),
    (("reconstruction", "psnr"), EDITING, "psnr", "Reconstruction PSNR (dB)"),
    (("reconstruction", "ssim"), EDITING, "ssim", "Reconstruction SSIM"),
    (("reconstruction", "mse"), EDITING, "mse", "Reconstruction MSE"),
)

#: The user-level evaluation's results, next to the checkpoint (``python -m evaluation.user_level``).
USER_LEVEL_METRICS = "metrics.json"
#: The blind eye check next to the checkpoint (``evaluation.eye_check score``).
EYE_CHECK = "eye_check.json"
#: Its contact sheets shown in the card (copied next to it as ``user_level_<name>.png``).
CARD_SHEETS = ("Eyeglasses_on", "Smiling_on")
#: User-level headlines for the model-index: (path in that metrics.json, metric name).
USER_LEVEL_HEADLINES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("summary", "user_level", "on", "success"), "Edit success off→on, returned full photo (headline judge)"),
    (("summary", "user_level", "off", "success"), "Edit success on→off, returned full photo (headline judge)"),
    (("summary", "user_level", "both", "same_person"), "Same person, photo → returned photo (dlib < 0.6)"),
)

TEMPLATE = """---
{{ card_data }}
---

# {{ model_name }}

A conditional VAE-GAN with adversarial information factorisation (IFcVAE-GAN; Creswell & Mohamied,
"Adversarial Information Factorization", [arXiv 1711.05175](https://arxiv.org/abs/1711.05175)),
trained on CelebA. The encoder splits a {{ image_size }} x {{ image_size }} face into an identity code
({{ z_dim }} numbers) and {{ attributes | length }} attribute values ({{ attributes | join(", ") }}); the decoder rebuilds the face
from both, so setting one attribute value edits the face and keeps the rest.

- Files: `config.json` (the model configuration) and `model.safetensors` ({{ params }} parameters:
  encoder, decoder, auxiliary network and discriminator; editing uses the encoder and decoder,
  {{ edit_params }} parameters).
- Code: the `model/` package of the project repository; loading reads only `config.json` and
  `model.safetensors` (pickle files are refused).
- Licence: non-commercial research use only, inherited from CelebA (see below).

## Usage

```python
from model import IFcVAEGAN  # the project repository's model package

model = IFcVAEGAN.from_pretrained("{{ repo_id }}")  # or a local folder, e.g. "weights"
# images: float tensor B x 3 x {{ image_size }} x {{ image_size }} in [0, 1],
# cropped like CelebA (model/preprocessing.py)
edited = model.edit(images, {"Smiling": 1.0, "Eyeglasses": 0.0})  # 0 absent, 1 present
probabilities = model.predict_proba(images)  # the encoder's attribute classifier
```

Whole photos (face detection, alignment to the CelebA crop, paste-back):

```bash
python -m model edit photo.jpg --out edited/ --set Smiling=1 --weights {{ repo_id }}
python app.py --weights {{ repo_id }}  # the web editor on http://127.0.0.1:7860
```

## Training

{{ training }}

Model configuration (`config.json`): image size {{ image_size }}, identity code {{ z_dim }}, encoder
widths {{ widths }}, loss weights {{ loss_weights }}.

## Evaluation

{{ evaluation }}

## Limitations and biases

- **{{ image_size }} x {{ image_size }} faces.** The model sees and draws crops of that size, aligned
  like CelebA's. Hair strands, glasses frames and skin texture are at or beyond that resolution;
  the photo editor pastes only the change back into the full-resolution photo, but the edit itself
  is {{ image_size }} pixels wide. Faces far from frontal, partly hidden or cropped differently from
  CelebA reconstruct poorly.
- **Identity.** Check "same person, original→reconstruction" in the evaluation: a
  {{ image_size }} x {{ image_size }} decoder trained for a few CPU hours draws a similar face, not yet one a face recogniser takes
  for the same person. The photo editor's default paste adds the edit's change to the photo and
  replaces the photo's own detail only where the edit changes much, which keeps the person more
  often but shows the edit more weakly than the decoded face does. Its "Sharper likeness" option
  fits a copy of the decoder to each face first (seconds per face on a CPU), which draws the person
  far more faithfully (measured in the project repository's `results/tuning/`, kept in its history
  at commit 4df0332).
- **CelebA's biases.** CelebA holds photos of celebrities: mostly young, light-skinned, well lit
  and often made up. Older people, darker skin tones and everyday photos are under-represented,
  and the model reconstructs and edits what it has seen little of worse. Its accuracy per group is
  not measured here.
- **Labels.** CelebA's labels are binary crowd annotations, noisy and partly subjective ("Young",
  "Male" as a two-valued label of perceived presentation). An edit moves a face towards what the
  label correlates with in CelebA, so correlated features can change along with it (in CelebA,
  for instance, "No_Beard" and "Male" are strongly linked).
- **Automatic judges.** Edit success and identity are measured by an attribute classifier trained
  on CelebA and by dlib's face recogniser; both carry biases of their own.
- **Use.** Edited faces are synthetic. Do not use them to deceive, to impersonate, or as evidence
  about a person; the model is not a face recognition or attribute inference tool for decisions
  about people.

## Licence

The weights are trained on CelebA, whose images and labels are released for **non-commercial
research purposes only** ([CelebA release agreement]({{ license_link }})); the weights inherit that
restriction, so they may not be used commercially. The project's code is MIT-licensed.

## Citation

```bibtex
@article{creswell2017adversarial,
  title   = {Adversarial Information Factorization},
  author  = {Creswell, Antonia and Mohamied, Yumnah and Sengupta, Biswa and Bharath, Anil A.},
  journal = {arXiv preprint arXiv:1711.05175},
  year    = {2017}
}
```
"""


def read_rows(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV file with a header; none when the file does not exist."""
    if not path.is_file():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def lookup(data: Any, *keys: str) -> Any:
    """``data[k1][k2]...``, or None where a level is missing or None."""
    for key in keys:
        if not isinstance(data, dict) or data.get(key) is None:
            return None
        data = data[key]
    return data


def shown(value: float | None, fmt: Callable[[float], str] = pct) -> str:
    return NOT_MEASURED if value is None else fmt(value)


def pair(a: float | None, b: float | None) -> str:
    """Two shares "a / b" (off→on / on→off); one "not measured" when neither was."""
    return NOT_MEASURED if a is None and b is None else f"{shown(a)} / {shown(b)}"


def from_validation(row: dict[str, Any], attributes: tuple[str, ...], images: int | None) -> dict[str, Any]:
    """A training validation row (``val.csv`` / ``best/metrics.json``) in ``metrics.json``'s layout."""
    def number(key: str) -> float | None:
        return float(row[key]) if row.get(key) not in (None, "") else None

    return {
        "source": "validation",
        "split": "val",
        "images": images,
        "step": int(row["step"]) if row.get("step") else None,
        "attributes": {a: {"accuracy": number(f"acc_{a}")} for a in attributes},
        "summary": {"accuracy": number("acc_mean")},
        "reconstruction": {"mse": number("rec_mse")},
    }


def train_command(args: dict[str, Any]) -> str:
    """The ``training.train`` command line that ``args.json`` records (options left at defaults omitted)."""
    defaults = vars(train_args(["--data", args["data"], "--out", args["out"]]))
    tokens = ["python", "-m", "training.train", "--data", args["data"], "--out", args["out"]]
    for key, value in args.items():
        if key in ("data", "out", "resume") or value == defaults.get(key) or value in (None, False):
            continue
        flag = "--" + key.replace("_", "-")
        if value is True:
            tokens.append(flag)
        elif isinstance(value, list):
            tokens += [t for v in value for t in (flag, str(v))] if key in APPEND_OPTIONS else [flag, *map(str, value)]
        else:
            tokens += [flag, str(value)]
    return shlex.join(tokens)


def training_run(run: Path) -> dict[str, Any]:
    """The run's arguments, command line, and progress (steps, epochs, wall time) from its files."""
    args_file = run / "args.json"
    if not args_file.is_file():
        raise FileNotFoundError(f"{args_file} not found: --train-run must be a training.train run folder")
    args = json.loads(args_file.read_text())
    val, log = read_rows(run / "val.csv"), read_rows(run / "log.csv")
    last = log[-1] if log else (val[-1] if val else None)
    return {"run": str(run), "args": args, "command": train_command(args), "validation": val,
            "steps": int(last["step"]) if last else 0, "hours": float(last["elapsed_s"]) / 3600 if last else 0.0,
            "epochs_done": int(val[-1]["epoch"]) if val else 0}


def training_section(run: dict[str, Any] | None) -> str:
    if run is None:
        return f"Training run: {NOT_MEASURED} (no run folder was given when this card was written)."
    a = run["args"]
    where = f"{a.get('device', 'cpu')}" + (", bfloat16 autocast" if a.get("bf16") else "")
    return (f"```bash\n{run['command']}\n```\n\n"
            f"Run `{run['run']}` when this card was written: {run['steps']:,} steps of batch "
            f"{a.get('batch_size')} per process, {run['epochs_done']} of {a.get('epochs')} epochs completed, "
            f"{run['hours']:.1f} h of training on {where}. RMSprop, learning rate {a.get('lr')}, seed "
            f"{a.get('seed')}; random horizontal flips; validation on the first {a.get('val_limit')} "
            "validation images after every epoch.")


def evaluation_section(metrics: dict[str, Any] | None, attributes: tuple[str, ...]) -> str:
    """Per-attribute table and headline lines; "not measured" wherever ``metrics`` has no number."""
    if metrics is None:
        return (f"Not measured yet: run `python -m evaluation.evaluate --weights weights --data CELEBA "
                "--out results/NAME`, then regenerate this card with `--metrics results/NAME/metrics.json`.")
    if metrics.get("source") == "validation":
        step = f" at step {metrics['step']:,}" if metrics.get("step") else ""
        n = f"the first {metrics['images']}" if metrics.get("images") else "the"
        intro = (f"Validation during training{step}, on {n} images of CelebA's validation split. The "
                 "independent evaluation (`python -m evaluation.evaluate`: test split, edits judged by a "
                 "separate attribute classifier, identity by dlib) has not been run for this checkpoint.")
    else:
        n_id = metrics.get("identity_images")
        intro = (f"`{metrics.get('command', 'python -m evaluation.evaluate')}`: CelebA {metrics.get('split')} split, "
                 f"{metrics.get('images')} images" + (f" (identity on the first {n_id})" if n_id else "") + ". "
                 "Encoder accuracy: the model's own attribute classifier against CelebA's labels. Edit "
                 "success: share of edited faces an independent attribute judge calls the target value (off→on "
                 "for faces labelled without the attribute, on→off the reverse), in brackets the judge on the "
                 "plain reconstructions. Others kept: the judge's other 39 decisions unchanged. Same person: "
                 "dlib face-recognition distance original→edit under 0.6.")

    def edit(success: float | None, baseline: float | None) -> str:
        return NOT_MEASURED if success is None else f"{pct(success)} ({pct(baseline)})"

    rows = ["| attribute | encoder accuracy | balanced accuracy | edit off→on | edit on→off | others kept "
            "(off→on / on→off) | same person (off→on / on→off) |", "|" + " --- |" * 7]
    for name in attributes:
        a = lookup(metrics, "attributes", name) or {}
        on, off = lookup(a, "edits", "on"), lookup(a, "edits", "off")
        rows.append(f"| {name} | {shown(a.get('accuracy'))} | {shown(a.get('balanced_accuracy'))} | "
                    f"{edit(lookup(on, 'success'), lookup(on, 'baseline'))} | "
                    f"{edit(lookup(off, 'success'), lookup(off, 'baseline'))} | "
                    f"{pair(lookup(on, 'others_kept'), lookup(off, 'others_kept'))} | "
                    f"{pair(lookup(on, 'identity_original', 'same_person'), lookup(off, 'identity_original', 'same_person'))} |")
    s = metrics.get("summary") or {}
    rows.append(f"| **mean** | {shown(s.get('accuracy'))} | {shown(s.get('balanced_accuracy'))} | "
                f"{edit(s.get('edit_success_on'), s.get('edit_baseline_on'))} | "
                f"{edit(s.get('edit_success_off'), s.get('edit_baseline_off'))} | "
                f"{pair(s.get('others_kept_on'), s.get('others_kept_off'))} | "
                f"{pair(s.get('identity_same_on'), s.get('identity_same_off'))} |")
    r, sp = metrics.get("reconstruction") or {}, metrics.get("speed") or {}
    lines = [
        f"- Reconstruction: MSE {shown(r.get('mse'), lambda v: num(v, 4))}, PSNR "
        f"{shown(r.get('psnr'), lambda v: num(v, 2) + ' dB')}, SSIM {shown(r.get('ssim'), num)}.",
        f"- Same person, original→reconstruction: {shown(lookup(metrics, 'identity', 'reconstruction', 'same_person'))}.",
        "- Edits as the app pastes them by default (the original crop plus the edit's change under the "
        f"face mask, its own detail replaced where the edit changes much): edit success {pair(s.get('detail_success_on'), s.get('detail_success_off'))} "
        f"(off→on / on→off), same person {shown(s.get('identity_same_detail'))}.",
        "- Identity scale (dlib on real crops of the model's size, share judged the same person): another photo of the "
        f"same person {shown(lookup(metrics, 'identity', 'reference', 'same_person_pairs', 'same_person'))}, "
        f"a photo of a different person {shown(lookup(metrics, 'identity', 'reference', 'different_people_pairs', 'same_person'))}.",
        "- Speed (encode + decode, one image, CPU): "
        + shown(sp.get("ms_single_image"), lambda v: f"{num(v, 2)} ms (torch threads: {sp.get('threads')})") + ".",
    ]
    return "\n".join([intro, "", *rows, "", *lines])


def eval_results(metrics: dict[str, Any] | None, attributes: tuple[str, ...]) -> list[EvalResult]:
    """The measured numbers (only those) for the card's model-index."""
    if metrics is None:
        return []
    split = metrics.get("split")
    wanted = [(("attributes", a, "accuracy"), CLASSIFICATION, "accuracy", f"{a} accuracy") for a in attributes]
    out = []
    for path, (task, task_name), metric, name in (*wanted, *HEADLINES):
        value = lookup(metrics, *path)
        if value is not None:
            out.append(EvalResult(task_type=task, task_name=task_name, dataset_type=DATASET_ID,
                                  dataset_name=DATASET_NAME, dataset_split=split, metric_type=metric,
                                  metric_name=name, metric_value=round(float(value), 4)))
    return out


def user_level_results(user_level: dict[str, Any] | None) -> list[EvalResult]:
    """The user-level headlines (only those measured) for the card's model-index."""
    if user_level is None:
        return []
    out = []
    for path, name in USER_LEVEL_HEADLINES:
        value = lookup(user_level, *path)
        if value is not None:
            out.append(EvalResult(task_type=EDITING[0], task_name=EDITING[1], dataset_type=DATASET_ID,
                                  dataset_name=DATASET_NAME, dataset_split=user_level.get("split"),
                                  metric_type="accuracy", metric_name=name, metric_value=round(float(value), 4)))
    return out


def load_metrics(path: Path | None, run: dict[str, Any] | None, attributes: tuple[str, ...]) -> dict[str, Any] | None:
    """``--metrics`` (evaluation output or a validation row), else the run's last validation row, else None."""
    val_images = (run["args"].get("val_limit") or None) if run else None
    if path is not None:
        data = json.loads(path.read_text())
        if "user_level" in data and "attributes" not in data:
            raise ValueError(f"{path} is the user-level evaluation's (the card reads it from the checkpoint "
                             "folder itself); --metrics takes python -m evaluation.evaluate's metrics.json")
        return data if "attributes" in data else from_validation(data, attributes, val_images)
    if run and run["validation"]:
        return from_validation(run["validation"][-1], attributes, val_images)
    return None


def parameter_count(*modules: torch.nn.Module) -> str:
    return f"{sum(p.numel() for m in modules for p in m.parameters()):,}"


def ablation_section(ablation: str | None) -> str:
    """``evaluation.ablation``'s ablation.md under its own heading, or nothing."""
    if not ablation:
        return ""
    return ("\n\n### Ablation (the paper's RQ4)\n\nShort runs of the same architecture with one loss term "
            "off, against a full run of the same budget (not this checkpoint):\n\n" + ablation.strip())


def grid_section(grid: str | None) -> str:
    """The evaluation's edit sheet (a file next to the card), or nothing."""
    if not grid:
        return ""
    return ("\n\n### Sample grid\n\n"
            f"![Test faces: each attribute flipped as decoded, then as the photo editor pastes it]({grid})\n\n"
            "Columns: the first test faces (never seen in training). Rows: the originals, their "
            "reconstructions, each attribute flipped as the decoder draws it, then the same flips as the "
            "photo editor pastes them (the original plus the edit's change under the face mask, its own "
            "detail replaced where the edit changes much).")


def load_user_level(weights: Path) -> dict[str, Any] | None:
    """The user-level evaluation's ``metrics.json`` next to the checkpoint, or None if there is none."""
    path = weights / USER_LEVEL_METRICS
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    return data if "user_level" in data else None


def copy_sheets(user_level: dict[str, Any], folder: Path) -> list[tuple[str, str]]:
    """Copy :data:`CARD_SHEETS` from the user-level evaluation's output folder next to the card;
    ``(sheet, file name)`` of each one that is there (copied now or before)."""
    shown_sheets = []
    for name in CARD_SHEETS:
        rel = (user_level.get("sheets") or {}).get(name)
        if not rel:
            continue
        source, target = Path(user_level["out"]) / rel, folder / f"user_level_{name}{Path(rel).suffix}"
        if source.is_file() and not (target.exists() and target.samefile(source)):
            shutil.copyfile(source, target)
        if target.is_file():
            shown_sheets.append((name, target.name))
    return shown_sheets


def user_level_section(user_level: dict[str, Any] | None, sheets: list[tuple[str, str]]) -> str:
    """What a user gets: the user-level table, the z-probe and contact sheets, or how to measure them."""
    heading = "### What a user gets: edits of whole photos\n\n"
    if user_level is None:
        return (heading + "Not measured yet: run `python -m evaluation.user_level --weights WEIGHTS --data CELEBA "
                "--out results/NAME/user_level`, which writes `WEIGHTS/metrics.json`, then regenerate this card.")
    pictures = [f"![{name.replace('_', ' ')}: photo | returned photo]({file})\n" for name, file in sheets]
    probe = user_level.get("z_probe_detail") or {}
    return "\n".join([
        heading.rstrip(), "", f"`{user_level['command']}` ({user_level['minutes']} min; figures from "
        f"`{USER_LEVEL_METRICS}` next to this card).", "", legend(user_level), "", user_level_table(user_level), "",
        "Plain paste and tuned decoders:", "", variants_table(user_level), "",
        "**z-probe (the paper's RQ1).** A fresh MLP and a linear probe fitted on the encoder's identity code "
        "(mu) of part of the split and scored on the rest" + (f" ({probe['fit']} / {probe['scored']} faces)"
                                                              if "fit" in probe else "")
        + ", beside the encoder's own head on the same faces (balanced accuracy; 0.5: z tells nothing):", "",
        z_probe_table(user_level),
        *(["", "Contact sheets (the sample's first faces; photo | returned photo, default paste; under each, "
           "what the judges read and dlib's distance):", "", *pictures] if pictures else [])]).rstrip()


def load_eye_check(weights: Path) -> dict[str, Any] | None:
    """The blind eye check (``evaluation.eye_check``) next to the checkpoint, or None if there is none."""
    path = weights / EYE_CHECK
    return json.loads(path.read_text()) if path.is_file() else None


def eye_check_section(check: dict[str, Any] | None) -> str:
    """The eye's reading of the returned photos beside the judges' on the same faces, or nothing."""
    if check is None:
        return ""
    return ("\n\n### Checked by eye\n\n"
            f"The first {check['faces']} faces of each user-level sample ({check['split']} split), edited through the "
            "whole pipeline, shuffled among the untouched photos of the same faces and rated blind, one attribute at a "
            f"time, by {len(check.get('raters', [])) or 1} rater(s) (`python -m evaluation.eye_check`; figures from "
            "`eye_check.json` next to this card). Where the eye and the judges part, the judges' figure above is not "
            "what a person sees:\n\n" + eye_table(check))


def comparison_section(user_level: dict[str, Any] | None, previous: dict[str, Any] | None, name: str) -> str:
    """This checkpoint's user-level figures beside a previous checkpoint's, or nothing."""
    if user_level is None or previous is None:
        return ""
    ours, theirs = (m.get("judges_sha256", {}).get("strict_judge") for m in (user_level, previous))
    judged = ("" if ours == theirs else
              f" The previous figures were judged by another version of the strict judge ({theirs or 'none'}; this "
              f"checkpoint's: {ours or 'none'}) and its headline rule, so the columns differ in judge as well as in "
              "checkpoint.")
    return (f"### Beside the previous checkpoint ({name})\n\nThe same evaluation (`{previous['command']}`), "
            f"headline success, dlib's same person and the other attributes kept.{judged}\n\n"
            + comparison_table(user_level, previous, ("this", name)) + "\n\n")


def build_card(model: IFcVAEGAN, metrics: dict[str, Any] | None, run: dict[str, Any] | None,
               repo_id: str | None = None, notes: str | None = None, ablation: str | None = None,
               grid: str | None = None, user_level: dict[str, Any] | None = None,
               sheets: list[tuple[str, str]] | None = None, previous: dict[str, Any] | None = None,
               previous_name: str = "previous", eye_check: dict[str, Any] | None = None) -> ModelCard:
    """The model card of a loaded checkpoint: metadata, usage, training, evaluation."""
    cfg = model.config
    results = eval_results(metrics, cfg.attributes) + user_level_results(user_level)
    base = model.generate_model_card().data.to_dict()  # library_name, licence, pipeline tag, tags
    name = MODEL_NAME.format(size=cfg.image_size)
    data = ModelCardData(**{**base, "license_name": LICENSE_NAME, "license_link": LICENSE_LINK,
                            "datasets": [DATASET_ID], "model_name": name,
                            "metrics": sorted({r.metric_type for r in results}) or None,
                            "eval_results": results or None})
    return ModelCard.from_template(
        data, template_str=TEMPLATE, model_name=name, repo_id=repo_id or REPO_ID_EXAMPLE,
        attributes=list(cfg.attributes), z_dim=cfg.z_dim, image_size=cfg.image_size, widths=list(cfg.widths),
        loss_weights=", ".join(f"{k} {v:g}" for k, v in cfg.loss_weights.items()),
        params=parameter_count(model), edit_params=parameter_count(model.encoder, model.decoder),
        training=training_section(run) + (f"\n\n{notes.strip()}" if notes else ""),
        evaluation=comparison_section(user_level, previous, previous_name)
        + user_level_section(user_level, sheets or []) + eye_check_section(eye_check)
        + f"\n\n### The decoded {cfg.image_size} x {cfg.image_size} crops\n\n"
        + evaluation_section(metrics, cfg.attributes) + grid_section(grid) + ablation_section(ablation),
        license_link=LICENSE_LINK)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Write the Hub model card of a checkpoint folder.")
    ap.add_argument("--weights", default="weights", help="checkpoint folder (default: weights)")
    ap.add_argument("--metrics", type=Path, default=None,
                    help="evaluation.evaluate's metrics.json (default: the run's last validation row)")
    ap.add_argument("--train-run", type=Path, default=None, help="the training run folder, e.g. runs/main")
    ap.add_argument("--repo-id", default=None, help=f"Hub id for the usage examples (default: {REPO_ID_EXAMPLE})")
    ap.add_argument("--out", type=Path, default=None, help="where to write the card (default: WEIGHTS/README.md)")
    ap.add_argument("--notes", type=Path, default=None,
                    help="a Markdown file added to the training section (e.g. how this checkpoint was picked)")
    ap.add_argument("--ablation", type=Path, default=None,
                    help="evaluation.ablation's ablation.md, added to the evaluation section")
    ap.add_argument("--grid", type=Path, default=None,
                    help="evaluation.evaluate's edits.png: copied next to the card and shown in it")
    ap.add_argument("--previous", type=Path, default=None,
                    help="the previous checkpoint's user-level metrics.json: its figures are shown beside these")
    ap.add_argument("--previous-name", default="previous", help="what the card calls the previous checkpoint")
    args = ap.parse_args(argv)
    out = args.out or Path(args.weights) / "README.md"
    try:
        model = IFcVAEGAN.load(args.weights)
        run = training_run(args.train_run) if args.train_run else None
        metrics = load_metrics(args.metrics, run, model.attributes)
        notes = args.notes.read_text() if args.notes else None
        ablation = args.ablation.read_text() if args.ablation else None
        if args.grid:
            grid = out.parent / args.grid.name
            if not grid.exists() or not grid.samefile(args.grid):
                shutil.copyfile(args.grid, grid)
        user_level = load_user_level(Path(args.weights))
        sheets = copy_sheets(user_level, out.parent) if user_level else []
        previous = json.loads(args.previous.read_text()) if args.previous else None
        card = build_card(model, metrics, run, args.repo_id, notes, ablation, args.grid and args.grid.name,
                          user_level, sheets, previous, args.previous_name, load_eye_check(Path(args.weights)))
    except (OSError, ValueError, KeyError) as e:  # missing files, bad JSON, unloadable checkpoint
        print(f"model card: {e}", file=sys.stderr)
        return 1
    evaluated = metrics.get("weights") if metrics else None
    if evaluated and Path(evaluated).resolve() != Path(args.weights).resolve():
        print(f"note: the metrics are of {evaluated!r}, the card is for {args.weights!r}", file=sys.stderr)
    card.save(out)
    source = "none" if metrics is None else metrics.get("source", "evaluation")
    print(f"wrote {out} (metrics: {source}, {len(card.data.eval_results or [])} model-index results)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
