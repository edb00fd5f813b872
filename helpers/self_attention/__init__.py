"""Notebook 04, self-attention: Q, K, V; softmax(QKᵀ/√d_k)·V; masks; multi-head.

``attention`` is the formula and the attention modules, ``masks`` the padding and causal masks and their
conversion to PyTorch's conventions, ``tasks`` the induction task and the seeds trained together on it.
"""
