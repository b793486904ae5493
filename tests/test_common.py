"""scikit-learn's estimator checks over every estimator of the package.

Each expected failure carries the reason it cannot pass: the package's estimators take
collections of lip sequences ``(n_clips, T, K, 2)``, not the 2-D ``(n_samples, n_features)``
tables that many generic checks build.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

# (estimator instance, {check name: reason}) for every estimator of the package; each issue
# that adds an estimator adds it here.
ESTIMATORS = []


def _expected_failed_checks(estimator):
    for est, reasons in ESTIMATORS:
        if est is estimator:
            return reasons
    return {}


if ESTIMATORS:

    @parametrize_with_checks(
        [est for est, _ in ESTIMATORS], expected_failed_checks=_expected_failed_checks
    )
    def test_sklearn_compatible(estimator, check):
        check(estimator)
