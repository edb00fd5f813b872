"""Notebook 02, the text CNN (Kim, 2014): sentence classification with convolutions over word vectors.

``model`` is Kim's network, ``linear_baselines`` the bag-of-words baselines (MNB, NBSVM), and
``text_classification`` takes a learner's labelled file to a cross-validated, trained model.
"""
