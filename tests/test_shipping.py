"""The three ways of shipping agree with the repository: Docker image, Hugging Face Space, model card.

No Docker engine runs here, so the Dockerfile is checked by reading it: its installs against
requirements.txt, its command against the README's, and the build context against .dockerignore.
"""
import json
import re
import shlex
from pathlib import Path

import pytest
import yaml
from huggingface_hub import ModelCard

from release import model_card
from tests.conftest import REPO

CPU_INDEX = "https://download.pytorch.org/whl/cpu"
CPU_TORCH = ("torch", "torchvision")


def requirements() -> dict[str, str]:
    """requirements.txt as {name: pinned version}; every line must be pinned with ==."""
    pins = {}
    for line in (REPO / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep and version, f"requirements.txt: {line!r} is not pinned with =="
            pins[name.lower()] = version
    return pins


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", "\n".join(line for line in (REPO / "Dockerfile").read_text().splitlines()
                                          if not line.lstrip().startswith("#")))
    return [(m[1].upper(), m[2].strip()) for m in re.finditer(r"^\s*(\w+)\s+(.*)$", text, re.M)]


def instruction(name: str) -> list[str]:
    return [args for inst, args in dockerfile() if inst == name]


def pip_installs() -> list[list[str]]:
    """The argument lists of every ``pip install`` in the Dockerfile's RUN instructions."""
    return [shlex.split(command.split("pip install", 1)[1])
            for run in instruction("RUN") for command in run.split("&&") if "pip install" in command]


def option_value(words: list[str], *names: str) -> str | None:
    return next((words[i + 1] for i, w in enumerate(words[:-1]) if w in names), None)


def package_specs(words: list[str]) -> list[str]:
    """The package arguments of one pip install (options and their values skipped)."""
    with_value = ("--index-url", "-i", "-r", "--requirement", "-c", "--constraint")
    return [w for i, w in enumerate(words) if not w.startswith("-") and (i == 0 or words[i - 1] not in with_value)]


def docker_excluded(path: str) -> bool:
    """Whether Docker leaves ``path`` out of the build context under .dockerignore (last match wins)."""
    excluded = False
    for line in (REPO / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        regex = "".join("(.*/)?" if tok == "**/" else ".*" if tok == "**" else "[^/]*" if tok == "*"
                        else "[^/]" if tok == "?" else re.escape(tok)
                        for tok in re.findall(r"\*\*/|\*\*|\*|\?|[^*?]+", pattern))
        parts = path.split("/")
        if any(re.fullmatch(regex, "/".join(parts[:i])) for i in range(1, len(parts) + 1)):
            excluded = not negate
    return excluded


def readme_front_matter() -> dict:
    text = (REPO / "README.md").read_text()
    assert text.startswith("---\n"), "README.md must start with the Space's YAML front matter"
    return yaml.safe_load(text.split("---\n", 2)[1])


def test_docker_installs_exactly_the_pinned_requirements() -> None:
    pins = requirements()
    installs = pip_installs()
    first_cpu = None
    for i, words in enumerate(installs):
        assert "--extra-index-url" not in words, "an extra index would let pip pick CUDA wheels from PyPI"
        specs = dict(s.partition("==")[::2] for s in package_specs(words))
        for name, version in specs.items():
            assert pins.get(name.lower()) == version, f"Dockerfile installs {name}=={version}, not as pinned"
        if set(specs) & set(CPU_TORCH):
            assert set(specs) == set(CPU_TORCH) and option_value(words, "--index-url") == CPU_INDEX
            first_cpu = i
        if option_value(words, "-r"):
            assert option_value(words, "-r") == "requirements.txt" and not specs
            assert first_cpu is not None and first_cpu < i, "CPU torch must be installed before requirements.txt"
    assert first_cpu is not None and any(option_value(w, "-r") for w in installs)


def test_every_install_has_the_identity_check() -> None:
    """dlib and its model files are runtime requirements, so the Space (requirements.txt) and the image
    (pip install -r requirements.txt) show "Same person?"; the image's build fails if they do not load."""
    pins = requirements()
    assert {"dlib-bin", "face-recognition-models"} <= set(pins)
    dev = [line.split("#")[0].strip() for line in (REPO / "requirements-dev.txt").read_text().splitlines()]
    assert "-r requirements.txt" in dev and not [line for line in dev if "dlib" in line or "face-recognition" in line]
    assert any(option_value(words, "-r") == "requirements.txt" for words in pip_installs())
    assert any("FaceEmbedder()" in run for run in instruction("RUN"))


def test_docker_runs_the_readme_command_as_a_non_root_user() -> None:
    quick_start = (REPO / "README.md").read_text().split("## Quick start", 1)[1]
    block = re.search(r"```bash\n(.*?)```", quick_start, re.S)[1]
    readme_run = next(shlex.split(line, comments=True) for line in block.splitlines() if "app.py" in line)
    assert readme_run == ["python", "app.py"]
    assert [json.loads(c) for c in instruction("CMD")] == [readme_run]
    assert instruction("USER")[-1] not in ("root", "0")
    order = [inst for inst, _ in dockerfile()]
    assert order.index("USER") < order.index("CMD")
    assert instruction("EXPOSE") == ["7860"]
    assert "http://127.0.0.1:7860/" in instruction("HEALTHCHECK")[0]
    assert instruction("FROM")[0].startswith("python:3.11-slim")


def test_docker_environment_serves_on_all_interfaces_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    env = dict(kv.split("=", 1) for e in instruction("ENV") for kv in shlex.split(e))
    assert env["OMP_WAIT_POLICY"] == "PASSIVE" and env["GRADIO_ANALYTICS_ENABLED"] == "False"
    assert env["HF_HUB_OFFLINE"] == "1" and env["HF_HUB_DISABLE_TELEMETRY"] == "1"
    for key in ("GRADIO_SERVER_NAME", "GRADIO_SERVER_PORT"):
        monkeypatch.setenv(key, env[key])
    import app  # the app reads host and port from the environment the image sets

    args = app.parse_args([])
    assert (args.host, args.port) == ("0.0.0.0", 7860)


def test_docker_context_holds_the_app_and_weights_only() -> None:
    needed = ["app.py", "requirements.txt", "model/ifcvae.py", "model/pipeline.py", "weights/config.json",
              "weights/model.safetensors", "examples/portrait.jpg", "model/strict_judge.py",
              "strict_judge/config.json", "strict_judge/model.safetensors"]
    assert not [p for p in needed if docker_excluded(p)]
    left_out = [".git/HEAD", "runs/main/state.pt", "tests/test_model.py", "tests/fixtures/celeba_tiny/list_attr_celeba.txt",
                ".pytest_cache/v/cache/lastfailed", "model/__pycache__/ifcvae.cpython-311.pyc", ".cache/x.npy",
                "judge/model.safetensors", "training/train.py", "evaluation/evaluate.py",
                "evaluation/strict_judge.py", "release/model_card.py",
                "results/weights_v3/user_level_focus/metrics.json", "Dockerfile"]
    assert [p for p in left_out if docker_excluded(p)] == left_out
    # the repository packages app.py imports are in the context
    local = {m for m in re.findall(r"^(?:from|import) (\w+)", (REPO / "app.py").read_text(), re.M)
             if (REPO / m / "__init__.py").is_file()}
    assert local and not [m for m in local if docker_excluded(f"{m}/__init__.py")]


def test_ci_runs_the_readme_test_command() -> None:
    tests = (REPO / "README.md").read_text().split("## Tests", 1)[1]
    readme_command = re.search(r"```bash\n(.*?)```", tests, re.S)[1].strip()
    ci_commands = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()
                   if line.strip() and not line.startswith("#") and not line.startswith(("set ", "cd "))]
    assert ci_commands == [f"exec {readme_command}"]
    assert (REPO / readme_command.split()[0]).stat().st_mode & 0o111, "the README's test command must be executable"


def test_readme_front_matter_makes_a_gradio_space() -> None:
    meta = readme_front_matter()
    assert meta["sdk"] == "gradio" and meta["sdk_version"] == requirements()["gradio"]
    assert meta["app_file"] == "app.py" and (REPO / meta["app_file"]).is_file()
    assert meta["python_version"] == instruction("FROM")[0].split(":")[1].split("-")[0] == "3.11"
    assert meta["title"] and meta["emoji"] and meta["license"]
    assert len(meta.get("short_description", "")) <= 60
    assert meta["models"] and all(re.fullmatch(r"[\w.-]+/[\w.-]+", m) for m in meta["models"])
    assert meta["datasets"] == [model_card.DATASET_ID]


def test_shipped_model_card() -> None:
    card = ModelCard.load(REPO / "weights" / "README.md")
    data = card.data
    assert data.library_name == "ifcvae-gan" and data.tags and data.datasets == [model_card.DATASET_ID]
    assert data.license == "other" and data.license_name and data.license_link
    results = data.eval_results
    assert results and all(isinstance(r.metric_value, (int, float)) for r in results)
    config = json.loads((REPO / "weights" / "config.json").read_text())
    assert {f"{a} accuracy" for a in config["attributes"]} <= {r.metric_name for r in results}
    size = config["image_size"]
    for phrase in ("from_pretrained", "python -m training.train", "## Limitations", f"{size} x {size}",
                   "CelebA's biases", "non-commercial"):
        assert phrase in card.text, phrase
