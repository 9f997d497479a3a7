"""Speed and load scripts (``python -m benchmark.NAME``)."""
import model  # noqa: F401  # first: sets OMP_WAIT_POLICY before anything imports torch
