"""Commands that moved out of ``training/`` still answer under their old names, with the new one."""
import subprocess
import sys

import pytest

from tests.conftest import REPO

MOVED = {
    "training.evaluate": "evaluation.evaluate",
    "training.judge": "evaluation.judge",
    "training.identity_blur": "evaluation.identity_blur",
    "training.model_card": "release.model_card",
    "training.push_to_hub": "release.push_to_hub",
    "training.ablation": "evaluation.ablation",
}


@pytest.mark.parametrize("old, new", MOVED.items())
def test_old_command_fails_naming_the_new_one(old: str, new: str) -> None:
    r = subprocess.run([sys.executable, "-m", old, "--help"], cwd=REPO, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 1
    assert f"use python -m {new}" in r.stderr and "Traceback" not in r.stderr
    assert (REPO / (new.replace(".", "/") + ".py")).is_file()
