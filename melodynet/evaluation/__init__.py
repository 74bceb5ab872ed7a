"""Evaluation: scores on training and held-out songs, baselines, musical statistics."""
