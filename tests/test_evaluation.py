"""Metrics: hand-computed known answers, sklearn agreement, bootstrap, tables, plots, real data."""

import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from lipanomaly.evaluation.metrics import (
    bpcer_at_apcer,
    equal_error_rate,
    error_rates,
    evaluate_scores,
    format_table,
    plot_roc,
    plot_score_distributions,
    plot_window_scores,
    roc_auc,
)
from lipanomaly.exceptions import InputError

# A small example computed by hand (see each test): 4 live, 3 attacks (family A: 0.8;
# family B: 0.4, 0.1).
Y = np.array([1, 1, 1, 1, -1, -1, -1])
S = np.array([0.9, 0.7, 0.6, 0.2, 0.8, 0.4, 0.1])
G = np.array(["real"] * 4 + ["A", "B", "B"])


def test_hand_computed_auc():
    # live > attack pairs: 0.9 beats 3, 0.7 and 0.6 beat 2 each, 0.2 beats 1: 8 of 12
    assert roc_auc(Y, S) == pytest.approx(8 / 12)


def test_hand_computed_eer():
    # t=0.6: APCER 1/3 (0.8), BPCER 1/4 (0.2); t=0.7: APCER 1/3, BPCER 2/4. The rates cross
    # between them; interpolated, both are 1/3. |APCER - BPCER| is smallest at t=0.6.
    eer, thr = equal_error_rate(Y, S)
    assert eer == pytest.approx(1 / 3)
    assert thr == 0.6


def test_hand_computed_operating_point():
    # threshold 0.5: live 0.2 rejected (BPCER 1/4); attack 0.8 accepted (pooled APCER 1/3,
    # family A 1/1, family B 0/2: APCER = max = 1); ACER = (1 + 1/4) / 2
    r = error_rates(Y, scores=S, threshold=0.5, generators=G)
    assert r["bpcer"] == pytest.approx(0.25)
    assert r["apcer_pooled"] == pytest.approx(1 / 3)
    assert r["apcer_per_family"] == {"A": 1.0, "B": 0.0}
    assert r["apcer"] == 1.0
    assert r["acer"] == pytest.approx(0.625)
    pooled = error_rates(Y, scores=S, threshold=0.5)
    assert pooled["apcer"] == pytest.approx(1 / 3)
    assert pooled["acer"] == pytest.approx((1 / 3 + 1 / 4) / 2)


def test_hand_computed_bpcer_at_apcer():
    # 3 attacks, APCER <= 10 %: none may be accepted, threshold above 0.8: BPCER 3/4
    bpcer, thr = bpcer_at_apcer(Y, S, 0.10)
    assert bpcer == pytest.approx(0.75)
    assert 0.8 < thr < 0.9
    # APCER <= 40 %: one attack (0.8) may be accepted, threshold just above 0.4: BPCER 1/4
    assert bpcer_at_apcer(Y, S, 0.40)[0] == pytest.approx(0.25)
    # per family at 50 %: family A (1 attack) may accept none, B (2) one: threshold above 0.8
    assert bpcer_at_apcer(Y, S, 0.50, generators=G)[0] == pytest.approx(0.75)


def test_decision_and_predict_outputs_give_the_same_rates():
    by_threshold = error_rates(Y, scores=S, threshold=0.5, generators=G)
    predict = np.where(S >= 0.5, 1, -1)
    assert error_rates(Y, decision=predict, generators=G) == by_threshold
    assert error_rates(Y, decision=S - 0.5, generators=G) == by_threshold


def test_perfect_separation():
    y = np.r_[np.ones(10), -np.ones(6)].astype(int)
    s = np.r_[np.linspace(1, 2, 10), np.linspace(-1, 0, 6)]
    r = evaluate_scores(y, s, threshold=0.5, n_boot=200, random_state=0)
    assert r["auc"] == 1.0 and r["auc_ci"] == (1.0, 1.0)
    assert r["eer"] == 0.0
    assert r["apcer"] == r["bpcer"] == r["acer"] == 0.0
    assert r["bpcer_at_apcer"] == {0.05: 0.0, 0.10: 0.0}
    assert r["eer_threshold"] == 1.0  # the lowest live score: everything live is accepted


def test_reversed_scores():
    y = np.r_[np.ones(10), -np.ones(6)].astype(int)
    s = np.r_[np.linspace(-1, 0, 10), np.linspace(1, 2, 6)]
    assert roc_auc(y, s) == 0.0
    assert equal_error_rate(y, s)[0] == 1.0
    assert bpcer_at_apcer(y, s, 0.05)[0] == 1.0


def test_ties_are_chance():
    y = np.r_[np.ones(5), -np.ones(5)].astype(int)
    s = np.zeros(10)
    assert roc_auc(y, s) == 0.5
    assert equal_error_rate(y, s)[0] == 0.5


def test_auc_matches_sklearn(rng):
    y = np.where(rng.random(300) < 0.7, 1, -1)
    s = rng.normal(size=300) + 0.8 * (y == 1)
    s[:40] = np.round(s[:40], 1)  # some ties
    assert roc_auc(y, s) == pytest.approx(roc_auc_score(y == 1, s), abs=1e-12)


def test_bootstrap_is_seeded_and_stratified(rng):
    y = np.r_[np.ones(40), -np.ones(15)].astype(int)
    s = rng.normal(size=55) + (y == 1)
    g = np.array(["real"] * 40 + ["A"] * 10 + ["B"] * 5)
    a = evaluate_scores(y, s, generators=g, threshold=0.0, n_boot=300, random_state=7)
    b = evaluate_scores(y, s, generators=g, threshold=0.0, n_boot=300, random_state=7)
    c = evaluate_scores(y, s, generators=g, threshold=0.0, n_boot=300, random_state=8)
    assert a == b
    assert a["auc_ci"] != c["auc_ci"]
    for key in ("auc", "eer", "apcer", "bpcer", "acer"):
        lo, hi = a[key + "_ci"]
        assert lo <= a[key] <= hi, key
    # stratified: family B (5 attacks) is in every replicate, so its interval is finite
    fam_b = a["per_family"]["B"]
    assert fam_b["n"] == 5
    assert all(np.isfinite(fam_b["auc_ci"]))
    assert a["per_family"]["A"]["auc"] == pytest.approx(
        roc_auc(y[(y == 1) | (g == "A")], s[(y == 1) | (g == "A")])
    )


def test_global_rng_untouched(rng):
    state = np.random.get_state()[1].copy()  # noqa: NPY002 (the legacy global state)
    evaluate_scores(Y, S, n_boot=50, random_state=0)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # noqa: NPY002


def test_no_operating_point_gives_nan_rates():
    r = evaluate_scores(Y, S, n_boot=0)
    assert math.isnan(r["apcer"]) and math.isnan(r["bpcer"]) and math.isnan(r["acer"])
    assert r["threshold"] is None
    assert math.isnan(r["auc_ci"][0])
    assert r["auc"] == pytest.approx(8 / 12)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"y": [1, 0, 1], "scores": [1.0, 2.0, 3.0]}, r"\+1 \(live\) and -1"),
        ({"y": [1, 1], "scores": [1.0, 2.0]}, "0 spoof"),
        ({"y": [1, -1], "scores": [1.0, np.nan]}, "NaN or inf"),
        ({"y": [1, -1], "scores": [1.0]}, r"shape \(2,\)"),
        ({"y": [1, -1], "scores": [1.0, 0.0], "threshold": 0.5, "decision": [1, -1]}, "not both"),
        ({"y": [1, -1], "scores": [1.0, 0.0], "generators": ["a"]}, "generators"),
        ({"y": [1, -1], "scores": [1.0, 0.0], "apcer_targets": (1.5,)}, "APCER target"),
        ({"y": [1, -1], "scores": [1.0, 0.0], "n_boot": -1}, "n_boot"),
    ],
)
def test_bad_input(kwargs, match):
    with pytest.raises(InputError, match=match):
        evaluate_scores(**kwargs)


def test_format_table():
    r = evaluate_scores(Y, S, generators=G, threshold=0.5, n_boot=100, random_state=0)
    table = format_table(r, name="toy")
    lines = table.splitlines()
    assert lines[0].startswith("| detector | attacks | live / attack clips | AUC | EER |")
    assert "BPCER @ APCER 5 %" in lines[0]
    assert lines[2].startswith("| toy | all (APCER: max of 2) | 4 / 3 | 0.67 [")
    assert any(line.startswith("| toy | A | 4 / 1 |") for line in lines)
    assert "score >= 0.5" in table
    assert "fewer than 5 attack clips (A, B)" in table
    no_op = format_table(evaluate_scores(Y, S, n_boot=0))
    assert "| — | — | — |" in no_op
    assert "no confidence intervals" in no_op


@pytest.fixture
def agg():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def test_plots_draw(agg, rng):
    y = np.r_[np.ones(30), -np.ones(12)].astype(int)
    s = rng.normal(size=42) + (y == 1)
    ax = plot_roc({"good": (y, s), "random": (y, rng.normal(size=42))})
    labels = [line.get_label() for line in ax.get_lines()]
    assert any(label.startswith("good (AUC") for label in labels)
    assert any(label.startswith("random (AUC") for label in labels)
    assert "chance" in labels
    # the APCER reference lines have a legend entry (one for both)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "APCER 5 % and 10 %" in legend
    ax = plot_score_distributions(y, s, generators=["real"] * 30 + ["A"] * 12, threshold=0.2)
    assert len(ax.patches) > 0
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"live (n=30)", "A (n=12)", "threshold"} <= set(texts)
    ax.figure.canvas.draw()
    ticks = ax.get_yticks()
    assert len(ticks) >= 2 and np.allclose(ticks, np.round(ticks))  # counts of clips
    ax = plot_window_scores([0.5, 0.1, -0.3, 0.4], [0, 16, 32, 36], window=64, threshold=0.0)
    below = [line for line in ax.get_lines() if line.get_label() == "below threshold"]
    assert below[0].get_xydata().shape == (1, 2)
    # the centre of the window starting at frame 32, in seconds
    assert below[0].get_xydata()[0, 0] == pytest.approx((32 + 32) / 25.0)


def test_user_names_are_drawn_literally(agg, rng):
    """A detector or a generator named like mathtext ($1_$2) is drawn as written: no error."""
    import io

    from lipanomaly.evaluation.metrics import plain_label

    assert plain_label("$1_$2") == r"\$1_\$2"
    y = np.r_[np.ones(10), -np.ones(10)].astype(int)
    s = rng.normal(size=20)
    ax = plot_roc({"$1_$2": (y, s)})
    ax = plot_score_distributions(y, s, generators=["real"] * 10 + ["$x_$y"] * 10, ax=ax)
    ax.figure.savefig(io.BytesIO(), format="png")  # mathtext would fail here


def test_real_development_labels_and_families(development):
    """On the development set's labels and families, with a simple real score (mouth-opening
    variability of the raw tracks): the per-family results line up with the manifest and with
    sklearn, and everything is finite."""
    from lipanomaly.signal.filters import FACEMESH_LIPS, mouth_opening

    scores = []
    for track in development.tracks:
        lips = track.landmarks[:, list(FACEMESH_LIPS)] * [track.width, track.height]
        lips = lips[np.isfinite(lips).all(axis=(1, 2))]
        opening = mouth_opening(lips)
        scores.append(opening.std() / max(opening.mean(), 1e-9))
    y, gens = development.y, development.generators
    r = evaluate_scores(y, scores, generators=gens, n_boot=200, random_state=0)
    families = sorted(set(gens[y == -1]))
    assert sorted(r["per_family"]) == families
    assert r["n_live"] == 111 and r["n_spoof"] == 29
    assert sum(f["n"] for f in r["per_family"].values()) == 29
    assert r["auc"] == pytest.approx(roc_auc_score(y == 1, scores))
    for fam, entry in r["per_family"].items():
        m = (y == 1) | (gens == fam)
        assert entry["auc"] == pytest.approx(roc_auc_score(y[m] == 1, np.asarray(scores)[m]))
        assert all(np.isfinite(entry["auc_ci"]))
