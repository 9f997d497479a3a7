"""Web app: upload a photo, toggle face attributes, download the edited photo.

    python app.py [--host 127.0.0.1] [--port 7860] [--weights weights]

The host and port may also come from $GRADIO_SERVER_NAME and $GRADIO_SERVER_PORT, the checkpoint
(a folder or a Hugging Face Hub id) from $IFCVAE_WEIGHTS. Each edit is checked by the strict judge
($IFCVAE_STRICT_JUDGE, else strict_judge/) and by dlib's identity check where dlib is installed;
a check that cannot be loaded is left out with a log line. Besides the page, the named endpoint
``/edit`` serves ``gradio_client``. This file only assembles: the editing is :mod:`model.pipeline`,
the page, the endpoint and the server's limits are the :mod:`web` package.
"""
import argparse
import os
import sys

from model import CheckpointError
from model.pipeline import WEIGHTS_ENV, FaceEditor, default_weights
from web.server import build_app, serve


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="Serve the face attribute editor.")
    ap.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                    help="address to listen on (default: $GRADIO_SERVER_NAME or 127.0.0.1)")
    ap.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
                    help="port (default: $GRADIO_SERVER_PORT or 7860)")
    ap.add_argument("--weights", default=None,
                    help=f"checkpoint folder or Hugging Face Hub id (default: ${WEIGHTS_ENV}, else weights/)")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        editor = FaceEditor.load(args.weights or default_weights(), checks=True)
    except CheckpointError as e:
        sys.exit(f"error: cannot load the model: {e}")
    serve(build_app(editor), args.host, args.port)


if __name__ == "__main__":
    main()
