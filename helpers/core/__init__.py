"""Shared basics for every notebook: seeding, the device, argument checks, train/eval mode and timing.

One way to do each: seed through :mod:`helpers.core.seeding`, pick and pass a device through
:mod:`helpers.core.device`, check a learner's arguments with :mod:`helpers.core.checks`.
"""

from helpers.core.checks import (
    check_choice,
    check_finite,
    check_finite_number,
    check_integers,
    check_positive_int,
    check_positive_number,
    check_probabilities,
    check_probability,
    check_same_length,
    check_sentences,
    check_shape,
    check_token_ids,
    check_unique,
    check_words,
)
from helpers.core.device import model_device, pick_device, resolve_device, torch_threads
from helpers.core.modes import training_mode
from helpers.core.seeding import (
    numpy_generator,
    python_random,
    seed_everything,
    seed_stream,
    seed_torch,
    torch_generator,
)
from helpers.core.timing import seconds_per_call

__all__ = [
    "check_choice",
    "check_finite",
    "check_finite_number",
    "check_integers",
    "check_positive_int",
    "check_positive_number",
    "check_probabilities",
    "check_probability",
    "check_same_length",
    "check_sentences",
    "check_shape",
    "check_token_ids",
    "check_unique",
    "check_words",
    "model_device",
    "numpy_generator",
    "pick_device",
    "python_random",
    "resolve_device",
    "seconds_per_call",
    "seed_everything",
    "seed_stream",
    "seed_torch",
    "torch_generator",
    "torch_threads",
    "training_mode",
]
