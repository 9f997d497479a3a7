"""Files given as http(s) URLs are refused, never fetched: Gradio would otherwise download them on the
server while preprocessing an event's inputs."""
from __future__ import annotations

from typing import Any

import gradio as gr
from gradio_client.utils import is_file_obj_with_meta, is_http_url_like, traverse

from .errors import user_error

URL_REFUSED = "send the photo itself, not a URL: this server does not download files"


def refuse_urls(data: Any) -> None:
    """Refuse files given as http(s) URLs anywhere in an event's inputs."""
    def check(file: dict) -> dict:
        if is_http_url_like(file["path"]):
            raise user_error(URL_REFUSED)
        return file

    traverse(data, check, is_file_obj_with_meta)


class UrlRefusingBlocks(gr.Blocks):
    """gr.Blocks whose events refuse URL inputs before Gradio's preprocessing would fetch them."""

    async def preprocess_data(self, block_fn: Any, inputs: list[Any], *args: Any, **kwargs: Any) -> Any:
        refuse_urls(inputs)
        return await super().preprocess_data(block_fn, inputs, *args, **kwargs)
