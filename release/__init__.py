"""Publishing a checkpoint: its Hub model card and the upload (``python -m release.model_card``,
``release.push_to_hub``)."""
import model  # noqa: F401  # first: sets OMP_WAIT_POLICY before anything imports torch
