"""Environment defaults live in one place: importing ``model`` (or any package that can be an entry
point) sets them before torch or huggingface_hub is imported."""
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

#: Records each variable's value at the moment the module that reads it is first imported.
PROBE = """
import json, os, sys
WATCHED = {"torch": "OMP_WAIT_POLICY", "huggingface_hub": "HF_HUB_DISABLE_TELEMETRY"}
seen = {}
class Watch:
    def find_spec(self, name, path=None, target=None):
        if name in WATCHED and name not in seen:
            seen[name] = os.environ.get(WATCHED[name])
        return None
sys.meta_path.insert(0, Watch())
import {package}
print(json.dumps(seen))
"""

ENTRY_PACKAGES = ("model", "training", "evaluation", "release", "benchmark")


def seen_on_import(package: str, **env: str) -> dict[str, str | None]:
    """The watched variables as torch and huggingface_hub saw them when ``package`` was imported in
    a fresh interpreter whose environment has neither variable unless given in ``env``."""
    clean = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "HF_HUB_DISABLE_TELEMETRY")}
    r = subprocess.run([sys.executable, "-c", PROBE.replace("{package}", package)], cwd=REPO,
                       env={**clean, **env}, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.splitlines()[-1])


@pytest.mark.parametrize("package", ENTRY_PACKAGES)
def test_importing_a_package_sets_the_defaults_before_torch(package: str) -> None:
    assert seen_on_import(package) == {"torch": "PASSIVE", "huggingface_hub": "1"}


def test_a_value_set_by_the_user_is_kept() -> None:
    assert seen_on_import("model", OMP_WAIT_POLICY="ACTIVE")["torch"] == "ACTIVE"
