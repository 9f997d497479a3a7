"""The model card command: metadata and numbers come from the files given, missing ones say so."""
import csv
import json
import shlex
from pathlib import Path

import pytest
from PIL import Image
import torch
from huggingface_hub import ModelCard

from model import IFcVAEGAN, ModelConfig
from release import model_card
from training.train import parse_args as train_args

SMALL = ModelConfig(widths=(8, 16, 16, 32), z_dim=12, aux_hidden=32)


def fake_evaluation() -> dict:
    """metrics.json as evaluation/evaluate.py writes it, without the identity and speed sections."""
    edits = {"on": {"success": 0.71, "baseline": 0.12, "others_kept": 0.93},
             "off": {"success": 0.64, "baseline": 0.2, "others_kept": 0.95}}
    attrs = {a: {"accuracy": 0.9 + i / 100, "balanced_accuracy": 0.8 + i / 100, "edits": edits}
             for i, a in enumerate(SMALL.attributes)}
    return {"command": "python -m evaluation.evaluate --weights ckpt --data celeba --out eval", "split": "test",
            "images": 1000, "identity_images": 0, "attributes": attrs,
            "summary": {"accuracy": 0.925, "balanced_accuracy": 0.825, "edit_success": 0.675,
                        "edit_success_on": 0.71, "edit_baseline_on": 0.12, "edit_success_off": 0.64,
                        "edit_baseline_off": 0.2, "identity_same": None, "detail_success": 0.6,
                        "detail_success_on": 0.55, "detail_success_off": 0.65},
            "reconstruction": {"mse": 0.0123, "psnr": 19.1, "ssim": 0.61}}


def write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    """A tiny checkpoint, an evaluation metrics.json and a two-epoch training run folder."""
    torch.manual_seed(0)
    IFcVAEGAN(SMALL).save_pretrained(tmp_path / "ckpt")
    (tmp_path / "ckpt" / "README.md").unlink()  # the mixin's stub card
    (tmp_path / "metrics.json").write_text(json.dumps(fake_evaluation()))
    run = tmp_path / "run"
    run.mkdir()
    args = train_args(["--data", "../shared/celeba", "--out", "runs/x", "--epochs", "3", "--bf16",
                       "--widths", "8", "16", "16", "32", "--weight", "gan=0", "--weight", "aux=0"])
    (run / "args.json").write_text(json.dumps(vars(args), indent=2))
    val = [{"epoch": e, "step": 50 * e, "elapsed_s": 60.0 * e, **{f"acc_{a}": 0.5 + e / 10 for a in SMALL.attributes},
            "acc_mean": 0.5 + e / 10, "rec_mse": 0.05 / e} for e in (1, 2)]
    write_csv(run / "val.csv", val)
    write_csv(run / "log.csv", [{"step": 120, "epoch": 2, "elapsed_s": 7200.0, "img_per_s": 40.0}])
    return {"ckpt": tmp_path / "ckpt", "metrics": tmp_path / "metrics.json", "run": run, "args": vars(args)}


def results(card: ModelCard) -> dict[str, float]:
    return {r.metric_name: r.metric_value for r in card.data.eval_results or []}


def test_card_from_evaluation_and_run(files: dict[str, Path], capsys: pytest.CaptureFixture) -> None:
    assert model_card.main(["--weights", str(files["ckpt"]), "--metrics", str(files["metrics"]),
                            "--train-run", str(files["run"]), "--repo-id", "someone/ifcvae-test"]) == 0
    assert "wrote" in capsys.readouterr().out
    card = ModelCard.load(files["ckpt"] / "README.md")
    assert card.data.library_name == "ifcvae-gan" and card.data.license == "other"
    assert card.data.datasets == [model_card.DATASET_ID] and "face-editing" in card.data.tags
    got = results(card)
    assert got["Smiling accuracy"] == 0.9 and got["Young accuracy"] == 0.95
    assert got["Edit success (independent attribute judge)"] == 0.675 and got["Reconstruction PSNR (dB)"] == 19.1
    assert not any("Same person" in name for name in got)  # identity_same was None: no number invented
    assert {r.dataset_split for r in card.data.eval_results} == {"test"}
    text = card.text
    assert 'IFcVAEGAN.from_pretrained("someone/ifcvae-test")' in text
    assert "| Smiling | 90.0 % | 80.0 % | 71.0 % (12.0 %) | 64.0 % (20.0 %) | 93.0 % / 95.0 % | not measured |" in text
    assert "Speed (encode + decode, one image, CPU): not measured" in text
    assert got["Edit success as pasted by the app (independent judge)"] == 0.6
    assert "edit success 55.0 % / 65.0 % (off→on / on→off), same person not measured" in text
    assert "another photo of the same person not measured, a photo of a different person not measured" in text
    assert "120 steps" in text and "2 of 3 epochs" in text and "2.0 h" in text
    # the training command in the card reproduces the recorded arguments exactly
    command = next(line for line in text.splitlines() if line.startswith("python -m training.train"))
    assert command == ("python -m training.train --data ../shared/celeba --out runs/x --epochs 3 "
                       "--widths 8 16 16 32 --weight gan=0 --weight aux=0 --bf16")
    assert vars(train_args(shlex.split(command)[3:])) == files["args"]
    IFcVAEGAN.load(files["ckpt"])  # the card does not get in the way of loading


def test_card_falls_back_to_last_validation_row(files: dict[str, Path]) -> None:
    out = files["ckpt"].parent / "card.md"
    assert model_card.main(["--weights", str(files["ckpt"]), "--train-run", str(files["run"]), "--out", str(out)]) == 0
    card = ModelCard.load(out)
    got = results(card)
    assert got["Mean attribute accuracy"] == 0.7 and got["Reconstruction MSE"] == 0.025  # epoch 2's row
    assert "Reconstruction PSNR (dB)" not in got and "Edit success (independent attribute judge)" not in got
    assert {r.dataset_split for r in card.data.eval_results} == {"val"}
    assert "Validation during training at step 100, on the first 2000 images" in card.text
    assert f'from_pretrained("{model_card.REPO_ID_EXAMPLE}")' in card.text
    assert not (files["ckpt"] / "README.md").exists()


def test_card_without_any_numbers(files: dict[str, Path]) -> None:
    assert model_card.main(["--weights", str(files["ckpt"])]) == 0
    card = ModelCard.load(files["ckpt"] / "README.md")
    assert card.data.eval_results is None and "model-index" not in card.content
    assert "Not measured yet" in card.text and "Training run: not measured" in card.text
    assert "Ablation" not in card.text


def test_card_carries_the_ablation_table(files: dict[str, Path], tmp_path: Path) -> None:
    table = "Command: `python -m evaluation.ablation --max-steps 9`\n\n| variant | terms off |\n| --- | --- |\n| no_aux | aux |\n"
    (tmp_path / "ablation.md").write_text(table)
    assert model_card.main(["--weights", str(files["ckpt"]), "--metrics", str(files["metrics"]),
                            "--ablation", str(tmp_path / "ablation.md")]) == 0
    text = ModelCard.load(files["ckpt"] / "README.md").text
    evaluation = text[text.index("## Evaluation"):]
    assert "### Ablation (the paper's RQ4)" in evaluation and table.strip() in evaluation


def test_card_shows_the_edit_sheet_copied_next_to_it(files: dict[str, Path], tmp_path: Path) -> None:
    sheet = tmp_path / "eval" / "edits.png"
    sheet.parent.mkdir()
    Image.new("RGB", (20, 10), "red").save(sheet)
    assert model_card.main(["--weights", str(files["ckpt"]), "--metrics", str(files["metrics"]),
                            "--grid", str(sheet)]) == 0
    assert (files["ckpt"] / "edits.png").read_bytes() == sheet.read_bytes()
    text = ModelCard.load(files["ckpt"] / "README.md").text
    assert "### Sample grid" in text and "](edits.png)" in text
    assert text.index("### Sample grid") > text.index("| **mean** |")  # inside the evaluation section
    # already next to the card: regenerating with it is fine and leaves it as it is
    assert model_card.main(["--weights", str(files["ckpt"]), "--grid", str(files["ckpt"] / "edits.png")]) == 0
    assert (files["ckpt"] / "edits.png").read_bytes() == sheet.read_bytes()


def test_card_shows_the_eye_check_next_to_the_checkpoint(files: dict[str, Path]) -> None:
    """eye_check.json beside the checkpoint becomes a section with the eye beside the judges."""
    cell = {"n": 16, "eye": 0.5, "judges": {"strict_judge": 0.875, "judge": 0.8125}}
    check = {"weights": "weights", "split": "test", "seed": 0, "faces": 16, "judges": ["strict_judge", "judge"],
             "ratings": {}, "results": {"Smiling": {"on": cell, "off": {**cell, "eye": 0.9},
                                                   "photos": {"n": 32, "eye_agrees_with_labels": 0.94}}}}
    assert model_card.main(["--weights", str(files["ckpt"])]) == 0
    assert "### Checked by eye" not in ModelCard.load(files["ckpt"] / "README.md").text
    (files["ckpt"] / "eye_check.json").write_text(json.dumps(check))
    assert model_card.main(["--weights", str(files["ckpt"])]) == 0
    text = ModelCard.load(files["ckpt"] / "README.md").text
    section = text[text.index("### Checked by eye"):]
    assert "| Smiling | off → on | 16 | **50.0 %** | 87.5 % | 81.2 % | +31.2 points |" in section
    assert "Smiling 94.0 % of 32" in section


def test_card_refuses_missing_inputs(files: dict[str, Path], capsys: pytest.CaptureFixture) -> None:
    assert model_card.main(["--weights", str(files["ckpt"]), "--train-run", str(files["ckpt"])]) == 1
    assert "args.json not found" in capsys.readouterr().err
    assert model_card.main(["--weights", str(files["run"])]) == 1
    assert "no config.json" in capsys.readouterr().err
    assert not (files["ckpt"] / "README.md").exists()
