"""``model/`` is the library and knows nothing of HTTP: importing every module of it loads neither the
web framework nor the web layer; the web layer (``web/``) is what the app imports, and it needs neither
the evaluation nor dlib. The evaluation's modules import one another without a circle."""
import ast
import json
import subprocess
import sys

from tests.conftest import REPO

#: Imports every module of a package in a fresh interpreter and prints the top-level modules loaded.
PROBE = """
import importlib, json, pkgutil, sys
import {package}
for info in pkgutil.walk_packages({package}.__path__, "{package}."):
    importlib.import_module(info.name)
print(json.dumps(sorted({{name.split(".")[0] for name in sys.modules}})))
"""
WEB = {"gradio", "gradio_client", "starlette", "fastapi", "uvicorn", "web"}


def loaded_by(package: str) -> set[str]:
    r = subprocess.run([sys.executable, "-c", PROBE.format(package=package)], cwd=REPO, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return set(json.loads(r.stdout.splitlines()[-1]))


def test_the_library_loads_no_web_code() -> None:
    assert not loaded_by("model") & WEB


def test_the_web_layer_is_where_gradio_comes_from() -> None:
    assert {"gradio", "starlette", "model"} <= loaded_by("web")


def test_the_app_needs_neither_evaluation_nor_dlib() -> None:
    """The Docker image holds model/ and web/ only: importing them loads neither the evaluation nor the
    training packages, and dlib (installed with requirements.txt, but optional: the app runs without it)
    only when the edit checks are loaded."""
    assert not loaded_by("web") & {"evaluation", "training", "dlib", "face_recognition_models"}


def test_the_evaluation_uses_the_librarys_strict_judge() -> None:
    """One strict judge: its inference is the library's, which the evaluation's training imports."""
    import evaluation.strict_judge as training_side
    import model.strict_judge as library

    for name in ("StrictJudge", "StrictJudgeConfig", "frame_to_input", "REGION", "FRAME_SIZE"):
        assert getattr(training_side, name) is getattr(library, name)


def evaluation_imports() -> dict[str, set[str]]:
    """Each module of ``evaluation/`` -> the modules of ``evaluation/`` it imports, lazy imports included."""
    graph = {}
    for path in sorted((REPO / "evaluation").glob("*.py")):
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "evaluation":
                deps |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("evaluation."):
                deps.add(node.module.split(".")[1])
            elif isinstance(node, ast.Import):
                deps |= {a.name.split(".")[1] for a in node.names if a.name.startswith("evaluation.")}
        graph[path.stem] = deps - {path.stem}
    return graph


def test_the_evaluation_imports_no_circle() -> None:
    """No module of evaluation/ reaches itself through its imports (the painters, shared by the fakes
    report and the strict judge's training, are a module of their own)."""
    graph = evaluation_imports()
    assert {"painters"} <= graph["fakes"] & graph["strict_judge"] and not graph["painters"]

    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for dep in graph.get(todo.pop(), ()):
                if dep not in seen:
                    seen.add(dep)
                    todo.append(dep)
        return seen

    assert not [m for m in graph if m in reach(m)]
    for module in ("strict_judge", "fakes", "painters"):  # each imports alone, in a fresh interpreter
        r = subprocess.run([sys.executable, "-c", f"import evaluation.{module}"], cwd=REPO, capture_output=True,
                           text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-3000:]
