"""Old name of ``python -m evaluation.evaluate``."""
raise SystemExit("training.evaluate has moved: use python -m evaluation.evaluate")
