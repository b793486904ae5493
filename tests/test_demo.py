"""The demo with the pretrained model: its table and report read without contradiction."""

import re

import numpy as np
import pytest

import lipanomaly
from lipanomaly.app.demo import run_demo
from lipanomaly.app.report import prepare_report_folder, write_demo_folder

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["face", "lfhf"])
def result(request):
    """The demo of each pretrained model: a whole-clip one (the default) and a window one."""
    pipeline = lipanomaly.load_pretrained(request.param)
    return run_demo(pipeline, model_name=f"the pretrained {request.param}", baselines=False)


def test_all_fakes_row_gives_the_pooled_and_the_worst_family_apcer(result):
    scores, threshold = result.results[result.name]
    fakes = result.demo.y == -1
    called_live = scores >= threshold
    families = sorted(set(result.demo.generators[fakes]))
    by_family = {f: called_live[result.demo.generators == f].mean() for f in families}
    worst = max(by_family, key=by_family.get)
    header, rows, _ = result.table_rows
    row = dict(zip(header, rows[0]))
    assert row["fakes"] == "all fakes"
    assert row["APCER"] == f"{called_live[fakes].mean():.2f}"  # pooled: of every fake
    assert row["worst family"] == f"{by_family[worst]:.2f} ({worst})"
    # the pooled share is not the worst family's (1.00 read as "every fake got through")
    assert row["APCER"] != row["worst family"].split()[0]
    for r in rows[1:]:
        r = dict(zip(header, r))
        assert r["worst family"] == "" and r["APCER"] == f"{by_family[r['fakes']]:.2f}"


def test_legend_says_what_the_threshold_is_and_the_false_alarms_it_promises(result):
    legend = " ".join(result.legend().split())
    n = len(result.detector.validation_scores_)
    assert f"the 20th percentile of the scores of its {n} real validation clips" in legend
    promised = np.mean(result.detector.validation_scores_ < result.detector.offset_)
    assert f"it calls {promised:.0%} of those spoof" in legend
    assert "T80" not in legend  # a name a newcomer cannot read
    assert "pooled" in legend and "worst family" in legend


def test_report_shows_both_outcomes_and_says_why(result, tmp_path):
    out = prepare_report_folder(tmp_path / "report")
    page = write_demo_folder(out, result).read_text()
    names = sorted(p.name for p in out.glob("example_*.png"))
    # each figure is one outcome that occurs, and its caption says the verdict and why
    scores, threshold = result.results[result.name]
    live = scores >= threshold
    expected = {
        "example_fake_caught.png": (result.demo.y == -1) & ~live,
        "example_fake_missed.png": (result.demo.y == -1) & live,
        "example_real.png": (result.demo.y == 1) & live,
        "example_real_false_alarm.png": (result.demo.y == 1) & ~live,
    }
    assert names == sorted(name for name, mask in expected.items() if mask.any())
    assert "example_fake_caught.png" in names and "example_real.png" in names
    captions = re.findall(r"<figcaption>(One [^<]*)</figcaption>", page)
    assert len(captions) == len(names)
    for caption in captions:
        assert "threshold" in caption and "p-value" in caption
        assert ("&gt;= threshold" in caption) == ("called LIVE" in caption)
        if hasattr(result.detector, "network_"):  # a window model: the mean of its windows
            assert re.search(
                r"Its score is the mean of its \d+ window scores, \d+ of them", caption
            )
        else:
            assert "One score for the whole clip" in caption
