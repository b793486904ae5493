"""Each network's spec, the one place that states it, without torch.

A :class:`NetworkSpec` names a network's module class, its loss terms with their default
weights, and the terms that training records every batch. The network transformers
(:class:`lipanomaly.scoring.components.LFHFComponents`,
:class:`lipanomaly.detectors.ocvae.OCVAEComponents`) and :mod:`lipanomaly.nn` read it here:
training (the module to build, the terms to compute and record), inference and the
model-file checks (the module whose state a file must hold). Model files saved before the
weights became one ``loss_weights`` parameter are translated with :func:`upgrade_params`.

Examples
--------
>>> from lipanomaly.nn.specs import DUAL
>>> DUAL.loss_weights["kl_lf"]
6.0
>>> DUAL.resolve_loss_weights({"kl_lf": 4.0})["kl_lf"]
4.0
"""

import math
import numbers
from dataclasses import dataclass
from types import MappingProxyType

from ..exceptions import InputError

__all__ = ["DUAL", "NETWORKS", "OCVAE", "NetworkSpec", "network_spec", "upgrade_params"]


@dataclass(frozen=True)
class NetworkSpec:
    """One network as the estimators see it.

    Attributes
    ----------
    kind : str
        Its name in :func:`lipanomaly.nn.train_network` (``"dual"``, ``"ocvae"``).
    loss_weights : mapping of str to float
        Loss term -> default weight (read-only), in the order of the loss's terms.
    legacy_names : mapping of str to str
        The flat parameters of lipanomaly 0.5 and earlier (``kl_weight_lf``) -> the loss
        term they weighted (``kl_lf``): how an old model file's parameters are read.
    module : str
        Its module class in :mod:`lipanomaly.nn.modules` (built by
        :func:`lipanomaly.nn.modules.build_module`).
    recorded_terms : tuple of str
        The loss terms computed and recorded in the training history every batch, even at
        weight 0; the others need an extra pass and are computed only when weighted.
    """

    kind: str
    loss_weights: MappingProxyType
    legacy_names: MappingProxyType
    module: str
    recorded_terms: tuple

    def active_terms(self, weights):
        """The terms training computes and records: :attr:`recorded_terms`, then those
        others that ``weights`` (every term's weight) does not set to 0.

        Parameters
        ----------
        weights : mapping of str to float
            As :meth:`resolve_loss_weights` returns.

        Returns
        -------
        terms : list of str
        """
        extra = [t for t in self.loss_weights if t not in self.recorded_terms and weights[t]]
        return [*self.recorded_terms, *extra]

    def resolve_loss_weights(self, loss_weights):
        """The weight of every loss term: ``loss_weights`` over the defaults (checked).

        Parameters
        ----------
        loss_weights : dict of str to float or None
            Weights of some terms; None is the defaults.

        Returns
        -------
        weights : dict of str to float
            Every term of :attr:`loss_weights`, in its order.

        Raises
        ------
        InputError
            If a term is unknown or a weight is not a finite number >= 0.
        """
        given = dict(loss_weights or {})
        unknown = sorted(set(given) - set(self.loss_weights))
        if unknown:
            raise InputError(
                f"loss_weights: unknown term(s) {unknown}; the terms of the {self.kind!r} "
                f"network are {list(self.loss_weights)}"
            )
        for term, value in given.items():
            ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
            if not ok or not (math.isfinite(value) and value >= 0):
                raise InputError(
                    f"loss_weights[{term!r}] must be a finite number >= 0, got {value!r}"
                )
        return {term: given.get(term, default) for term, default in self.loss_weights.items()}


def _spec(kind, loss_weights, legacy_names, *, module, recorded_terms):
    return NetworkSpec(
        kind,
        MappingProxyType(loss_weights),
        MappingProxyType(legacy_names),
        module,
        tuple(recorded_terms),
    )


#: The dual LF/HF VAE (:class:`lipanomaly.nn.DualVAE`): the loss weights of SPEC section 3;
#: masked in-painting is off by default.
DUAL = _spec(
    "dual",
    {
        "rec_lf": 1.0,
        "kl_lf": 6.0,
        "rec_hf": 0.5,
        "stft": 0.5,
        "deriv": 0.3,
        "kl_hf": 0.8,
        "full": 0.2,
        "decor": 0.1,
        "jitter": 0.1,
        "mask": 0.0,
    },
    {
        "rec_weight_lf": "rec_lf",
        "kl_weight_lf": "kl_lf",
        "rec_weight_hf": "rec_hf",
        "stft_weight": "stft",
        "deriv_weight": "deriv",
        "kl_weight_hf": "kl_hf",
        "full_weight": "full",
        "decor_weight": "decor",
        "jitter_weight": "jitter",
        "mask_weight": "mask",
    },
    module="DualVAE",
    recorded_terms=("rec_lf", "kl_lf", "rec_hf", "stft", "deriv", "kl_hf", "full", "decor"),
)
#: The OC-FakeDect-style VAE (:class:`lipanomaly.nn.OCVAE`): reconstruction, KL (per
#: value), and OC-FakeDect-2's latent consistency ``||mu(x) - mu(x̂)||²`` (off: it is used
#: for scoring).
OCVAE = _spec(
    "ocvae",
    {"rec": 1.0, "kl": 1.0, "latent": 0.0},
    {"rec_weight": "rec", "kl_weight": "kl", "latent_weight": "latent"},
    module="OCVAE",
    recorded_terms=("rec", "kl"),
)
#: kind -> spec: every network of the package
NETWORKS = MappingProxyType({spec.kind: spec for spec in (DUAL, OCVAE)})


def network_spec(kind):
    """The spec of the network ``kind``.

    Parameters
    ----------
    kind : str
        A key of :data:`NETWORKS`.

    Returns
    -------
    spec : NetworkSpec

    Raises
    ------
    InputError
        If there is no such network.
    """
    if kind not in NETWORKS:
        raise InputError(f"kind must be one of {sorted(NETWORKS)}, got {kind!r}")
    return NETWORKS[kind]


def upgrade_params(params, spec):
    """Saved parameters with the flat loss weights of 0.5 and earlier as ``loss_weights``.

    Parameters
    ----------
    params : dict
        The ``params`` of a model file (``get_params(deep=False)`` when it was saved).
    spec : NetworkSpec
        The estimator's network.

    Returns
    -------
    params : dict
        ``params`` itself when it holds no old name; otherwise a copy in which each old
        name (:attr:`NetworkSpec.legacy_names`) is an entry of ``loss_weights``.
    """
    old = [name for name in params if name in spec.legacy_names]
    if not old:
        return params
    weights = {spec.legacy_names[name]: params[name] for name in old}
    new = {k: v for k, v in params.items() if k not in old}
    new["loss_weights"] = {**weights, **(new.get("loss_weights") or {})}
    return new
