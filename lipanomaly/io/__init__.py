"""Input and output: videos, FaceMesh landmarks, track files, the development data.

- :mod:`.video`: OpenCV decoding and MediaPipe FaceMesh (the only module that imports them);
- :mod:`.landmarks`: FaceMesh point sets, head normalisation, gaps and resampling;
- :mod:`.tracks`: the track file format (read, write);
- :mod:`.files`: atomic publishing, the clean-up of crashed writers' temporaries, hashes;
- :mod:`.state_files`: a fitted state as files (JSON that keeps tuples, safetensors arrays);
- :mod:`.cache`: the extractor's on-disk cache of tracks;
- :mod:`.datasets`: the development collections and the bundled demo data;
- :mod:`.extraction`: :class:`~lipanomaly.LipLandmarkExtractor`, videos and tracks to
  normalised lip sequences.
"""
