"""Notebook 05, the Transformer (Vaswani et al., 2017), trained on dates written as real locales write them.

``model`` is the encoder-decoder, ``seq2seq`` its loss, schedule, decoding and checkpoint averaging, ``kv_cache``
incremental decoding with a key/value cache,
``recurrent`` the GRU baseline with additive attention, ``learning_curves`` the race of the two at their own tuned
learning rates, ``table3`` the paper's Table 3 at this scale, ``dates`` the task, ``translate`` a learner's file of
pairs to a trained translator.
"""
