"""Old name of ``python -m release.push_to_hub``."""
raise SystemExit("training.push_to_hub has moved: use python -m release.push_to_hub")
