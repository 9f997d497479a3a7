"""Loading by Hub id through huggingface_hub's cache, offline; pushing refuses clearly."""
import os
import subprocess
import sys
from pathlib import Path

import torch

from model import IFcVAEGAN, ModelConfig
from tests.conftest import REPO

SMALL = ModelConfig(widths=(8, 16, 16, 32), z_dim=12, aux_hidden=32)


def fill_hub_cache(cache: Path, repo_id: str, folder: Path) -> None:
    """Lay out ``folder`` as huggingface_hub's cache would after a download of ``repo_id``."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snap = repo / "snapshots" / commit
    snap.mkdir(parents=True)
    for f in folder.iterdir():
        (snap / f.name).write_bytes(f.read_bytes())
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)


def test_from_pretrained_by_hub_id_from_offline_cache(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = IFcVAEGAN(SMALL).eval()
    model.save_pretrained(tmp_path / "ckpt")
    fill_hub_cache(tmp_path / "hub", "someone/ifcvae-test", tmp_path / "ckpt")
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    loaded = IFcVAEGAN.load("someone/ifcvae-test", cache_dir=tmp_path / "hub")
    x = torch.rand(2, 3, 64, 64)
    assert torch.equal(loaded.reconstruct(x), model.reconstruct(x))
    assert loaded.config == SMALL


def run_push(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    IFcVAEGAN(SMALL).save_pretrained(tmp_path / "ckpt")
    return subprocess.run([sys.executable, "-m", "release.push_to_hub", "--weights", str(tmp_path / "ckpt"),
                           "--repo-id", "someone/ifcvae-test"], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)


def test_push_refuses_offline(tmp_path: Path) -> None:
    r = run_push(tmp_path, {"HF_HUB_OFFLINE": "1", "HF_TOKEN": "hf_dummy"})
    assert r.returncode == 1
    assert "HF_HUB_OFFLINE" in r.stderr and "Traceback" not in r.stderr


def test_push_refuses_without_token(tmp_path: Path) -> None:
    env = {"HF_HUB_OFFLINE": "0", "HF_HOME": str(tmp_path / "hf"), "HF_TOKEN": ""}
    r = run_push(tmp_path, env)
    assert r.returncode == 1
    assert "no Hugging Face token" in r.stderr and "Traceback" not in r.stderr


def test_push_checks_the_region_editors_that_go_with_it(tmp_path: Path) -> None:
    """A region editor in a sub-folder is validated like the checkpoint and must carry its own card."""
    from model.preprocessing import EDIT_REGIONS

    region = ModelConfig(widths=(8, 16, 16, 32), z_dim=4, aux_hidden=8, attributes=("Eyeglasses",),
                         region=EDIT_REGIONS["eyes"], masked_edit=True)
    IFcVAEGAN(region).save_pretrained(tmp_path / "ckpt" / "eyes")
    (tmp_path / "ckpt" / "eyes" / "README.md").unlink()
    r = run_push(tmp_path, {"HF_HUB_OFFLINE": "1", "HF_TOKEN": "hf_dummy"})
    assert r.returncode == 1 and "eyes lacks ['README.md']" in r.stderr and "Traceback" not in r.stderr
