"""The scores of lipanomaly 0.3, before the detector was split into a network and a scorer.

``tests/data/reference_scores_0.3.npz`` holds what the 0.3 code gave for tiny networks fitted
on the ``lips`` fixture's clips (random_state 0): clip scores, thresholds, every component
per clip and the validation split, for the default detector, the linear combination with
every weight non-zero, and the OC-FakeDect baseline (0.5 changed the default scoring and
added components: the cases name 0.3's scoring, and the components compared are 0.3's).
The same seed must give the same network and the same scores (bit for bit on the machine
that wrote the file; the tolerance allows another CPU's float rounding).

``tests/data/pretrained_demo_scores.npz`` holds the scores of the two shipped pretrained
models on the bundled demo clips: a restructuring must keep them bit for bit.
"""

from pathlib import Path

import numpy as np
import pytest
from tiny import LFHF, OCVAE

from lipanomaly import LFHFVAEDetector, OCVAEDetector

pytestmark = pytest.mark.slow

REFERENCE = Path(__file__).parent / "data" / "reference_scores_0.3.npz"
# 0.3's default scoring (DRS, two-sided), the default until 0.5
CASES = {
    "lfhf": lambda: LFHFVAEDetector(**LFHF, components=("drs",), sides="both"),
    "lfhf_linear": lambda: LFHFVAEDetector(
        **LFHF,
        combination="linear",
        alpha=2.0,
        beta=0.5,
        gamma=-1.0,
        rmse_coef=0.3,
        latent_coef=0.2,
    ),
    "oc": lambda: OCVAEDetector(**OCVAE),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_scores_of_version_0_3(lips, case):
    ref = np.load(REFERENCE)
    X = lips["test"] + lips["fake"]
    det = CASES[case]().fit(lips["train"])
    np.testing.assert_array_equal(det.network_.validation_index_, ref[f"{case}.validation_index"])
    tol = {"rtol": 1e-6, "atol": 1e-9}
    np.testing.assert_allclose(det.score_samples(X), ref[f"{case}.score_samples"], **tol)
    assert det.offset_ == pytest.approx(float(ref[f"{case}.offset"]), rel=1e-6)
    components = det.score_components(X)
    for name in [k.split(".comp.")[1] for k in ref.files if k.startswith(f"{case}.comp.")]:
        # the components 0.3 had (0.5 adds the relative errors)
        np.testing.assert_allclose(components[name], ref[f"{case}.comp.{name}"], **tol)


# -- the pretrained models on the bundled demo: bit for bit ---------------------------------

PRETRAINED_REFERENCE = Path(__file__).parent / "data" / "pretrained_demo_scores.npz"


@pytest.mark.parametrize("name", ["lfhf", "face"])
def test_pretrained_scores_on_the_bundled_demo(name):
    """The shipped models score the bundled demo clips exactly as before (a refactoring
    changes no bit). ``tests/data/pretrained_demo_scores.npz`` was written by the code of
    0.5 (issue 22) from ``load_pretrained(name).score_samples(load_demo().tracks)`` with one
    torch thread, as the tests run (more threads add in another order)."""
    from lipanomaly import load_pretrained
    from lipanomaly.io.datasets import load_demo

    ref = np.load(PRETRAINED_REFERENCE)
    pipe = load_pretrained(name)
    np.testing.assert_array_equal(
        pipe.score_samples(load_demo().tracks), ref[f"{name}.score_samples"]
    )
    assert pipe[-1].offset_ == float(ref[f"{name}.offset"])
