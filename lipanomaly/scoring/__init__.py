"""From lip clips to scores: the network transformers, the numpy formulas, the scorer.

- :mod:`.formulas`: one numpy function per formula of SPEC section 5 (DRS, ΔE, C, robust
  standardisation, combination, thresholds, conformal p-values, verdicts);
- :mod:`.components`: the network transformers (clips to per-window raw components);
- :mod:`.scorer`: :class:`~lipanomaly.ComponentScorer` (components to clip scores and a
  threshold);
- :mod:`.calibration`: :func:`~lipanomaly.calibrate`, the scoring re-fitted on a user's clips.
"""
