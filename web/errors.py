"""The message shown to the user when a request cannot be served."""
from __future__ import annotations

import gradio as gr


def user_error(e: Exception | str) -> gr.Error:
    """The message shown to the user; an expected refusal, so no traceback in the server's log."""
    return gr.Error(str(e), print_exception=False)
