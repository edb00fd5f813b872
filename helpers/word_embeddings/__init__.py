"""Notebook 01, word embeddings: one-hot against dense vectors, and word2vec trained here.

``skipgram`` is the taught model (skip-gram with negative sampling, Mikolov et al. 2013), ``fast_sgns`` the
same loss with a hand-written backward for speed, ``word2vec`` its trainer, ``word_vectors`` the trained
vectors, ``count_vectors`` the PPMI + SVD baseline, ``word_benchmarks`` the similarity and analogy scores,
``experiments`` the notebook's seeded studies (the functions ``make replicate`` reruns on fresh seeds).
"""
