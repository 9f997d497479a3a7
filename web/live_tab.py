"""The live tab: the browser's webcam streamed to the server, each frame sent back with the attributes
set here, and "Hold frame" to edit the current frame in the photo tab.

The stream is Gradio's streaming image input: the browser sends a JPEG data URL every
LIVE_FRAME_INTERVAL_S, the server edits the newest frame whenever it is free (frames that arrive
meanwhile replace each other, so none queue up) and sends the edit back as a data URL; neither
direction writes a file. The handlers are :class:`web.live_events.LiveStreams`.
"""
from __future__ import annotations

from typing import Callable

import gradio as gr
from gradio.data_classes import ImageData

from model.pipeline import VALUE_RANGE, FaceEditor

from .limits import LIVE_FRAME_INTERVAL_S, LIVE_STREAMS, LIVE_TIME_LIMIT_S
from .live_events import NOT_STARTED, LiveStreams
from .photo_tab import attribute_rows
from .scratch import ScratchFiles

#: The webcam's requested size (the browser may give another; frames are edited at the size sent).
CAMERA_SIZE = (640, 480)
LIVE_HELP = ("Switch an attribute on to set it on your face; its slider sets the intensity (0 absent, "
             f"1 present, {VALUE_RANGE[0]} to {VALUE_RANGE[1]} exaggerates). Every face in view is edited.")
PRIVACY = ("**Privacy:** the frames of your camera are edited in memory and sent straight back to this page. "
           "They are never written to disk or logged, and nothing of the stream is kept once you close the "
           "page. *Hold frame* makes the current frame the photo of the Photo tab, which is kept like an "
           "uploaded photo (deleted after 30 minutes).")


def live_camera() -> gr.Image:
    """The streaming webcam input (frames arrive as numpy arrays, decoded from data URLs in memory)."""
    constraints = {"video": {"width": {"ideal": CAMERA_SIZE[0]}, "height": {"ideal": CAMERA_SIZE[1]}}}
    return gr.Image(label="Camera", sources=["webcam"], streaming=True, type="numpy", elem_id="live-camera",
                    webcam_options=gr.WebcamOptions(mirror=True, constraints=constraints))


def live_view() -> gr.Image:
    """The edited frames. They are given as JPEG data URLs and passed to the page as they are: Gradio's own
    postprocessing would save each frame to a file. (An instance attribute rather than a subclass:
    Gradio writes a .pyi stub beside any module that subclasses a component.)"""
    view = gr.Image(label="Edited live", interactive=False, buttons=["fullscreen"], elem_id="live-view")
    view.postprocess = lambda value: None if value is None else ImageData(url=value)  # type: ignore[method-assign]
    return view


def session_values_forgetter(demo: gr.Blocks, components: list[gr.components.Component]) -> Callable[[str], None]:
    """A function that clears, for one session, the last values Gradio keeps of ``components``
    (it keeps each session's last input and output values in memory, here frames)."""
    def forget(session_id: str) -> None:
        holder = getattr(demo, "state_holder", None)
        state = None if holder is None else holder.session_data.get(session_id)
        if state is not None:
            for component in components:
                state._update_value_in_config(component._id, None)
    return forget


def live_tab(demo: gr.Blocks, editor: FaceEditor, scratch: ScratchFiles, photo: gr.Image, tabs: gr.Tabs) -> None:
    """The live tab's components, in the current Tab context, with their events; "Hold frame" hands
    its frame to ``photo`` and selects the tab with id "photo" of ``tabs``."""
    streams = LiveStreams(editor, scratch)
    with gr.Row(equal_height=False):
        with gr.Column(min_width=300):
            camera = live_camera()
            status = gr.Markdown(NOT_STARTED, elem_id="live-status")
            hold = gr.Button("Hold frame", elem_id="live-hold")
        with gr.Column(min_width=300):
            view = live_view()
    with gr.Row(equal_height=False):
        with gr.Column(min_width=300):
            gr.Markdown(LIVE_HELP)
            toggles, sliders = attribute_rows(editor.attributes, id_prefix="live-", value=1.0)
        with gr.Column(min_width=300):
            gr.Markdown(PRIVACY, elem_id="live-privacy")
    camera.stream(streams.stream, [camera, *toggles, *sliders], [view, status], stream_every=LIVE_FRAME_INTERVAL_S,
                  time_limit=LIVE_TIME_LIMIT_S, concurrency_limit=2 * LIVE_STREAMS, concurrency_id="live",
                  show_progress="hidden", api_visibility="private")
    for toggle, slider in zip(toggles, sliders):  # moving a slider switches its attribute on
        slider.input(None, None, toggle, js="() => true", api_visibility="private")
    hold.click(streams.hold, None, [photo, tabs, status], api_visibility="private")
    demo.unload(streams.unload(session_values_forgetter(demo, [camera, view])))
