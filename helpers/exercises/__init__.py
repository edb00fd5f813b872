"""Graded exercises, one module per topic notebook: ``from helpers.exercises import self_attention as check``.

Each exercise is called with the learner's function (or number) and prints ``pass``, a ``hint`` that names
the likely mistake, or ``not yet`` for a stub still to be written; it never raises. Modules:
``word_embeddings`` (01), ``text_cnn`` (02), ``gan_minimax`` (03), ``self_attention`` (04),
``transformer`` (05); ``grading`` holds the shared machinery.
"""
