"""Pure-numpy signal processing of lip sequences.

- :mod:`.filters`: the zero-phase band split, derivatives, spectra;
- :mod:`.bandsplit`: :class:`~lipanomaly.BandSplit`, the band split as a transformer;
- :mod:`.windows`: clips to fixed-length windows and window results back to clips;
- :mod:`.augment`: augmentations of lip windows for training and for the detector's ΔE.
"""
