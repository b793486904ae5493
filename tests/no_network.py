"""A detector that needs no network: what a model without torch looks like to the command.

The command must score with such a model without importing torch or skorch (the cold start
of a verdict that does not need the network). Its score is how far a window's lip speed lies
from the live clips' median, in log units: real lip motion, numpy only.
"""

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin

from lipanomaly.scoring.formulas import conformal_p_values
from lipanomaly.signal.windows import make_windows


class LipSpeedDetector(OutlierMixin, BaseEstimator):
    """-|log mean lip speed of a window - its median over live windows|, mean per clip."""

    def __init__(self, window=64, stride=16, contamination=0.2):
        self.window = window
        self.stride = stride
        self.contamination = contamination

    def _window_scores(self, X):
        w, clip_index, starts = make_windows(list(X), length=self.window, stride=self.stride)
        speed = np.log(np.abs(np.diff(w, axis=1)).mean(axis=(1, 2, 3)) + 1e-9)
        return speed, clip_index, starts

    def fit(self, X, y=None):
        speed, _, _ = self._window_scores(X)
        self.center_ = float(np.median(speed))
        self.validation_scores_ = self.score_samples(X)
        self.offset_ = float(np.percentile(self.validation_scores_, 100 * self.contamination))
        return self

    def score_with_windows(self, X):
        speed, clip_index, starts = self._window_scores(X)
        window_scores = -np.abs(speed - self.center_)
        dtype = [("start", np.int64), ("stop", np.int64), ("score", np.float64)]
        scores, windows = [], []
        for i, clip in enumerate(X):
            keep = clip_index == i
            w = np.empty(int(keep.sum()), dtype=dtype)
            w["start"], w["score"] = starts[keep], window_scores[keep]
            w["stop"] = np.minimum(starts[keep] + self.window, len(clip))
            scores.append(window_scores[keep].mean())
            windows.append(w)
        return np.asarray(scores, dtype=np.float64), windows

    def score_samples(self, X):
        return self.score_with_windows(X)[0]

    def decision_function(self, X):
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        return np.where(self.decision_function(X) >= 0, 1, -1)

    def p_values_of(self, scores):  # the package's detectors' (what the command reads)
        return conformal_p_values(scores, self.validation_scores_)

    def get_fitted_state(self):
        fitted = {"center_": self.center_, "offset_": self.offset_}
        return fitted, {"validation_scores_": self.validation_scores_}

    def set_fitted_state(self, fitted, arrays):
        self.center_, self.offset_ = fitted["center_"], fitted["offset_"]
        self.validation_scores_ = np.asarray(arrays["validation_scores_"])
        return self
