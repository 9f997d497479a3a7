"""Shared test setup: offline, no spinning threads, and paths to the shipped fixtures."""
import os

# Offline before huggingface_hub or gradio is imported (both read these on import); the model
# package then sets OMP_WAIT_POLICY before torch (model/__init__.py).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

import model  # noqa: E402,F401

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
CELEBA_TINY = FIXTURES / "celeba_tiny"


@pytest.fixture(scope="session")
def celeba_tiny() -> Path:
    """A 12-image CelebA folder in CelebA's own layout (8 train... see list_eval_partition.txt)."""
    return CELEBA_TINY


@pytest.fixture(scope="session")
def weights_dir() -> Path:
    """The checkpoint the app ships with (``weights/``), or $IFCVAE_WEIGHTS when set."""
    path = Path(os.environ.get("IFCVAE_WEIGHTS") or REPO / "weights")
    if not (path / "model.safetensors").is_file():
        pytest.fail(f"no checkpoint (model.safetensors) in {path}; set IFCVAE_WEIGHTS to a checkpoint folder")
    return path


@pytest.fixture(scope="session")
def face_detector():
    """One MTCNN face detector shared by the tests."""
    from model.faces import FaceDetector

    return FaceDetector()


@pytest.fixture(scope="session")
def face_editor(weights_dir: Path, face_detector):
    """One face pipeline (the shipped model + the shared detector) shared by the tests."""
    from model import IFcVAEGAN
    from model.pipeline import FaceEditor

    return FaceEditor(IFcVAEGAN.load(weights_dir), face_detector)


def evaluation_folder(tmp: Path, weights: Path) -> tuple[Path, Path]:
    """In ``tmp``: a copy of the checkpoint ``weights`` (an evaluation writes next to it) and a small
    untrained strict judge with a mouth part (reading Smiling) standing in for strict_judge/; returns
    their folders."""
    import shutil

    import torch

    from evaluation.strict_judge import REGIONS, StrictJudge, StrictJudgeConfig

    copy = tmp / "weights"
    copy.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(weights / name, copy / name)
    torch.manual_seed(0)
    StrictJudge(StrictJudgeConfig(image_size=64, widths=(8, 16), blocks=(1, 1))).save(tmp / "strict")
    StrictJudge(StrictJudgeConfig(image_size=32, widths=(8,), blocks=(1,), attributes=("Smiling",),
                                  region=REGIONS["mouth"])).save(tmp / "strict" / "mouth")
    return copy, tmp / "strict"
