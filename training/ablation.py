"""Old name of ``python -m evaluation.ablation``."""
raise SystemExit("training.ablation has moved: use python -m evaluation.ablation")
