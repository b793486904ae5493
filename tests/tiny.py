"""The tiny network configurations of the tests: a few thousand weights, two epochs.

One place, so that the test files train the same networks (and a change of the defaults
reaches them all). The API and the determinism are tested with them; quality is tested in
``tests/test_quality.py`` with the default network.
"""

#: training and size shared by both networks
NETWORK = dict(window=32, stride=16, channels=8, n_layers=2, decoder_layers=1)
NETWORK.update(max_epochs=2, patience=2, kl_anneal_epochs=1, random_state=0)
#: the dual VAE (LFHFComponents, LFHFVAEDetector)
LFHF = {**NETWORK, "latent_lf": 4, "latent_hf": 4, "n_jitter_draws": 2}
#: the OC-FakeDect VAE (OCVAEComponents, OCVAEDetector)
OCVAE = {**NETWORK, "latent": 4}
