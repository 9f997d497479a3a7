"""A region editor's model card: written from its files, with "not measured" where none reports."""
import json
import shutil
from pathlib import Path

import torch
from huggingface_hub import ModelCard

from model import IFcVAEGAN, ModelConfig
from model.preprocessing import EDIT_REGIONS
from release.region_card import main
from tests.conftest import REPO
from training.train import parse_args


def region_folder(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    cfg = ModelConfig(widths=(8, 16, 16, 32), z_dim=4, aux_hidden=8, attributes=("Eyeglasses",),
                      region=EDIT_REGIONS["eyes"], masked_edit=True, loss_weights={"mask": 300.0})
    IFcVAEGAN(cfg).save_pretrained(tmp_path / "weights" / "eyes")
    return tmp_path / "weights" / "eyes"


def test_card_from_run_composition_and_previous(tmp_path: Path) -> None:
    eyes = region_folder(tmp_path)
    run = tmp_path / "run"
    run.mkdir()
    args = vars(parse_args(["--data", "CELEBA", "--out", "runs/eyes", "--region", "eyes", "--masked-edit",
                            "--weight", "mask=300"]))
    (run / "args.json").write_text(json.dumps(args))
    (run / "log.csv").write_text("step,epoch,elapsed_s\n1200,1,3600.0\n")
    (run / "val.csv").write_text("epoch,step,acc_Eyeglasses,acc_mean,edit_Eyeglasses,mask_Eyeglasses,probe_Eyeglasses\n"
                                 "1,1200,0.97,0.97,0.83,0.041,0.55\n")
    shutil.copy(REPO / "weights" / "metrics.json", tmp_path / "weights" / "metrics.json")
    previous = tmp_path / "previous"
    previous.mkdir()
    shutil.copy(REPO / "weights" / "metrics.json", previous / "metrics.json")
    shutil.copy(REPO / "weights" / "eye_check.json", previous / "eye_check.json")
    (tmp_path / "notes.md").write_text("## Levers\n\n| lever | result |\n| --- | --- |\n| mask warm-up | kept |\n")
    assert main(["--weights", str(eyes), "--train-run", str(run), "--previous", str(previous),
                 "--notes", str(tmp_path / "notes.md")]) == 0
    text = ModelCard.load(eyes / "README.md").text
    assert "(25, 80, 153, 144), a 128 x 64 image" in text
    assert "--region eyes --masked-edit" in text and "--weight mask=300" in text
    assert "| Eyeglasses | 97.0 % | 83.0 % | 4.1 % | 55.0 % |" in text
    shipped = json.loads((REPO / "weights" / "metrics.json").read_text())["user_level"]["Eyeglasses"]["off"]
    # this composition: no eye check yet; the previous one's eye figure comes from its file
    row = next(line for line in text.splitlines() if line.startswith("| Eyeglasses | on → off"))
    eye = json.loads((REPO / "weights" / "eye_check.json").read_text())["results"]["Eyeglasses"]["off"]
    assert row.startswith("| Eyeglasses | on → off | not measured | not measured | ")
    assert f"{100 * shipped['success']:.1f} %" in row and f"| {100 * eye['eye']:.1f} % |" in row
    assert "| mask warm-up | kept |" in text and "thin frames are filled" in text


def test_card_without_figures_says_how_to_measure(tmp_path: Path) -> None:
    eyes = region_folder(tmp_path)
    assert main(["--weights", str(eyes)]) == 0
    text = ModelCard.load(eyes / "README.md").text
    assert "Training run: not measured" in text and "Not measured yet" in text
    assert main(["--weights", str(REPO / "weights")]) == 1  # the whole-face model is not a region editor
