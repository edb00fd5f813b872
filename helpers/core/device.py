"""Where tensors live: one rule for picking the device, shared by every notebook and trainer.

Trainers take ``device=`` and move their model and batches there; notebooks pass the device that
``helpers.setup_notebook`` returns. The committed outputs are CPU runs (the reproducible path).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from helpers.core.checks import check_choice, check_positive_int

__all__ = ["model_device", "pick_device", "resolve_device", "torch_threads"]

_DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def pick_device(prefer: str | None = None) -> torch.device:
    """Choose where tensors live: CUDA, then Apple MPS, then CPU.

    ``prefer`` (or the environment variable ``HELPERS_DEVICE``) may be ``"auto"``, ``"cpu"``,
    ``"cuda"`` or ``"mps"``. The tests set ``HELPERS_DEVICE=cpu``: the committed notebook outputs
    are CPU runs, and only the CPU path is bit-for-bit reproducible.
    """
    choice = (prefer or os.environ.get("HELPERS_DEVICE") or "auto").lower()
    check_choice(choice, _DEVICE_CHOICES, "device (prefer= or HELPERS_DEVICE)")
    cuda_ok = torch.cuda.is_available()
    mps_ok = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if choice == "cuda" and not cuda_ok:
        raise RuntimeError("device 'cuda' was asked for, but PyTorch sees no CUDA GPU; use 'cpu' or 'auto'")
    if choice == "mps" and not mps_ok:
        raise RuntimeError("device 'mps' was asked for, but PyTorch sees no Apple GPU; use 'cpu' or 'auto'")
    if choice == "auto":
        choice = "cuda" if cuda_ok else "mps" if mps_ok else "cpu"
    return torch.device(choice)


def model_device(model: torch.nn.Module) -> torch.device:
    """Where ``model``'s parameters live (the CPU for a model without parameters): inputs go there too."""
    parameter = next(model.parameters(), None)
    return torch.device("cpu") if parameter is None else parameter.device


def resolve_device(device: torch.device | str | None) -> torch.device:
    """The device a trainer was given, as a ``torch.device``; ``None`` means the CPU.

    Accepts a ``torch.device`` or a string PyTorch understands (``"cpu"``, ``"cuda:0"``, ``"meta"``) and
    refuses anything else with a message that says what to pass.
    """
    if device is None:
        return torch.device("cpu")
    if isinstance(device, torch.device):
        return device
    if isinstance(device, str):
        try:
            return torch.device(device)
        except RuntimeError as error:
            raise ValueError(f"device must name a PyTorch device such as 'cpu' or 'cuda', got {device!r}") from error
    raise TypeError(f"device must be a torch.device or a string such as 'cpu', got {type(device).__name__}")


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """PyTorch computes on ``count`` CPU threads inside the block; the caller's count is restored after it, also
    on an error. Whether the digits depend on the count depends on the operation (a reduction split between
    threads adds in another order): check before relying on it."""
    previous = torch.get_num_threads()
    torch.set_num_threads(check_positive_int(count, "count"))
    try:
        yield
    finally:
        torch.set_num_threads(previous)
