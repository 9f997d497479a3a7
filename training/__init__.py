"""Training: CelebA data, the training loop and its sample grids (``python -m training.train``)."""
import model  # noqa: F401  # first: sets OMP_WAIT_POLICY before anything imports torch
