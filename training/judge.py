"""Old name of ``python -m evaluation.judge``."""
raise SystemExit("training.judge has moved: use python -m evaluation.judge")
