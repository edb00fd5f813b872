"""The grading machinery shared by every exercise: run the learner's function against the reference.

An exercise is a reference function, a list of :class:`Case` inputs (random ones and the adversarial ones:
padding, fully masked rows, a batch of 1, float64) and a list of :class:`Mistake` s, typical wrong
implementations each paired with the hint that names it. Grading runs the learner's function on every case
and compares its output with the reference's (type, shape, dtype, NaNs, values). When they differ, the hint
is the one of the mistake whose outputs equal the learner's on every case; when no known mistake does, it
names the first case that differs and how. A stub not yet written (it raises ``NotImplementedError`` or
returns ``None`` / ``...``) gets "not yet" and nothing raises, so an exercise notebook runs top to bottom.

Calling an :class:`Exercise` prints one verdict line, ``pass``, ``hint`` or ``not yet``, and returns
``None`` (so a notebook cell shows the printed line only); :meth:`Exercise.assess` returns the
:class:`Report` for tests.
"""

from __future__ import annotations

import copy
import math
import numbers
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

__all__ = ["Case", "Exercise", "Mistake", "Prediction", "Report"]

PASS, HINT, NOT_YET = "pass", "hint", "not yet"
_PACKAGE = str(Path(__file__).resolve().parent)  # frames of the graders themselves are not the learner's


@dataclass(frozen=True)
class Case:
    """One input of the learner's function; ``name`` says what it probes ("padding", "float64", ...)."""

    name: str
    args: tuple
    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Mistake:
    """A typical wrong implementation and the hint that names it."""

    hint: str
    function: Callable[..., Any]


@dataclass(frozen=True)
class Report:
    exercise: str
    status: str  # "pass", "hint" or "not yet"
    message: str

    def __str__(self) -> str:
        return f"{self.status.upper()} · {self.exercise}: {self.message}"


def _is_stub_value(value: object) -> bool:
    return value is None or value is Ellipsis


def _fresh(value: Any) -> Any:
    """A deep copy of a case's inputs, so that a function that writes into them spoils nothing."""
    return copy.deepcopy(value)


def _inputs_equal(before: Any, after: Any) -> bool:
    if isinstance(before, torch.Tensor):
        return (
            isinstance(after, torch.Tensor)
            and before.shape == after.shape
            and bool(torch.equal(before, after) or torch.allclose(before, after, equal_nan=True))
        )
    if isinstance(before, (tuple, list)):
        return len(before) == len(after) and all(_inputs_equal(a, b) for a, b in zip(before, after))
    return True  # modules and plain values: not checked


def _describe(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        if value.numel() <= 8:
            shown = [round(v, 4) if isinstance(v, float) else v for v in value.flatten().tolist()]
            return f"tensor {shown} (shape {tuple(value.shape)}, {value.dtype})"
        return f"a tensor of shape {tuple(value.shape)}, {value.dtype}"
    if isinstance(value, float):
        return f"{value:.6g}"
    return type(value).__name__ if not isinstance(value, (int, bool, str)) else repr(value)


def _tolerances(dtype: torch.dtype) -> tuple[float, float]:
    return (1e-7, 1e-9) if dtype == torch.float64 else (1e-4, 1e-5)  # (rtol, atol)


def difference(
    expected: Any, got: Any, what: str = "the output", check_dtype: bool = True, names: Sequence[str] = ()
) -> str | None:
    """How ``got`` differs from ``expected`` (type, shape, dtype, NaN, values), or None when it equals it.

    ``names`` name the items of a returned tuple ("output", "weights").
    """
    if isinstance(expected, tuple):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return f"{what} should be a tuple of {len(expected)} ({', '.join(names)}), got {_describe(got)}"
        for position, (one, other) in enumerate(zip(expected, got)):
            item = f"the returned tensor `{names[position]}`" if position < len(names) else f"item {position} of {what}"
            problem = difference(one, other, item, check_dtype)
            if problem:
                return problem
        return None
    if isinstance(expected, torch.Tensor):
        if not isinstance(got, torch.Tensor):
            return f"{what} should be a torch.Tensor, got {_describe(got)}"
        if got.shape != expected.shape:
            return f"{what} has shape {tuple(got.shape)}, expected {tuple(expected.shape)}"
        if expected.dtype == torch.bool:
            if got.dtype != torch.bool:
                return f"{what} has dtype {got.dtype}, expected a boolean tensor (torch.bool)"
            return None if torch.equal(got, expected) else f"{what} has {int((got != expected).sum())} wrong entries"
        if not expected.is_floating_point():
            if got.is_floating_point() or got.dtype == torch.bool:
                return f"{what} has dtype {got.dtype}, expected integers ({expected.dtype})"
            return None if torch.equal(got.long(), expected.long()) else f"{what} has wrong entries"
        if check_dtype and got.dtype != expected.dtype:
            return (
                f"{what} has dtype {got.dtype} where the inputs are {expected.dtype}: keep the caller's dtype "
                "(build new tensors with dtype=x.dtype, avoid .float())"
            )
        if not got.is_floating_point():
            return f"{what} has dtype {got.dtype}, expected floating point numbers"
        nan_got, nan_expected = torch.isnan(got), torch.isnan(expected)
        if bool((nan_got & ~nan_expected).any()):
            return f"{what} holds NaN where the reference has a number"
        if bool((torch.isinf(got) & torch.isfinite(expected)).any()):
            return f"{what} holds ±inf where the reference is finite (log 0, or an overflow)"
        rtol, atol = _tolerances(expected.dtype)
        if not torch.allclose(got.to(expected.dtype), expected, rtol=rtol, atol=atol, equal_nan=True):
            worst = float((got.to(expected.dtype) - expected).abs().nan_to_num(math.inf).max())
            return f"{what} differs from the reference by up to {worst:.3g}"
        return None
    if isinstance(expected, float):
        if isinstance(got, torch.Tensor) and got.numel() == 1:
            got = got.item()
        if not isinstance(got, numbers.Real) or isinstance(got, bool):
            return f"{what} should be a number, got {_describe(got)}"
        got = float(got)
        if math.isnan(got) and not math.isnan(expected):
            return f"{what} is NaN"
        if math.isinf(got) and not math.isinf(expected):
            return f"{what} is {got}, where the reference is finite (log 0, or an overflow)"
        return (
            None
            if math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-9)
            else f"{what} is {got:.6g}, expected {expected:.6g}"
        )
    return None if got == expected else f"{what} is {_describe(got)}, expected {_describe(expected)}"


def _same_values(one: Any, learners: Any, lenient: bool = False) -> bool:
    """Loose equality for telling which mistake a learner made: values only, NaN equal to NaN.

    ``lenient``: the learner's NaNs match any value (a learner may make a known mistake and, on top, divide
    0 by 0 somewhere); :meth:`Exercise._matches` then also asks for one case without NaN.
    """
    if isinstance(one, tuple) or isinstance(learners, tuple):
        return (
            isinstance(one, (tuple, list))
            and isinstance(learners, (tuple, list))
            and len(one) == len(learners)
            and all(_same_values(a, b, lenient) for a, b in zip(one, learners))
        )
    if isinstance(one, torch.Tensor) or isinstance(learners, torch.Tensor):
        if not (isinstance(one, torch.Tensor) and isinstance(learners, torch.Tensor)) or one.shape != learners.shape:
            return False
        one, learners = one.double(), learners.double()
        if lenient and learners.is_floating_point():
            unknown = torch.isnan(learners)
            one, learners = one[~unknown], learners[~unknown]
        return bool(torch.allclose(one, learners, rtol=1e-4, atol=1e-5, equal_nan=True))
    other = learners
    if isinstance(one, (int, float)) and isinstance(other, (int, float)):
        return math.isclose(one, other, rel_tol=1e-4, abs_tol=1e-6) or (math.isnan(one) and math.isnan(other))
    return one == other


def _has_nan(output: Any) -> bool:
    if isinstance(output, (tuple, list)):
        return any(_has_nan(item) for item in output)
    if isinstance(output, torch.Tensor):
        return output.is_floating_point() and bool(torch.isnan(output).any())
    return isinstance(output, float) and math.isnan(output)


def _error_line(error: Exception) -> str:
    message = str(error).strip().splitlines()
    return f"{type(error).__name__}: {message[0][:200]}" if message else type(error).__name__


def _learner_line(error: Exception) -> str:
    """The last line of the learner's own code in the traceback (where the error happened)."""
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if "site-packages" not in frame.filename and not frame.filename.startswith(_PACKAGE)
    ]
    return f" at `{frames[-1].line}`" if frames and frames[-1].line else ""


class Exercise:
    """A graded exercise: call it with the learner's function to print a verdict."""

    def __init__(
        self,
        name: str,
        reference: Callable[..., Any],
        cases: Callable[[], Sequence[Case]],
        mistakes: Sequence[Mistake] = (),
        check_dtype: bool = True,
        names: Sequence[str] = (),
        canonical: Callable[[Any], Any] | None = None,
    ) -> None:
        """``canonical`` maps every output to a normal form before comparing (e.g. sorts pairs given in any order)."""
        self.name, self.reference, self.make_cases, self.canonical = name, reference, cases, canonical
        self.mistakes, self.check_dtype, self.names = tuple(mistakes), check_dtype, tuple(names)

    def __call__(self, function: Callable[..., Any]) -> None:
        print(self.assess(function))

    def __repr__(self) -> str:
        return f"<exercise {self.name}: call it with your function>"

    def _run(self, function: Callable[..., Any], case: Case) -> tuple[Any, Exception | None, bool]:
        """(output, error, changed its inputs)."""
        args, kwargs = _fresh(case.args), _fresh(case.kwargs)
        try:
            with torch.no_grad():
                output = function(*args, **kwargs)
        except Exception as error:  # the learner's code may raise anything; report it, never re-raise
            return None, error, False
        if self.canonical is not None:
            output = self.canonical(output)
        return (
            output,
            None,
            not (_inputs_equal(case.args, args) and _inputs_equal(list(case.kwargs.values()), list(kwargs.values()))),
        )

    def assess(self, function: Callable[..., Any]) -> Report:
        # Grading draws its own random inputs: the learner's random stream stays where it was.
        with torch.random.fork_rng(devices=[]):
            return self._assess(function)

    def _assess(self, function: Callable[..., Any]) -> Report:
        if _is_stub_value(function):
            return Report(self.name, NOT_YET, "define the function first, then pass it here")
        if not callable(function):
            return Report(
                self.name,
                HINT,
                f"pass the function itself, e.g. check.{self.name}({self.name}), "
                f"not its result ({_describe(function)})",
            )
        cases = list(self.make_cases())
        expected = [self._run(self.reference, case)[0] for case in cases]
        outputs, errors, changed = zip(*(self._run(function, case) for case in cases))
        if isinstance(errors[0], NotImplementedError) or (errors[0] is None and _is_stub_value(outputs[0])):
            return Report(
                self.name,
                NOT_YET,
                "the function is still a stub: replace `raise NotImplementedError` "
                "with your code and run the cell again",
            )
        problems = []
        for case, want, got, error, wrote in zip(cases, expected, outputs, errors, changed):
            if error is not None:
                problem = f"raised {_error_line(error)}{_learner_line(error)}"
            else:
                problem = difference(want, got, check_dtype=self.check_dtype, names=self.names)
                if problem is None and wrote:
                    problem = "changed one of its inputs in place: work on a copy (or use out-of-place operations)"
            if problem:
                problems.append((case, problem))
        if not problems:
            names = "; ".join(dict.fromkeys(case.name for case in cases))
            return Report(self.name, PASS, f"equals the reference on all {len(cases)} cases ({names}).")
        case, problem = problems[0]
        for lenient in (False, True):
            for mistake in self.mistakes:
                if self._matches(mistake, cases, outputs, errors, lenient):
                    return Report(self.name, HINT, f"{mistake.hint} (first difference, case '{case.name}': {problem})")
        return Report(self.name, HINT, f"case '{case.name}': {problem}.")

    def _matches(self, mistake: Mistake, cases: list[Case], outputs: tuple, errors: tuple, lenient: bool) -> bool:
        """Does the mistake give the learner's outputs on every case (or fail with the same error type)?"""
        if lenient and all(error is not None or _has_nan(got) for got, error in zip(outputs, errors)):
            return False  # NaN everywhere would match anything
        for case, got, error in zip(cases, outputs, errors):
            theirs, their_error, _ = self._run(mistake.function, case)
            if error is not None or their_error is not None:
                if type(error) is not type(their_error):
                    return False
            elif not _same_values(theirs, got, lenient):
                return False
        return True


class Prediction:
    """A "change one thing and predict" exercise, answered with a number.

    ``measure`` computes the true value; ``wrong_answers`` maps a hint to the number a typical
    misconception gives (the answer is matched to the closest one within the tolerance).
    """

    def __init__(
        self,
        name: str,
        measure: Callable[[], float],
        tolerance: float,
        wrong_answers: Callable[[], dict[str, float]] = dict,
        explanation: str = "",
    ) -> None:
        self.name, self.measure, self.tolerance = name, measure, tolerance
        self.wrong_answers, self.explanation = wrong_answers, explanation

    def __call__(self, answer: object) -> None:
        print(self.assess(answer))

    def __repr__(self) -> str:
        return f"<prediction {self.name}: call it with your number>"

    def assess(self, answer: object) -> Report:
        if _is_stub_value(answer):
            return Report(self.name, NOT_YET, "replace `...` with your number and run the cell again")
        if isinstance(answer, torch.Tensor) and answer.numel() == 1:
            answer = answer.item()
        if isinstance(answer, bool) or not isinstance(answer, numbers.Real) or math.isnan(answer):
            return Report(self.name, HINT, f"the answer is a single number, got {_describe(answer)}")
        answer, truth = float(answer), float(self.measure())
        if abs(answer - truth) <= self.tolerance:
            return Report(self.name, PASS, f"{answer:.4g} is right (measured: {truth:.4g}). {self.explanation}".strip())
        for hint, value in self.wrong_answers().items():
            if abs(answer - value) <= self.tolerance:
                return Report(self.name, HINT, f"{answer:.4g}: {hint}")
        direction = "too high" if answer > truth else "too low"
        return Report(
            self.name,
            HINT,
            f"{answer:.4g} is {direction}; measure it with a few lines of code (tolerance ±{self.tolerance:g}).",
        )
