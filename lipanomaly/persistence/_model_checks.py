"""The one validation step of a model folder, before anything is built from it.

:func:`lipanomaly.load_model` reads ``config.json`` and then, in this order:

1. :func:`validated_estimator`: the JSON types of the configuration (``class`` a string,
   ``params`` and ``fitted`` objects, no NaN or inf anywhere), the estimator built from
   ``params`` (unknown names refused) and checked through its own
   ``_parameter_constraints``, the frame rate's limits and its ``_check_params``;
2. :func:`expected_arrays`: the arrays the configuration implies, their shapes and dtypes,
   with the sizes of a network checked against :mod:`lipanomaly.limits` (window, depth,
   receptive field, and the number of weights, counted on a module built on PyTorch's
   ``meta`` device, which allocates nothing);
3. :func:`check_header`: the weights file's safetensors header against that list, before
   any array is read;
4. :func:`check_arrays`: the values (finite floats, index ranges, positive scales).

Every failure is a :class:`~lipanomaly.exceptions.ModelFileError` that names the file and
the parameter, attribute or array. A composed detector is checked part by part
(``network.`` and ``scorer.``), with the same checks as a saved part.
"""

import math

import numpy as np

from .. import limits
from ..exceptions import InputError, ModelFileError
from ..io.state_files import check_finite, non_finite_path
from ..nn.specs import upgrade_params
from ..scoring.formulas import SIDES

__all__ = [
    "check_arrays",
    "check_finite",
    "check_header",
    "expected_arrays",
    "validated_estimator",
]

# safetensors dtype names of the arrays save_model writes
_FLOAT = ("F32", "F64")
_INT = ("I32", "I64")
_NETWORK_SIZES = {  # parameter -> name of its upper bound in lipanomaly.limits
    "window": "MAX_WINDOW",
    "stride": "MAX_WINDOW",
    "n_layers": "MAX_NETWORK_DEPTH",
    "decoder_layers": "MAX_NETWORK_DEPTH",
}


def _fail(where, message):
    raise ModelFileError(f"{where}: {message}")


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_real(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_params(estimator, where):
    """``estimator``'s parameters through its own ``_parameter_constraints``, the frame
    rate's limits, and its ``_check_params``."""
    if getattr(type(estimator), "_parameter_constraints", None) is not None:
        try:
            estimator._validate_params()
        except (TypeError, ValueError) as exc:  # InvalidParameterError is both
            _fail(where, f"invalid parameter: {exc}")
    # before the cross-checks that read it (the cut-off's bounds): the message to give
    fs = estimator.get_params(deep=False).get("fs")
    if _is_real(fs) and not limits.MIN_FPS <= fs <= limits.MAX_FPS:
        _fail(
            where,
            f"parameter fs={fs} is not a frame rate from lipanomaly.limits.MIN_FPS "
            f"to MAX_FPS ({limits.MIN_FPS:g} to {limits.MAX_FPS:g})",
        )
    if hasattr(estimator, "_check_params"):
        try:
            estimator._check_params()
        except (InputError, TypeError, ValueError) as exc:
            _fail(where, f"invalid parameter: {exc}")


def validated_estimator(config, cls, from_json, where):
    """The unfitted estimator of ``config`` and its ``fitted`` dict, checked.

    Parameters
    ----------
    config : dict
        The parsed ``config.json`` (format and versions already checked).
    cls : type
        The registered class named by ``config["class"]``.
    from_json : callable
        Undoes the JSON tagging of tuples (``state_files.from_json``).
    where : path
        ``config.json``, named in messages.

    Returns
    -------
    estimator, fitted
    """
    for key, kind in (("params", dict), ("fitted", dict), ("weights_sha256", str)):
        if not isinstance(config[key], kind):
            _fail(where, f"{key!r} must be a JSON {kind.__name__}, got {config[key]!r:.80}")
    bad = non_finite_path(config, "config")
    if bad:
        _fail(where, f"{bad} is not a finite number")
    try:
        params, fitted = from_json(config["params"]), from_json(config["fitted"])
    except (TypeError, ValueError, AttributeError) as exc:
        _fail(where, f"corrupt configuration ({exc})")
    if not isinstance(params, dict) or not isinstance(fitted, dict):  # {"__tuple__": [...]}
        _fail(where, "'params' and 'fitted' must be JSON objects, not tagged tuples")
    spec = getattr(cls, "network_spec", None)
    if spec is not None:  # the flat loss weights of 0.5 and earlier: one loss_weights
        params = upgrade_params(params, spec)
    unknown = sorted(set(params) - set(cls._get_param_names()))
    if unknown:
        _fail(where, f"unknown parameter(s) {unknown} of {cls.__name__}")
    try:
        estimator = cls(**params)
    except (TypeError, ValueError) as exc:
        _fail(where, f"invalid parameters ({exc})")
    _check_params(estimator, where)
    for _, part, _ in _parts(estimator, fitted, where):
        if part is not estimator:
            _check_params(part, where)
    return estimator, fitted


def _parts(estimator, fitted, where):
    """``(prefix, estimator, fitted)`` of each saved part: the two of a composed detector."""
    from ..detectors.lfhf import ComposedDetector

    if not isinstance(estimator, ComposedDetector):
        return [("", estimator, fitted)]
    for part in ("network", "scorer"):
        if not isinstance(fitted.get(part), dict):
            _fail(where, f"'fitted' must hold a {part!r} object")
    return [
        ("network.", estimator.build_network(), fitted["network"]),
        ("scorer.", estimator.build_scorer(), fitted["scorer"]),
    ]


def _fitted_value(fitted, key, check, what, where):
    if key not in fitted:
        _fail(where, f"no fitted {key!r}")
    if not check(fitted[key]):
        _fail(where, f"fitted {key!r} must be {what}, got {fitted[key]!r:.80}")
    return fitted[key]


def _network_arrays(net, fitted, where):
    """Shapes and dtypes of a network transformer's arrays; its sizes checked."""
    from ..io.tracks import FACEMESH_N_POINTS
    from ..nn.inference import module_shapes

    n_points = _fitted_value(
        fitted,
        "n_points_",
        lambda v: _is_int(v) and 1 <= v <= FACEMESH_N_POINTS,
        f"a whole number of lip points from 1 to {FACEMESH_N_POINTS}",
        where,
    )
    n_features = _fitted_value(
        fitted, "n_features", lambda v: v == 2 * n_points, f"2 * n_points_ = {2 * n_points}", where
    )
    _fitted_value(fitted, "seed_", _is_int, "an integer", where)
    _fitted_value(fitted, "n_epochs_", lambda v: _is_int(v) and v >= 1, "an integer >= 1", where)
    _fitted_value(fitted, "window_scale_", lambda v: _is_real(v) and v > 0, "positive", where)
    params = net.get_params(deep=False)
    for name, bound in _NETWORK_SIZES.items():
        if name in params and params[name] > getattr(limits, bound):
            _fail(
                where,
                f"parameter {name}={params[name]} is larger than lipanomaly.limits.{bound} "
                f"= {getattr(limits, bound)}",
            )
    depth = max(params["n_layers"], params["decoder_layers"])
    field = 1 + 2 * (params["kernel_size"] - 1) * (2**depth - 1)
    if field > limits.MAX_RECEPTIVE_FIELD:
        _fail(
            where,
            f"kernel_size={params['kernel_size']} with {depth} layers gives a receptive field "
            f"of {field} frames, more than lipanomaly.limits.MAX_RECEPTIVE_FIELD = "
            f"{limits.MAX_RECEPTIVE_FIELD}",
        )
    try:  # shapes only, on the meta device: nothing is allocated
        state = module_shapes(
            n_features, module_kwargs=net.module_kwargs(), kind=net.network_spec.kind
        )
    except (TypeError, ValueError, RuntimeError) as exc:
        _fail(where, f"the network of these parameters cannot be built ({exc})")
    n_weights = sum(math.prod(shape) for shape in state.values())
    if n_weights > limits.MAX_NETWORK_PARAMETERS:
        _fail(
            where,
            f"the network of these parameters has {n_weights} weights, more than "
            f"lipanomaly.limits.MAX_NETWORK_PARAMETERS = {limits.MAX_NETWORK_PARAMETERS}",
        )
    spec = {"window_mean_": ((n_features,), _FLOAT), "validation_index_": ((None,), _INT)}
    spec.update({f"module.{k}": (shape, ("F32",)) for k, shape in state.items()})
    return spec


def _scorer_arrays(scorer, fitted, where):
    """Shapes and dtypes of a ComponentScorer's arrays."""
    names = _fitted_value(
        fitted,
        "component_names_",
        lambda v: (
            isinstance(v, (list, tuple))
            and v
            and all(isinstance(n, str) for n in v)
            and len(set(v)) == len(v)
        ),
        "a non-empty list of distinct component names",
        where,
    )
    _fitted_value(fitted, "offset_", _is_real, "a finite number", where)
    _fitted_value(
        fitted,
        "sides_",
        lambda v: isinstance(v, (list, tuple)) and all(side in SIDES for side in v),
        f"a list of sides, each one of {list(SIDES)}",
        where,
    )
    n = len(names)
    return {
        "component_center_": ((n,), _FLOAT),
        "component_scale_": ((n,), _FLOAT),
        "columns_": ((None,), _INT),
        "precision_": ((None, None), _FLOAT),
        "weights_": ((n,), _FLOAT),
        "calibration_scores_": ((None,), _FLOAT),
    }


def expected_arrays(estimator, fitted, where):
    """The arrays ``weights.safetensors`` must hold: name -> (shape, dtypes), a ``None`` in
    a shape for any length; None for an estimator the package does not describe (a test's
    stand-in), whose arrays are then only checked to be finite."""
    from ..scoring.components import NetworkComponents
    from ..scoring.scorer import ComponentScorer

    if hasattr(estimator, "state_spec"):  # an estimator that describes its own state
        try:
            return estimator.state_spec(fitted)
        except (TypeError, ValueError) as exc:
            _fail(where, f"corrupt fitted state ({exc})")
    spec = {}
    parts = _parts(estimator, fitted, where)
    for prefix, part, part_fitted in parts:
        if isinstance(part, NetworkComponents):
            part_spec = _network_arrays(part, part_fitted, where)
        elif isinstance(part, ComponentScorer):
            part_spec = _scorer_arrays(part, part_fitted, where)
        else:
            return None
        spec.update({prefix + k: v for k, v in part_spec.items()})
    if len(parts) == 2:  # a composed detector: the scorer reads the network's components
        unknown = set(fitted["scorer"]["component_names_"]) - set(parts[0][1].component_names)
        if unknown:
            _fail(where, f"the scorer reads components the network does not give: {unknown}")
    return spec


def check_header(weights, spec):
    """Compare the safetensors header of ``weights`` with ``spec``; reads no array."""
    from safetensors import SafetensorError, safe_open

    if spec is None:
        return
    try:
        with safe_open(str(weights), framework="numpy") as fh:
            slices = {k: fh.get_slice(k) for k in fh.keys()}  # noqa: SIM118 (not a dict)
            header = {k: (tuple(s.get_shape()), s.get_dtype()) for k, s in slices.items()}
    except (SafetensorError, OSError, ValueError) as exc:
        _fail(weights, f"corrupt weights ({exc})")
    missing, extra = sorted(set(spec) - set(header)), sorted(set(header) - set(spec))
    if missing or extra:
        _fail(
            weights,
            f"the arrays do not fit config.json (missing: {missing[:5]}, unknown: {extra[:5]})",
        )
    for name, (shape, dtypes) in spec.items():
        got_shape, got_dtype = header[name]
        fits = len(got_shape) == len(shape) and all(
            s is None or s == g for s, g in zip(shape, got_shape)
        )
        if not fits or got_dtype not in dtypes:
            wanted = tuple("n" if s is None else s for s in shape)
            _fail(
                weights,
                f"array {name!r} is {got_dtype} of shape {got_shape}; config.json implies "
                f"{'/'.join(dtypes)} of shape {wanted}",
            )


def check_arrays(estimator, fitted, arrays, where):
    """The values: finite floats, indices in range, positive scales."""
    from ..scoring.scorer import ComponentScorer

    check_finite(fitted, arrays, where)
    parts = _parts(estimator, fitted, where)
    for prefix, part, part_fitted in parts:
        if f"{prefix}validation_index_" in arrays:
            index = arrays[f"{prefix}validation_index_"]
            if (index < 0).any() or len(np.unique(index)) != len(index):
                _fail(where, "'validation_index_' must be distinct non-negative positions")
        if isinstance(part, ComponentScorer):
            _check_scorer_values(part, part_fitted, arrays, prefix, where)
    # no count check of calibration scores against validation clips: a model re-fitted by
    # lipanomaly.calibrate holds the scores of the user's reference clips


def _check_scorer_values(scorer, fitted, arrays, prefix, where):
    names = tuple(fitted["component_names_"])
    columns = arrays[prefix + "columns_"]
    if (columns < 0).any() or (columns >= len(names)).any() or len(set(columns)) != len(columns):
        _fail(where, f"'columns_' must be distinct positions in {list(names)}")
    if len(fitted["sides_"]) != len(columns):
        _fail(where, "'sides_' must give one side per column of 'columns_'")
    if arrays[prefix + "precision_"].shape != (len(columns),) * 2:
        _fail(where, "'precision_' must be a square matrix, one row per column of 'columns_'")
    if not (arrays[prefix + "component_scale_"] > 0).all():
        _fail(where, "'component_scale_' must be positive")
    if not len(arrays[prefix + "calibration_scores_"]):
        _fail(where, "no calibration score")
    if scorer.combination == "mahalanobis":
        try:
            expected = scorer.distance_columns(names)
        except InputError as exc:
            _fail(where, f"invalid parameter: {exc}")
        if not np.array_equal(expected, columns):
            _fail(where, "'columns_' are not the positions of the parameter 'components'")
