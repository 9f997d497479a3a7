"""Old name of ``python -m evaluation.identity_blur``."""
raise SystemExit("training.identity_blur has moved: use python -m evaluation.identity_blur")
