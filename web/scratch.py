"""Where the edited photos are written: PNG files in Gradio's cache folder, served without a copy and
deleted with Gradio's own files (``delete_cache``, and all of them at shutdown)."""
from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

import numpy as np
from gradio.utils import get_upload_folder

from model.images import save_png

NAME_CHARS = 64  # an output file is named after the upload's first NAME_CHARS characters


class ScratchFiles:
    """A private folder in Gradio's cache for the edited photos, removed when the process exits."""

    def __init__(self) -> None:
        cache = Path(get_upload_folder())
        cache.mkdir(parents=True, exist_ok=True)
        self._tmp = tempfile.TemporaryDirectory(prefix="ifcvae-", dir=cache)  # removed at exit
        self.root = Path(self._tmp.name)

    def png(self, image: np.ndarray, name: str) -> str:
        """Write ``image`` as ``<name>-edited-<random>.png``; returns its path."""
        path = self.root / f"{name[:NAME_CHARS]}-edited-{uuid.uuid4().hex[:8]}.png"
        save_png(image, path)
        return str(path)
