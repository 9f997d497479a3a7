"""Which checkpoint the app loads by default, and the one-line message when it cannot load it."""
from pathlib import Path

import pytest

from model import pipeline
from model.pipeline import DEFAULT_HUB_ID, WEIGHTS_ENV, default_weights
from tests.test_shipping import readme_front_matter
from tests.test_untrusted_weights import run_app


def test_default_is_the_env_var_then_weights_then_the_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    monkeypatch.setattr(pipeline, "SHIPPED_WEIGHTS", tmp_path)
    assert default_weights() == DEFAULT_HUB_ID  # no weights/config.json
    (tmp_path / "config.json").write_text("{}")
    assert default_weights() == str(tmp_path)
    monkeypatch.setenv(WEIGHTS_ENV, "someone/other-checkpoint")
    assert default_weights() == "someone/other-checkpoint"


def test_the_space_names_the_default_hub_checkpoint() -> None:
    assert DEFAULT_HUB_ID in readme_front_matter()["models"]


def one_line_error(r) -> str:
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.strip().splitlines() == [r.stderr.strip()] and r.stderr.startswith("error: "), r.stderr
    return r.stderr


@pytest.mark.slow
def test_app_offline_without_the_hub_checkpoint_says_so(tmp_path: Path) -> None:
    r = run_app([], {WEIGHTS_ENV: DEFAULT_HUB_ID, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1"})
    message = one_line_error(r)
    assert DEFAULT_HUB_ID in message and "HF_HUB_OFFLINE" in message and "not in the local cache" in message
    assert str(tmp_path / "hf") in message


@pytest.mark.slow
def test_app_with_an_empty_checkpoint_folder_says_so(tmp_path: Path) -> None:
    r = run_app([], {WEIGHTS_ENV: str(tmp_path)})
    assert "no config.json in" in one_line_error(r)
