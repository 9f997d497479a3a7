"""Old name of ``python -m release.model_card``."""
raise SystemExit("training.model_card has moved: use python -m release.model_card")
