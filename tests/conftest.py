"""Shared test setup: offline, no spinning threads, and paths to the shipped fixtures."""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
CELEBA_TINY = FIXTURES / "celeba_tiny"


@pytest.fixture(scope="session")
def celeba_tiny() -> Path:
    """A 12-image CelebA folder in CelebA's own layout (8 train... see list_eval_partition.txt)."""
    return CELEBA_TINY
