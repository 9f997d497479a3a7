"""The README and docs/ stay true to the repository: the commands they give exist, their links and
pictures resolve, the paths they name are there, and the README stays short.

Each check is a small function over Markdown text, and each is also run on a made-up page with a
known fault, so a check that stopped finding faults would fail here too.
"""
import glob
import importlib.util
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
README_MAX_LINES = 200
#: ``python -m`` modules that are not the repository's own and may be named (tools the tests install).
EXTERNAL_MODULES = {"pytest", "pip"}
#: Top-level folders of the repository whose paths, named in backticks, must exist.
TRACKED_ROOTS = ("benchmark", "docs", "evaluation", "examples", "judge", "model", "release", "results",
                 "scripts", "strict_judge", "tests", "training", "web", "weights")


def pages() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def page_ids() -> list[str]:
    return [str(p.relative_to(REPO)) for p in pages()]


def body(text: str) -> str:
    """The Markdown after a leading YAML front matter block."""
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        assert end != -1, "front matter without its closing ---"
        return text[end + len("\n---\n"):]
    return text


def prose(text: str) -> str:
    """The text outside fenced code blocks and inline code (where links are links)."""
    text = re.sub(r"^(```|~~~).*?^\1[^\n]*$", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


# -- python -m MODULE ------------------------------------------------------------------------------

def named_modules(text: str) -> set[str]:
    """Every module run with ``python -m`` (or ``torchrun ... -m``) in the text, code blocks included."""
    found = set(re.findall(r"\bpython3?\s+-m\s+([A-Za-z_][\w.]*)", text))
    found |= set(re.findall(r"\btorchrun\b[^\n`]*?\s-m\s+([A-Za-z_][\w.]*)", text))
    return found


def module_file(module: str, root: Path = REPO) -> Path | None:
    """The file ``python -m module`` runs from the repository root, or None."""
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__main__.py"):
        if candidate.is_file():
            return candidate
    return None


def missing_modules(text: str, root: Path = REPO) -> list[str]:
    return sorted(m for m in named_modules(text)
                  if module_file(m, root) is None
                  and not (m in EXTERNAL_MODULES and importlib.util.find_spec(m) is not None))


def named_scripts(text: str) -> set[str]:
    """Every ``python path/to/file.py`` in the text."""
    return set(re.findall(r"\bpython3?\s+((?:[\w.-]+/)*[\w-]+\.py)\b", text))


# -- links and pictures ----------------------------------------------------------------------------

def link_targets(text: str) -> list[str]:
    """Targets of Markdown links and images (inline and reference style) and of HTML src/href."""
    text = prose(text)
    targets = re.findall(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)", text)
    targets += re.findall(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$", text, re.M)
    targets += re.findall(r"""\b(?:src|href)\s*=\s*["']([^"']+)["']""", text)
    return targets


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    heading = re.sub(r"`|\*\*?|__", "", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", heading).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """The anchors of a page's headings (outside code blocks, where ``# comment`` is no heading)."""
    text = re.sub(r"^(```|~~~).*?^\1[^\n]*$", "", text, flags=re.S | re.M)
    return {slug(h) for h in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.M)}


def ignored(path: Path) -> bool:
    """Whether git ignores the path (so it would not be in a clone); False without git."""
    try:
        r = subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=REPO, capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0


def broken_links(page: Path, text: str | None = None) -> list[str]:
    """The link and image targets of a page that do not resolve to a file or folder in the repository
    (or to a heading of the page they point into)."""
    text = page.read_text() if text is None else text
    broken = []
    for target in link_targets(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("//"):
            continue  # http:, https:, mailto:, ...
        path_part, _, anchor = target.partition("#")
        path_part = path_part.split("?")[0]
        if not path_part:  # a heading of this page
            if anchor not in anchors(text):
                broken.append(target)
            continue
        resolved = (page.parent / path_part).resolve()
        if not resolved.is_relative_to(REPO) or not resolved.exists() or ignored(resolved):
            broken.append(target)
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved.read_text()):
            broken.append(target)
    return broken


# -- repository paths named in backticks -----------------------------------------------------------

def missing_paths(text: str, root: Path = REPO) -> list[str]:
    """Repository paths in inline code (`results/...`, `model/paste.py`) that do not exist. Lines that
    name a commit to check out (``git checkout 4df0332 -- ...``, ``4df0332:results/...``) speak of the
    history and are skipped, as are placeholders in capitals (``results/NAME``)."""
    missing = []
    roots = "|".join(TRACKED_ROOTS)
    for line in text.splitlines():
        if re.search(r"\bgit\b.*\b[0-9a-f]{7,40}\b|\b[0-9a-f]{7,40}\b.*\bgit\b|\b[0-9a-f]{7,40}:", line):
            continue
        for token in re.findall(r"`([^`\s]+)`", line):
            if not re.fullmatch(rf"(?:{roots})/[\w./*-]*", token) or re.search(r"[A-Z]{3,}", token):
                continue
            if not glob.glob(str(root / token.rstrip("/"))):
                missing.append(token)
    return missing


# -- the checks on the real pages ------------------------------------------------------------------

@pytest.mark.parametrize("page", pages(), ids=page_ids())
def test_every_python_m_module_exists(page: Path) -> None:
    assert not missing_modules(page.read_text()), f"{page.name} runs modules that are not in the repository"


@pytest.mark.parametrize("page", pages(), ids=page_ids())
def test_every_python_script_exists(page: Path) -> None:
    missing = [s for s in named_scripts(page.read_text()) if not (REPO / s).is_file()]
    assert not missing, f"{page.name} runs scripts that are not in the repository: {missing}"


@pytest.mark.parametrize("page", pages(), ids=page_ids())
def test_every_link_and_picture_resolves(page: Path) -> None:
    assert not broken_links(page), f"{page.name}: broken links {broken_links(page)}"


@pytest.mark.parametrize("page", pages(), ids=page_ids())
def test_every_named_repository_path_exists(page: Path) -> None:
    missing = missing_paths(page.read_text())
    assert not missing, f"{page.name} names paths that are not in the repository: {missing}"


def test_readme_is_short() -> None:
    lines = body((REPO / "README.md").read_text()).splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines after its front matter"


def test_readme_shows_a_picture_and_links_the_docs_index() -> None:
    text = body((REPO / "README.md").read_text())
    assert re.search(r"!\[[^\]]*\]\([^)]+\.(?:jpg|png)\)", text), "the README shows no picture"
    assert "docs/README.md" in link_targets(text)


def test_docs_index_links_every_page() -> None:
    index = REPO / "docs" / "README.md"
    linked = {(index.parent / t.partition("#")[0]).resolve() for t in link_targets(index.read_text())}
    unlinked = [p.name for p in sorted((REPO / "docs").glob("*.md")) if p != index and p.resolve() not in linked]
    assert not unlinked, f"docs/README.md does not link {unlinked}"


def test_every_page_is_linked_from_somewhere() -> None:
    all_linked = set()
    for page in pages():
        all_linked |= {(page.parent / t.partition("#")[0]).resolve() for t in link_targets(page.read_text())
                       if not re.match(r"^[a-z][a-z0-9+.-]*:", t, re.I)}
    orphans = [p.name for p in pages()[1:] if p.resolve() not in all_linked]
    assert not orphans, f"pages no other page links: {orphans}"


# -- the checks catch what they are for ------------------------------------------------------------

SAMPLE = """---
title: x
---
# Sample

Run `python -m training.train --data d` and `python -m training.no_such_module`, then
`torchrun --nproc_per_node 2 -m evaluation.gone` and `python -m pytest -q` and `python app.py`
and `python missing_script.py`.

![a picture that is there](docs/live_tab.png) ![one that is not](docs/no_such_picture.png)
[a page](docs/README.md), [a folder](results/ablation/), [gone](results/v2/README.md),
[a page's heading](docs/model.md#every-loss-term), [no such heading](docs/model.md#no-such-heading),
[web](https://example.com/x.png), [mail](mailto:a@b.c), [here](#sample), [nowhere](#nowhere),
[ignored](runs/x) <img src="docs/nope.png">

[ref]: examples/not_there.jpg

```bash
ls [not a link](not/a/link.md)
```

Paths: `model/paste.py`, `results/weights_v3/user_level_focus/sheets/*.jpg`, `results/v5_128/`,
`results/NAME/eye_check`, `edited/`.
Gone from the tree but named with its commit: `git checkout 4df0332 -- results/v5_128`.
"""


def test_the_checks_find_faults_in_a_sample_page() -> None:
    page = REPO / "SAMPLE.md"  # never written: the checks read the text given
    assert missing_modules(SAMPLE) == ["evaluation.gone", "training.no_such_module"]
    assert named_scripts(SAMPLE) == {"app.py", "missing_script.py"}
    assert sorted(broken_links(page, SAMPLE)) == sorted([
        "docs/no_such_picture.png", "results/v2/README.md", "docs/model.md#no-such-heading",
        "#nowhere", "runs/x", "docs/nope.png", "examples/not_there.jpg"])
    assert missing_paths(SAMPLE) == ["results/v5_128/"]
    assert len(body(SAMPLE).splitlines()) == len(SAMPLE.splitlines()) - 3


def test_module_resolution() -> None:
    assert module_file("training.train") == REPO / "training" / "train.py"
    assert module_file("model") == REPO / "model" / "__main__.py"
    assert module_file("model.no_such_module") is None
    assert module_file("web") is None  # a package without __main__ cannot be run


def test_slugs_follow_github() -> None:
    assert slug("z-probe (RQ1)") == "z-probe-rq1"
    assert slug("The app's identity check") == "the-apps-identity-check"
    assert slug("Every loss term") == "every-loss-term"
    assert slug("The decoded crops: `evaluation.evaluate`") == "the-decoded-crops-evaluationevaluate"
