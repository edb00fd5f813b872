"""Train/eval mode, switched for a block and put back afterwards, whatever happens inside it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn

__all__ = ["training_mode"]


@contextmanager
def training_mode(model: nn.Module, training: bool) -> Iterator[nn.Module]:
    """Put ``model`` (every submodule) in train (``True``) or eval (``False``) mode for a ``with`` block.

    On the way out each submodule gets back the mode it had: a model a caller left half in eval mode
    (a frozen batch norm, say) stays that way.

    >>> with training_mode(model, False):  # dropout off, batch norm on its running statistics
    ...     logits = model(x)
    """
    modes = [(module, module.training) for module in model.modules()]
    model.train(training)
    try:
        yield model
    finally:
        for module, mode in modes:
            module.training = mode
