"""The limits every input is checked against, in one place.

A track file, an in-memory :class:`~lipanomaly.io.tracks.Track`, a lip sequence, a model
folder (its parameters and the network they build) or a calibration reference that lies
outside these limits is refused with an
:class:`~lipanomaly.exceptions.InputError` or :class:`~lipanomaly.exceptions.ModelFileError`
that names it, *before* anything sized by it is allocated. The size limits are generous: the
323 real track files of the development data (``landmarks/``, ``wild/`` and the reference
extractions of ``videos/``) use at most 3 % of any of them; the two bounds of a calibration
reference are set from its live clips (``benchmarks/bench_calibration.py`` measures them).
``docs/guide/security.md``
quotes them (a test checks that the page and this module agree).

Pure constants: importing this module imports nothing.
"""

__all__ = [
    "CACHE_TEMP_MAX_AGE_S",
    "COORD_RANGE",
    "DEFAULT_FPS",
    "MAX_COMPRESSION_RATIO",
    "MAX_FPS",
    "MAX_FRAMES",
    "MAX_FRAME_SIZE",
    "MAX_JSON_BYTES",
    "MAX_LIP_UNITS",
    "MAX_NETWORK_DEPTH",
    "MAX_NETWORK_PARAMETERS",
    "MAX_RECEPTIVE_FIELD",
    "MAX_REFERENCE_Z",
    "MAX_TEXT_CHARS",
    "MAX_WINDOW",
    "MIN_FPS",
    "MIN_REFERENCE_MOTION",
    "RATIO_FREE_BYTES",
    "VIDEO_EXTENSIONS",
]

#: The analysis frame rate (frames per second) by default: the extractor resamples every
#: track to it (``LipLandmarkExtractor(fps=...)``) and the detectors and feature
#: transformers read clips at it (their ``fs``). Not a limit: the one place it is stated.
DEFAULT_FPS = 25.0
#: Lowest frame rate (frames per second) of a track and of the analysis rate.
MIN_FPS = 1.0
#: Highest frame rate (frames per second) of a track and of the analysis rate.
MAX_FPS = 240.0
#: Most frames of a track, and of a lip sequence after resampling to the analysis rate
#: (one hour at 30 fps; a 478-point float32 track of this length takes 413 MB).
MAX_FRAMES = 108_000
#: Largest frame width or height in pixels.
MAX_FRAME_SIZE = 16_384
#: Range of MediaPipe's normalised x and y (x / width, y / height). FaceMesh places points
#: slightly outside the frame when the face is cut by its edge (-0.005 to 1.03 in the
#: development data); a coordinate outside this range is not a normalised landmark.
COORD_RANGE = (-1.0, 2.0)
#: Largest absolute value of a head-normalised lip coordinate, in inter-ocular distances
#: (at most 2.9 in the development data). A video frame whose lips land farther from the
#: head origin has a degenerate eye line and counts as a frame without a face; an
#: in-memory lip sequence beyond it is refused.
MAX_LIP_UNITS = 20.0
#: Largest ratio of uncompressed to compressed size of an array in a track file that is
#: larger than :data:`RATIO_FREE_BYTES` (real landmarks compress at most 2.7 to 1; a
#: track that is nothing but frames without a face, about 1000 to 1).
MAX_COMPRESSION_RATIO = 100.0
#: Arrays up to this many uncompressed bytes (16 MiB) are exempt from
#: :data:`MAX_COMPRESSION_RATIO`.
RATIO_FREE_BYTES = 16 * 2**20
#: Longest text value (``label``, ``source``, ``generator``, ``origin``) of a track file.
MAX_TEXT_CHARS = 4096
#: Largest ``config.json`` or ``extractor.json`` of a model folder, in bytes (1 MiB).
MAX_JSON_BYTES = 2**20
#: Temporary files of the extractor cache and of ``write_track`` older than this (in
#: seconds) are left by a writer that crashed, and are removed.
CACHE_TEMP_MAX_AGE_S = 3600
#: Longest ``window`` and ``stride`` of a saved network, in frames (the default window: 64).
MAX_WINDOW = 4096
#: Most residual blocks in a saved network's encoder or decoder (``n_layers``,
#: ``decoder_layers``; the default: 4).
MAX_NETWORK_DEPTH = 32
#: Widest receptive field of a saved network's dilated convolutions, in frames (the
#: default network's encoder: 61). The padding of a convolution grows with it, whatever
#: the number of weights, so it bounds what one window costs to score.
MAX_RECEPTIVE_FIELD = 16_384
#: Most weights of a saved network, counted from its configuration before it is built (the
#: default network: 1.6 million; 50 million take 200 MB as float32).
MAX_NETWORK_PARAMETERS = 50_000_000
#: Least lip motion of a calibration reference (``lipanomaly.scoring.calibration.reference_motion``:
#: the median RMS of a clip's lip coordinates about each window's mean shape, in inter-ocular
#: distances): half the least of the 260 live clips of the development data (0.016; median
#: 0.036). A still face or someone not speaking moves less, and its relative errors, divided by
#: almost nothing, would drag the calibration anywhere.
MIN_REFERENCE_MOTION = 0.008
#: Farthest a calibration reference's component (the median over its windows) may lie from the
#: model's live centre, in the model's robust scales: the 260 live clips of the development
#: data lie within 11.2 of the pretrained model's (the fakes within 4.8).
MAX_REFERENCE_Z = 15.0
#: File name endings (any case) of the videos looked for in a folder; ``.npz`` files are
#: track files, and other files in a folder are left alone.
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mpg", ".mpeg", ".mkv", ".webm", ".m4v")
