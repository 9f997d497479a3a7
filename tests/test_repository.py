"""What the repository tracks stays small and current: the shipped networks' weights, code, and under
results/ only what documents the shipped checkpoint (superseded experiments are in the history, at
commit 4df0332). The Space is uploaded from the tracked files, so it holds no experiment folder either."""
import shlex
import subprocess

import pytest
from huggingface_hub.utils import DEFAULT_IGNORE_PATTERNS, filter_repo_objects

from tests.conftest import REPO

#: Tracked files other than the shipped networks' weights, at most (bytes).
SIZE_LIMIT = 20 * 1000 * 1000
#: The shipped networks, whose ``.safetensors`` (at any depth below them) do not count against the limit:
#: the editor, the evaluation's judge, the strict judge and its parts, and the region editors still in
#: training (``weights/in_training/``, kept for ``--init`` in a later session, never loaded by the app).
SHIPPED_NETWORKS = ("weights/", "judge/", "strict_judge/")
#: Networks in training: tracked so that a later session can go on from them, but neither in the
#: Docker image nor in the Space.
IN_TRAINING = "weights/in_training/"
#: What results/ keeps: the shipped checkpoint's user-level evaluation (with the contact sheets the
#: README shows), eye check, training notes and v1's figures beside it, its training run's logs, and
#: the ablation. Anything else under results/ is an experiment folder.
KEPT_RESULTS = ("results/weights_v3/user_level_focus/", "results/weights_v3/eye_check/",
                "results/weights_v3/training_notes.md", "results/weights_v3/previous_v1_metrics.json",
                "results/v3/README.md", "results/v3/run/", "results/ablation/", "results/regions/")
#: ``--exclude`` of the Space's upload (``hf upload NAME/face-attribute-editor ... --repo-type space``)
#: when no document states the command.
SPACE_EXCLUDES = ("runs/*", "judge/*", "*.pyc", "weights/in_training/*")
#: Files the Space needs: the app, its code, the shipped editor and strict judge, and the README's picture.
SPACE_NEEDS = ("app.py", "requirements.txt", "README.md", "model/pipeline.py", "web/photo_tab.py",
               "weights/config.json", "weights/model.safetensors", "strict_judge/config.json",
               "strict_judge/model.safetensors", "results/weights_v3/user_level_focus/sheets/Eyeglasses_on.jpg")


def tracked() -> list[str]:
    """The repository's tracked files (``git ls-files``) that exist in the working tree."""
    try:
        r = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        pytest.skip("git is not installed")
    if r.returncode != 0:
        pytest.skip(f"not a git checkout: {r.stderr.strip()}")
    return [p for p in r.stdout.split("\0") if p and (REPO / p).is_file()]


def is_shipped_network(path: str) -> bool:
    return path.endswith(".safetensors") and path.startswith(SHIPPED_NETWORKS)


def documented_space_uploads() -> list[list[str]]:
    """The ``--exclude`` patterns of each Space upload command (``hf upload ... --repo-type space``) in the
    README and docs/."""
    commands = []
    for doc in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        if not doc.is_file():
            continue
        for line in doc.read_text().replace("\\\n", " ").splitlines():
            line = line.strip()
            if not line.startswith("hf upload") or "--repo-type space" not in line:
                continue
            words = shlex.split(line, comments=True)
            excludes, i = [], 0
            while i < len(words):
                if words[i] == "--exclude":
                    i += 1
                    while i < len(words) and not words[i].startswith("-"):
                        excludes.append(words[i])
                        i += 1
                elif words[i].startswith("--exclude="):
                    excludes.append(words[i].split("=", 1)[1])
                    i += 1
                else:
                    i += 1
            commands.append(excludes)
    return commands


def space_files(files: list[str], excludes: list[str] | tuple[str, ...]) -> list[str]:
    """What ``hf upload ... --exclude PATTERN ...`` sends of ``files``: huggingface_hub's own filter (fnmatch,
    ``*`` across folders), with its default ignores (``.git``)."""
    return list(filter_repo_objects(files, ignore_patterns=[*excludes, *DEFAULT_IGNORE_PATTERNS]))


def megabytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def test_tracked_files_other_than_the_shipped_networks_fit_the_size_limit() -> None:
    sizes = {p: (REPO / p).stat().st_size for p in tracked() if not is_shipped_network(p)}
    total = sum(sizes.values())
    largest = ", ".join(f"{p} ({megabytes(s)})" for p, s in sorted(sizes.items(), key=lambda x: -x[1])[:5])
    assert total <= SIZE_LIMIT, f"{megabytes(total)} tracked besides the shipped networks; largest: {largest}"


def test_no_checkpoint_under_results() -> None:
    """Checkpoints live in weights/ (and the judges' folders); results/ holds measurements only. The working
    tree counts too: ``hf upload`` and ``git add results`` would take an untracked one along."""
    in_tree = [str(p.relative_to(REPO)) for p in (REPO / "results").rglob("*.safetensors")]
    in_git = [p for p in tracked() if p.startswith("results/") and p.endswith(".safetensors")]
    assert not in_git and not in_tree, in_git + in_tree
    loose = [p for p in tracked() if p.endswith(".safetensors") and not is_shipped_network(p)]
    assert not loose, f"weights outside the shipped networks' folders: {loose}"


def test_results_keeps_only_what_documents_the_shipped_checkpoint() -> None:
    results = [p for p in tracked() if p.startswith("results/")]
    experiments = sorted({"/".join(p.split("/")[:2]) for p in results if not p.startswith(KEPT_RESULTS)})
    assert not experiments, f"experiment folders under results/ (history keeps them at 4df0332): {experiments}"
    assert all(any(p.startswith(k) for p in results) for k in KEPT_RESULTS)


@pytest.mark.parametrize("source", ["default", "documented"])
def test_the_space_gets_the_app_and_no_experiment_folder(source: str) -> None:
    uploads = [list(SPACE_EXCLUDES)] if source == "default" else documented_space_uploads()
    if not uploads:
        pytest.skip("no document states the Space's upload command")
    files = tracked()
    for excludes in uploads:
        sent = space_files(files, excludes)
        missing = [p for p in SPACE_NEEDS if p not in sent]
        assert not missing, f"--exclude {excludes} leaves out what the Space needs: {missing}"
        assert not [p for p in sent if p.startswith("judge/")], "the Space does not need the evaluation's judge"
        experiments = sorted({"/".join(p.split("/")[:2]) for p in sent
                              if p.startswith("results/") and not p.startswith(KEPT_RESULTS)})
        assert not experiments, f"the Space would get experiment folders: {experiments}"
        assert not [p for p in sent if p.startswith("runs/") or p.endswith(".pyc")]
        assert not [p for p in sent if p.startswith(IN_TRAINING)], "networks in training are not for the Space"


def test_networks_in_training_stay_out_of_the_image_and_the_app() -> None:
    from model.pipeline import FaceEditor
    from tests.test_shipping import docker_excluded

    assert docker_excluded(f"{IN_TRAINING}eyes/model.safetensors")
    assert not docker_excluded("weights/eyes/model.safetensors")  # a shipped region editor goes in
    # the app loads region editors from weights/<region>/ only
    assert "in_training" not in {e.name for e in FaceEditor.load(str(REPO / "weights")).regions}

