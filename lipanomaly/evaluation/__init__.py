"""Measuring a detector: metrics and plots, a leak-free protocol, pseudo-spoofs.

- :mod:`.metrics`: clip-level metrics with bootstrap intervals, and their plots;
- :mod:`.protocol`: folds by source and by family that cannot leak;
- :mod:`.spoofs`: seeded pseudo-spoofs of real clips, for model selection on real clips only.
"""
