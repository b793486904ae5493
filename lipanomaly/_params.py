"""Keyword-only ``__init__`` methods built from a table of parameters (private).

scikit-learn reads an estimator's parameters from the signature of its ``__init__``
(``inspect.signature``), and that ``__init__`` must do nothing but store them. The network
transformers have some forty parameters, and a detector's parameters are exactly those of
its two parts: writing each name in a signature, an assignment and again in every class
that shares it is how parameter lists drift apart. These estimators state their parameters
once, as ``{name: default}``, and get their ``__init__`` from :func:`keyword_init`; a
detector takes the union of its parts' with :func:`init_parameters`. ``inspect.signature``
(and so ``get_params``, ``clone``, ``repr``, ``help`` and the API docs) sees an ordinary
keyword-only signature.
"""

import inspect

__all__ = ["init_parameters", "keyword_init"]


def keyword_init(defaults):
    """An ``__init__`` that stores keyword-only parameters.

    Parameters
    ----------
    defaults : dict of str to object
        Parameter name -> default, in the order of the signature.

    Returns
    -------
    __init__ : function
        ``__init__(self, *, name=default, ...)``: sets each parameter as an attribute of
        the same name and does nothing else. An unknown or positional argument is a
        ``TypeError``, as for a written-out signature.
    """
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    params += [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
        for name, default in defaults.items()
    ]
    signature = inspect.Signature(params)

    def __init__(self, **kwargs):
        bound = signature.bind(self, **kwargs)
        bound.apply_defaults()
        for name, value in list(bound.arguments.items())[1:]:
            setattr(self, name, value)

    __init__.__signature__ = signature
    return __init__


def init_parameters(cls, names=None):
    """The keyword parameters of ``cls.__init__`` and their defaults.

    Parameters
    ----------
    cls : type
    names : collection of str or None, default=None
        Keep only these (None: all).

    Returns
    -------
    defaults : dict of str to object
        In the order of the signature.
    """
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    return {p.name: p.default for p in params if names is None or p.name in names}
