"""Untrusted checkpoints: pickles are never unpickled, bad configs give clear errors."""
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from model import CheckpointError, IFcVAEGAN, ModelConfig
from tests.app_server import REPO, free_port
from tests.test_hub import fill_hub_cache

SMALL = ModelConfig(widths=(8, 16, 16, 32), z_dim=12, aux_hidden=32)


class Payload:
    """Unpickling this object creates a marker file: proof that the pickle ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def run_app(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``python app.py ARGS`` that is expected to exit (it serves forever otherwise: the timeout fails)."""
    return subprocess.run([sys.executable, "app.py", "--port", str(free_port()), *args], cwd=REPO,
                          env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=180)


def malicious_checkpoint(folder: Path, marker: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(SMALL.to_dict()))
    (folder / name).write_bytes(pickle.dumps(Payload(marker)))


def test_the_payload_really_runs_when_unpickled(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    pickle.loads(pickle.dumps(Payload(marker)))
    assert marker.exists()


@pytest.mark.parametrize("name", ["pytorch_model.bin", "model.pt", "model.ckpt"])
def test_malicious_pickle_in_a_folder_is_never_unpickled(tmp_path: Path, name: str) -> None:
    marker = tmp_path / "pwned"
    malicious_checkpoint(tmp_path / "ckpt", marker, name)
    with pytest.raises(CheckpointError, match="pickle"):
        IFcVAEGAN.load(tmp_path / "ckpt")
    with pytest.raises(CheckpointError, match="pickle"):
        IFcVAEGAN.load(tmp_path / "ckpt" / name)
    with pytest.raises(CheckpointError):
        IFcVAEGAN.from_pretrained(tmp_path / "ckpt")
    assert not marker.exists()


def test_malicious_pickle_in_a_hub_repo_is_never_unpickled(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    malicious_checkpoint(tmp_path / "ckpt", marker, "pytorch_model.bin")
    fill_hub_cache(tmp_path / "hub", "mallory/evil", tmp_path / "ckpt")
    with pytest.raises(CheckpointError, match="safetensors"):
        IFcVAEGAN.load("mallory/evil", cache_dir=tmp_path / "hub")
    assert not marker.exists()


def test_safetensors_disguised_pickle_is_rejected(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    malicious_checkpoint(tmp_path / "ckpt", marker, "model.safetensors")
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        IFcVAEGAN.load(tmp_path / "ckpt")
    assert not marker.exists()


def test_missing_or_broken_config(tmp_path: Path) -> None:
    IFcVAEGAN(SMALL).save_pretrained(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        IFcVAEGAN.load(tmp_path)
    (tmp_path / "config.json").unlink()
    with pytest.raises(CheckpointError, match="no config.json"):
        IFcVAEGAN.load(tmp_path)
    with pytest.raises(CheckpointError):
        IFcVAEGAN.load(tmp_path / "does-not-exist")


def test_wrong_types_in_config(tmp_path: Path) -> None:
    IFcVAEGAN(SMALL).save_pretrained(tmp_path)
    cfg = json.loads((tmp_path / "config.json").read_text())
    cfg["widths"] = "wide"
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError):
        IFcVAEGAN.load(tmp_path)


def test_config_asking_for_terabytes_is_refused_before_any_allocation(tmp_path: Path) -> None:
    """A 300-byte config.json must not make the loader allocate its tensors before checking the file."""
    IFcVAEGAN(SMALL).save_pretrained(tmp_path)
    cfg = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**cfg, "z_dim": 10**12}))  # ~16 PB of weights
    with pytest.raises(CheckpointError, match="does not fit its config.json"):
        IFcVAEGAN.load(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({**cfg, "widths": [8, 16, 16, -32]}))
    with pytest.raises(CheckpointError, match="invalid config"):
        IFcVAEGAN.load(tmp_path)


@pytest.mark.slow
def test_app_given_a_pickle_exits_with_one_line(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    malicious_checkpoint(tmp_path / "ckpt", marker, "model.pt")
    r = run_app(["--weights", str(tmp_path / "ckpt" / "model.pt")])
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.strip().splitlines() == [r.stderr.strip()]  # one line, no traceback
    assert r.stderr.startswith("error: cannot load the model:") and "pickle" in r.stderr
    assert not marker.exists()
