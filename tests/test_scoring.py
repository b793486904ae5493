"""Known answers for the numpy score components, standardisation, combination and thresholds."""

import numpy as np
import pytest

from lipanomaly.exceptions import InputError
from lipanomaly.scoring import formulas


def _naive_sampen(x, order, r):
    """Sample entropy straight from its definition (Richman & Moorman, 2000)."""
    n = len(x)

    def pairs(m):
        # templates of length m starting at 0 .. n - order - 1 (the same set for m and m + 1)
        t = np.array([x[i : i + m] for i in range(n - order)])
        d = np.max(np.abs(t[:, None] - t[None]), axis=2)
        iu = np.triu_indices(len(t), 1)
        return np.sum(d[iu] < r)

    return -np.log(pairs(order + 1) / pairs(order))


def test_window_norm_is_rms():
    a = np.full((3, 5, 4), 2.0)
    a[1] = -3.0
    np.testing.assert_allclose(formulas.window_norm(a), [2.0, 3.0, 2.0])
    assert formulas.window_norm(a).dtype == np.float64


def test_reconstruction_errors_known_answer():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 16, 4))
    x_lf = x - 0.3  # LF error 0.3 everywhere
    r_target = rng.normal(size=x.shape)
    r_hat = r_target - 0.1  # detail error 0.1 everywhere
    out = formulas.reconstruction_errors(x, x_lf, r_target, r_hat, eps=0.0)
    np.testing.assert_allclose(out["e_smooth"], 0.3)
    np.testing.assert_allclose(out["e_detail"], 0.1)
    np.testing.assert_allclose(out["drs"], 3.0)
    np.testing.assert_allclose(out["rmse"], formulas.window_norm(x - x_lf - r_hat))


def test_delta_detail_mean_over_draws():
    e = np.array([1.0, 2.0])
    jittered = np.array([[1.2, 2.0], [1.4, 2.0]])
    np.testing.assert_allclose(formulas.delta_detail(e, jittered), [0.3, 0.0])
    np.testing.assert_allclose(formulas.delta_detail(e, jittered, relative=True, eps=0), [0.3, 0])


def test_latent_rmse_over_all_latents():
    mu = (np.zeros((2, 3)), np.zeros((2, 4, 2)))
    mu_hat = (np.ones((2, 3)), np.zeros((2, 4, 2)))
    # 3 of the 11 values differ by 1
    np.testing.assert_allclose(formulas.latent_rmse(mu, mu_hat), np.sqrt(3 / 11))


def test_sample_entropy_matches_definition_and_antropy():
    pytest.importorskip("antropy")
    rng = np.random.default_rng(1)
    sig = np.stack(
        [rng.normal(size=64), np.sin(np.linspace(0, 12, 64)) + 0.1 * rng.normal(size=64)]
    )
    got = formulas.sample_entropy(sig, order=2, r=0.2)
    want = [_naive_sampen(s, 2, 0.2 * s.std()) for s in sig]
    np.testing.assert_allclose(got, want, rtol=1e-10)
    assert got[1] < got[0]  # a noisy sine is more regular than noise


def test_sample_entropy_guards():
    pytest.importorskip("antropy")
    n = 64
    cap = np.log((n - 2) * (n - 3) / 2)
    flat = np.full((1, n), 3.0)
    assert formulas.sample_entropy(flat)[0] == 0.0
    # a tolerance far below every distance: antropy gives NaN (no match): capped
    noise = np.random.default_rng(2).normal(size=(1, n))
    assert formulas.sample_entropy(noise, r=1e-12)[0] == pytest.approx(cap)
    with pytest.raises(InputError, match="at least 5 samples"):
        formulas.sample_entropy(np.ones((1, 4)))


def test_flatness_complexity_known_cases():
    n = 256
    tone = np.sin(2 * np.pi * 8 * np.arange(n) / n)[None, :, None]  # (1, n, 1) windows
    noise = np.random.default_rng(3).normal(size=(1, n, 1))
    assert formulas.complexity(tone, method="flatness")[0] < 1e-3
    # about 0.56 for white Gaussian noise
    assert formulas.complexity(noise, method="flatness")[0] > 0.4
    assert formulas.complexity(np.ones((1, n, 3)), method="flatness")[0] == 0.0


def test_complexity_on_real_lip_windows(development):
    from lipanomaly.io.extraction import LipLandmarkExtractor
    from lipanomaly.signal.windows import make_windows

    clips = LipLandmarkExtractor().transform(development.tracks[:6])
    w = make_windows(clips, length=64, stride=32)[0]
    w = w.reshape(len(w), 64, -1)
    for method in ("sampen", "flatness"):
        c = formulas.complexity(w, method=method)
        assert c.shape == (len(w),) and c.dtype == np.float64
        assert np.isfinite(c).all() and np.ptp(c) > 0
    with pytest.raises(InputError, match="'sampen' or 'flatness'"):
        formulas.complexity(w, method="lz")


def test_motion_energy_ignores_the_mean_shape():
    x = np.zeros((1, 10, 2)) + 5.0
    x[0, ::2, 0] += 1.0  # +-0.5 about the mean on one of two coordinates
    np.testing.assert_allclose(formulas.motion_energy(x), [np.sqrt(0.25 / 2)])


def test_fit_robust_scale_gaussian_and_degenerate_columns():
    rng = np.random.default_rng(4)
    g = rng.normal(loc=5.0, scale=2.0, size=20000)
    ties = np.r_[np.zeros(8), 1.0, 2.0]  # IQR 0, MAD 0: falls back to the std
    const = np.full(10, 3.0)
    center, scale = formulas.fit_robust_scale(g[:, None])
    assert center[0] == pytest.approx(5.0, abs=0.05)
    assert scale[0] == pytest.approx(2.0, abs=0.05)
    center, scale = formulas.fit_robust_scale(np.column_stack([ties, const]))
    np.testing.assert_allclose(center, [0.0, 3.0])
    np.testing.assert_allclose(scale, [ties.std(), 1.0])
    z = formulas.apply_robust_scale(np.column_stack([ties, const]), center, scale)
    assert np.isfinite(z).all() and np.all(z[:, 1] == 0)


def test_mahalanobis_recovers_a_known_covariance():
    rng = np.random.default_rng(5)
    cov = np.array([[1.0, 0.8], [0.8, 1.0]])
    z = rng.multivariate_normal([0, 0], cov, size=50000)
    precision = formulas.fit_mahalanobis(z, shrinkage=0.0, clip=np.inf)
    np.testing.assert_allclose(precision, np.linalg.inv(cov), rtol=0.05, atol=0.05)
    # along the correlation a point is close, across it far: the distance is two-sided
    d = formulas.mahalanobis(np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0]]), np.linalg.inv(cov))
    np.testing.assert_allclose(d, [np.sqrt(2 / 1.8), np.sqrt(2 / 0.2), np.sqrt(2 / 0.2)])


def test_mahalanobis_is_well_conditioned_with_few_samples():
    z = np.random.default_rng(6).normal(size=(3, 7))  # fewer samples than dimensions
    precision = formulas.fit_mahalanobis(z)
    assert np.isfinite(precision).all()
    assert np.all(np.linalg.eigvalsh(precision) > 0)


def test_linear_score():
    z = np.array([[1.0, 2.0, 3.0]])
    assert formulas.linear_score(z, [1.0, -1.0, 0.5])[0] == pytest.approx(0.5)


def test_fit_offset_quantile_is_t80_and_iqr():
    scores = np.arange(101.0)
    assert formulas.fit_offset(scores, contamination=0.2) == pytest.approx(20.0)
    # T80: the 80th percentile of the anomaly score -scores
    assert -formulas.fit_offset(scores) == pytest.approx(np.percentile(-scores, 80))
    assert formulas.fit_offset(scores, method="iqr") == pytest.approx(25.0 - 1.5 * 50.0)
    with pytest.raises(InputError, match="no finite"):
        formulas.fit_offset([np.nan, 1.0])
    with pytest.raises(InputError, match="'quantile' or 'iqr'"):
        formulas.fit_offset(scores, method="mad")
