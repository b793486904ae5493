"""Every script in examples/ runs to the end and prints what it promises.

The examples run as users run them (``python examples/x.py``), in a fresh process, with
``LIPANOMALY_QUICK=1``: smaller networks and fewer epochs, so that the test stays fast. A
new example needs an entry here.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# script -> text its output must contain
EXPECTED = {
    "pipeline.py": ["percentile of the scores of its", "AUC, all fakes", "pooled", "BPCER"],
    "grid_search.py": ["best: {", "cross-validated AUC"],
    "baselines.py": ["LFHFVAEDetector (pretrained)", "OCVAEDetector", "features + OneClassSVM"],
    # what a verdict means first, then both outcomes on real clips and a caught fake
    "score_video.py": [
        "the 20th percentile of the scores of its",
        "video_8s_real.mp4 (real): LIVE",
        "result_voice_wav2lip.mp4 (fake, Wav2Lip lip-sync of the one above): SPOOF",
        "lrwp9a.mpg (real, GRID corpus): SPOOF",
        "pushed towards spoof by",
    ],
}


def test_every_example_is_tested():
    assert {p.name for p in EXAMPLES.glob("*.py")} == set(EXPECTED)


@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_example_runs(script, data_dir):
    env = {
        **os.environ,
        # one thread per process, as the in-process tests (conftest): the suite runs two
        # workers on two cores, and a multi-threaded BLAS on many small matrices is slower
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "LIPANOMALY_QUICK": "1",
        "LIPANOMALY_DATA": str(data_dir),
        "PYTHONWARNINGS": "ignore",
        "MPLBACKEND": "Agg",
    }
    run = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        capture_output=True,
        text=True,
        env=env,
        cwd=EXAMPLES.parent,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    for text in EXPECTED[script]:
        assert text in run.stdout
