"""Quality metrics: feature extractors (features.py) and pure functions of features (scores.py)."""
