"""The page assembled from its tabs and the ``/edit`` endpoint, and how it is served (limits, theme,
shutdown)."""
from __future__ import annotations

import signal
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from model.limits import MAX_FILE_BYTES
from model.pipeline import FaceEditor

from .api import edit_endpoint
from .limits import CONCURRENCY_LIMIT, MAX_SESSIONS, QUEUE_SIZE, SESSION_TTL_S
from .live_tab import live_tab
from .photo_tab import photo_tab
from .request_limit import RequestSizeLimit
from .scratch import ScratchFiles
from .url_refusal import UrlRefusingBlocks

TITLE = "Face attribute editor"
INTRO = (f"## {TITLE}\n**Photo:** upload a photo (or take one with the webcam), then toggle an attribute or "
         "drag its intensity; only the face changes, the photo keeps its size. **Live:** stream your webcam and "
         "see the attributes change on your own face as you move.")
# System fonts only: the page loads nothing from outside the server.
THEME = gr.themes.Soft(font=["ui-sans-serif", "system-ui", "sans-serif"],
                       font_mono=["ui-monospace", "monospace"])
CSS = ".attr-row { align-items: center; gap: 0.5rem; } .attr-row .attr-toggle { min-width: 9rem; }"


def build_app(editor: FaceEditor) -> gr.Blocks:
    """The page (the Photo and Live tabs) and the ``/edit`` endpoint around one editor, queued with the
    server's limits."""
    scratch = ScratchFiles()
    with UrlRefusingBlocks(title=TITLE, analytics_enabled=False, delete_cache=(SESSION_TTL_S, SESSION_TTL_S)) as demo:
        gr.Markdown(INTRO)
        with gr.Tabs() as tabs:
            with gr.Tab("Photo", id="photo", elem_id="tab-photo"):
                photo = photo_tab(editor, scratch)
            with gr.Tab("Live", id="live", elem_id="tab-live"):
                live_tab(demo, editor, scratch, photo, tabs)
        gr.api(edit_endpoint(editor, scratch), api_name="edit")
    demo.queue(default_concurrency_limit=CONCURRENCY_LIMIT, max_size=QUEUE_SIZE)
    return demo


def launch(demo: gr.Blocks, host: str, port: int, **options: Any) -> None:
    """Serve ``demo`` with the server's limits and page settings; ``options`` go to ``launch`` as well
    (e.g. ``prevent_thread_lock=True`` to serve from a background thread)."""
    demo.launch(server_name=host, server_port=port, max_file_size=MAX_FILE_BYTES,
                state_session_capacity=MAX_SESSIONS, show_error=True, ssr_mode=False, mcp_server=False,
                pwa=False, footer_links=["api"], theme=THEME, css=CSS,
                app_kwargs={"middleware": [Middleware(RequestSizeLimit)]}, **options)


def serve(demo: gr.Blocks, host: str, port: int) -> None:
    """Serve ``demo`` until Ctrl-C or SIGTERM (``docker stop``), then close it.

    Closing ends open event streams, then the server's shutdown deletes the files Gradio and
    :class:`web.scratch.ScratchFiles` wrote (Gradio's own Ctrl-C handler leaves them when a client is
    connected).
    """
    launch(demo, host, port, prevent_thread_lock=True)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        signal.pause()
    except KeyboardInterrupt:
        demo.close()
