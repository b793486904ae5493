"""Import optional heavy dependencies lazily, with an error that names the extra to install."""

import importlib

from .exceptions import MissingDependencyError

# module name -> (pip extra, what it is needed for)
_EXTRAS = {
    "mediapipe": ("video", "reading landmarks from video files"),
    "cv2": ("video", "reading video files"),
    "dask": ("dask", "spreading extraction over a Dask cluster"),
    "distributed": ("dask", "spreading extraction over a Dask cluster"),
}


def import_optional(name):
    """Import module ``name`` or raise :class:`MissingDependencyError` naming its extra."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        extra, purpose = _EXTRAS.get(name.split(".")[0], (None, "this feature"))
        hint = f'pip install "lipanomaly[{extra}]"' if extra else f"pip install {name}"
        raise MissingDependencyError(
            f"{name!r} is needed for {purpose} but could not be imported ({exc}); "
            f"install it with: {hint}"
        ) from exc
