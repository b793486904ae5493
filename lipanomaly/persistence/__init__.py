"""Model files: fitted estimators as JSON + safetensors folders (no pickle), pretrained models.

- :mod:`.serialization`: :func:`~lipanomaly.save_model` / :func:`~lipanomaly.load_model`
  (the arrays and JSON of a fitted state: :mod:`lipanomaly.io.state_files`);
- :mod:`._model_checks`: the one validation of a model folder before anything is built;
- :mod:`.pretrained`: the shipped models and whole extraction + detection pipelines.
"""
