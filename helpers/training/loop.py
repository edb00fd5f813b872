"""The one training loop that every notebook uses.

A notebook describes *one optimisation step* as a function ``step(batch) -> metrics`` and hands it
to :func:`train` together with its batches. The loop does the bookkeeping: epochs, a progress bar,
per-step and per-epoch metric history, an optional evaluation after each epoch, and optional early
stopping that restores the best weights. Supervised models get their step from
:func:`supervised_step`; a GAN or word2vec writes its own step and still uses this loop. Every step
ends in the same :func:`optimizer_step` (zero the gradients, backpropagate, clip, update).

A loss that is NaN or infinite stops training at once, naming the epoch, the step and the batch:
running on would only spread NaN through every weight. With ``model=``, the weights are checked too after
each epoch (an update can break them after the last loss was computed, or in a part the loss no longer reads).
"""

from __future__ import annotations

import copy
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from helpers.core import check_choice, check_positive_int, training_mode
from helpers.training.progress import ProgressBar

Metrics = dict[str, float]


@dataclass
class History:
    """Metrics recorded by :func:`train`: ``steps[name]`` per step, ``epochs[name]`` per epoch."""

    steps: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    epochs: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    best_epoch: int | None = None  # 1-based, set when early stopping monitors a metric

    def last(self, name: str) -> float:
        """The latest per-epoch value of ``name``."""
        if name not in self.epochs:
            raise KeyError(f"no epoch metric {name!r}; recorded: {sorted(self.epochs)}")
        return self.epochs[name][-1]


def _as_metrics(result: Any) -> Metrics:
    if isinstance(result, dict):
        return {key: float(value) for key, value in result.items()}
    if isinstance(result, torch.Tensor):
        return {"loss": float(result.detach())}
    if isinstance(result, (int, float)):
        return {"loss": float(result)}
    raise TypeError(f"a step function must return a dict of metrics or a loss, got {type(result).__name__}")


def train(
    step: Callable[[Any], Any],
    batches: Iterable[Any] | Callable[[int], Iterable[Any]],
    epochs: int = 1,
    *,
    evaluate: Callable[[], Metrics] | None = None,
    model: nn.Module | None = None,
    monitor: str | None = None,
    mode: str = "max",
    patience: int | None = None,
    description: str = "epoch",
    show_progress: bool = True,
    history: History | None = None,
) -> History:
    """Run ``step`` over ``batches`` for ``epochs`` epochs and return the :class:`History`.

    - ``batches``: a re-iterable (a list, a ``DataLoader``) or a function ``epoch -> iterable``.
    - ``evaluate``: called after each epoch; its metrics (e.g. ``val_accuracy``) are recorded.
    - ``model``: its weights are checked for NaN and infinity after each epoch (pass every trained module,
      e.g. ``nn.ModuleList([generator, discriminator])``).
    - ``monitor``/``mode``/``patience``: keep the weights of ``model`` from the epoch with the best
      ``monitor`` value, stop after ``patience`` epochs without improvement, and restore the best
      weights at the end (early stopping, as Kim 2014 uses on a validation set).
    - ``history``: continue recording into an existing History (training in several cells).
    """
    epochs = check_positive_int(epochs, "epochs")
    check_choice(mode, ("max", "min"), "mode")
    if monitor is not None and model is None:
        raise ValueError("monitor= needs model= so that the best weights can be kept and restored")
    if patience is not None:
        check_positive_int(patience, "patience")
    history = history if history is not None else History()
    best_value: float | None = None
    best_state: dict[str, torch.Tensor] | None = None
    epochs_without_improvement = 0
    steps_done = max((len(values) for values in history.steps.values()), default=0)  # continues a history

    for epoch in range(1, epochs + 1):
        epoch_batches = batches(epoch) if callable(batches) else batches
        try:
            total = len(epoch_batches)  # type: ignore[arg-type]
        except TypeError as error:
            raise TypeError("batches must have a length (a list or DataLoader) for the progress bar") from error
        if total == 0:
            raise ValueError("batches is empty: there is nothing to train on (check the data split and batch size)")
        sums: Metrics = defaultdict(float)
        bar = ProgressBar(total, f"{description} {epoch}/{epochs}") if show_progress else None
        first_step = steps_done + 1
        for batch_index, batch in enumerate(epoch_batches):
            metrics = _as_metrics(step(batch))
            steps_done += 1
            bad = {key: value for key, value in metrics.items() if not math.isfinite(value)}
            if bad:
                raise FloatingPointError(
                    f"{bad} at epoch {epoch}, step {steps_done} (batch {batch_index} "
                    f"of the epoch): training diverged. Lower the learning rate, clip gradients "
                    f"(max_grad_norm=), or look for a bad input in that batch."
                )
            for key, value in metrics.items():
                history.steps[key].append(value)
                sums[key] += value
            if bar is not None:
                bar.update(1, **metrics)
        if model is not None:
            _check_finite_weights(model, epoch, first_step, steps_done)
        epoch_metrics = {key: value / total for key, value in sums.items()}
        if evaluate is not None:
            epoch_metrics.update(_as_metrics(evaluate()))
        for key, value in epoch_metrics.items():
            history.epochs[key].append(value)
        if bar is not None:
            bar.metrics = {}
            bar.close(**epoch_metrics)

        if monitor is not None:
            if monitor not in epoch_metrics:
                raise KeyError(f"monitor={monitor!r} is not among the epoch metrics {sorted(epoch_metrics)}")
            value = epoch_metrics[monitor]
            if not math.isfinite(value):
                raise FloatingPointError(
                    f"the monitored metric {monitor!r} is {value} at epoch {epoch}: early "
                    f"stopping cannot compare it. Check the evaluation function."
                )
            improved = best_value is None or (value > best_value if mode == "max" else value < best_value)
            if improved:
                best_value, history.best_epoch = value, epoch
                best_state = copy.deepcopy(model.state_dict())  # type: ignore[union-attr]
                epochs_without_improvement = 0
            else:
                epochs_without_improvement += 1
                if patience is not None and epochs_without_improvement >= patience:
                    break
    if best_state is not None:
        model.load_state_dict(best_state)  # type: ignore[union-attr]
    return history


def _check_finite_weights(model: nn.Module, epoch: int, first_step: int, last_step: int) -> None:
    """Stop with the names of the parameters that hold NaN or infinity, and the steps that broke them."""
    broken = [name for name, parameter in model.named_parameters() if not bool(torch.isfinite(parameter).all())]
    if broken:
        raise FloatingPointError(
            f"the weights {broken[:5]} hold NaN or infinity after step {last_step} (epoch {epoch}, steps "
            f"{first_step}-{last_step}, whose losses were finite): an update diverged. Lower the learning rate "
            f"(the usual cause), clip gradients (max_grad_norm=), or look for a bad input."
        )


def _to_device(batch: Any, device: torch.device | None) -> Any:
    if device is None:
        return batch
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to_device(item, device) for item in batch)
    return batch


def optimizer_step(optimizer: torch.optim.Optimizer, loss: torch.Tensor, *, max_grad_norm: float | None = None) -> None:
    """One update: clear old gradients, backpropagate ``loss``, clip the gradient norm, step.

    The one place where every training step in the course (supervised, word2vec, GAN) updates weights.
    """
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if max_grad_norm is not None:
        parameters = [p for group in optimizer.param_groups for p in group["params"]]
        nn.utils.clip_grad_norm_(parameters, max_grad_norm)
    optimizer.step()


def supervised_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    *,
    device: torch.device | None = None,
    max_grad_norm: float | None = None,
    after_step: Callable[[], None] | None = None,
) -> Callable[[Any], Metrics]:
    """The step of supervised learning, for batches ``(inputs, targets)``.

    ``inputs`` may be one tensor or a tuple of tensors passed as ``model(*inputs)``. ``after_step``
    runs after the optimiser (a learning-rate scheduler, or Kim's max-norm constraint).
    """

    def step(batch: Any) -> Metrics:
        inputs, targets = _to_device(batch, device)
        model.train()
        outputs = model(*inputs) if isinstance(inputs, (tuple, list)) else model(inputs)
        loss = loss_fn(outputs, targets)
        optimizer_step(optimizer, loss, max_grad_norm=max_grad_norm)
        if after_step is not None:
            after_step()
        return {"loss": float(loss.detach())}

    return step


@torch.no_grad()
def evaluate_classifier(
    model: nn.Module,
    batches: Iterable[Any],
    *,
    device: torch.device | None = None,
    prefix: str = "",
) -> Metrics:
    """Mean cross-entropy and accuracy of a classifier (logits over classes) on ``batches``.

    The keys are ``loss`` and ``accuracy``; ``prefix="val_"`` names them for the validation set.
    The model's training/eval mode is restored afterwards.
    """
    with training_mode(model, False):
        total_loss, correct, count = 0.0, 0, 0
        for batch in batches:
            inputs, targets = _to_device(batch, device)
            logits = model(*inputs) if isinstance(inputs, (tuple, list)) else model(inputs)
            total_loss += float(nn.functional.cross_entropy(logits, targets, reduction="sum"))
            correct += int((logits.argmax(dim=-1) == targets).sum())
            count += int(targets.numel())
    if count == 0:
        raise ValueError("evaluate_classifier got no examples: the evaluation batches are empty")
    return {f"{prefix}loss": total_loss / count, f"{prefix}accuracy": correct / count}
