"""The outlier detectors: each a scikit-learn estimator with ``predict`` = +1 live / -1 fake.

- :mod:`.lfhf`: :class:`~lipanomaly.LFHFVAEDetector` and the composition it shares with the
  OC-FakeDect baseline;
- :mod:`.ocvae`: :class:`~lipanomaly.OCVAEDetector`, the one-class VAE baseline;
- :mod:`.face_motion` and :mod:`.face`: whole-face motion features and
  :class:`~lipanomaly.FaceMotionDetector`;
- :mod:`.lip_features`: :class:`~lipanomaly.LipMotionFeatures`, hand-crafted lip features for
  classical one-class detectors.
"""
