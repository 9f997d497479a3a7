"""The web layer: the Gradio page and the ``/edit`` endpoint around one :class:`model.pipeline.FaceEditor`.

- ``server.py``: the page assembled from its tabs and the endpoint, and how it is served
- ``photo_tab.py``: the photo tab's panels and how their events are wired
- ``photo_events.py``: what the photo tab's events do (analyse a photo once, redraw each edit)
- ``live_tab.py``: the live tab (webcam stream, its controls, "Hold frame")
- ``live_events.py``: what the live tab's events do (edit each frame of a stream, drop its state with its session)
- ``api.py``: the ``/edit`` endpoint for ``gradio_client``
- ``limits.py``: the server's limits (time per request, queue, sessions, request size)
- ``request_limit.py``: ASGI middleware that refuses oversized request bodies
- ``url_refusal.py``: files given as URLs are refused, never fetched
- ``scratch.py``: where the edited photos are written
- ``errors.py``: the message shown to the user

Importing it imports :mod:`model` first (its environment defaults go before torch and
huggingface_hub), then sets Gradio's own before any module here imports Gradio.
"""
import os

import model  # noqa: F401  # first: the library's environment defaults

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
