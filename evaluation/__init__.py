"""Evaluation of a checkpoint by judges that are not the model: the attribute judge, dlib identity,
metrics and report tables (``python -m evaluation.evaluate``, ``evaluation.judge``, ...)."""
import model  # noqa: F401  # first: sets OMP_WAIT_POLICY before anything imports torch
