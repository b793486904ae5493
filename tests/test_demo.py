"""The demo with the pretrained model: its table and report read without contradiction."""

import re

import numpy as np
import pytest

import lipanomaly
from lipanomaly.demo import run_demo
from lipanomaly.report import prepare_report_folder, write_demo_folder

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def result():
    return run_demo(
        lipanomaly.load_pretrained(), model_name="the pretrained model", baselines=False
    )


def test_all_fakes_row_gives_the_pooled_and_the_worst_family_apcer(result):
    scores, threshold = result.results[result.name]
    fakes = result.demo.y == -1
    called_live = scores >= threshold
    by_family = {
        f: called_live[result.demo.generators == f].mean()
        for f in ["DreamTalk", "SadTalker", "StyleTalk"]
    }
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
    # the pretrained model catches some fakes and misses others (docs/quality.md)
    assert "example_fake_caught.png" in names and "example_fake_missed.png" in names
    assert "example_real.png" in names
    captions = re.findall(r"<figcaption>(One [^<]*)</figcaption>", page)
    assert len(captions) == len(names)
    missed = next(c for c in captions if "fake clip called LIVE (missed)" in c)
    assert "&gt;= threshold" in missed and "p-value" in missed
    assert re.search(r"Its score is the mean of its \d+ window scores, \d+ of them below", missed)
