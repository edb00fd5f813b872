"""The grading machinery shared by every exercise: run the learner's function against the reference.

An exercise is a reference function, a list of :class:`Case` inputs (random ones and the adversarial ones:
padding, fully masked rows, a batch of 1, float64) and a list of :class:`Mistake` s, typical wrong
implementations each paired with the hint that names it. Grading runs the learner's function on every case,
with gradients enabled as in training, and compares its output with the reference's (type, shape, dtype, NaNs,
values). When they differ, the hint is the one of the mistake whose outputs equal the learner's on every case;
when no known mistake does, it names the first case that differs and how. A stub not yet written (it raises
``NotImplementedError`` or returns ``None`` / ``...``) gets "not yet" and nothing raises, so an exercise
notebook runs top to bottom.

For a function whose output the course differentiates (losses, attention, layers: ``gradients=True``), equal
values are not enough: the floating-point inputs (and a module's parameters) are made to require gradients,
both outputs are projected on the same random direction and backpropagated, and the input gradients must
equal the reference's. A loss computed through NumPy or ``.item()`` and wrapped back into a tensor has the
right values and no gradient; a misplaced ``detach()`` has a partial one. ``by_hand=True`` runs the learner's
function under ``torch.no_grad()``, for exercises that ask for a gradient derived by hand, and ``forbidden``
names the library functions an exercise asks the learner to rebuild.

Calling an :class:`Exercise` prints one verdict line, ``pass``, ``hint`` or ``not yet``, and returns
``None`` (so a notebook cell shows the printed line only); :meth:`Exercise.assess` returns the
:class:`Report` for tests. :class:`Prediction` grades a number ("change one thing and predict"), and
:class:`Behaviour` an experiment run with the learner's function or trained model (a training step, a
short training run).
"""

from __future__ import annotations

import copy
import inspect
import math
import numbers
import sys
import textwrap
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from helpers.core import torch_generator

__all__ = ["Behaviour", "Case", "Exercise", "Mistake", "Prediction", "Report"]

PASS, HINT, NOT_YET = "pass", "hint", "not yet"
_PACKAGE = str(Path(__file__).resolve().parent)  # frames of the graders themselves are not the learner's
_TORCH = str(Path(torch.__file__).resolve().parent)
# A verdict is printed wrapped at word boundaries: JupyterLab breaks a long output line wherever the window
# ends, mid-word ("differenc|e"). Continuation lines are indented by CONTINUATION (tests/nbval_sanitize.cfg
# joins them again, so a committed verdict printed on one line still compares equal).
WRAP_WIDTH = 88
CONTINUATION = "    "
NO_GRADIENT = "no gradient flows: did you leave PyTorch (NumPy, .item())?"
GRADIENT_DIFFERS = "the gradient differs: check detach() / the sign"


@dataclass(frozen=True)
class Case:
    """One input of the learner's function; ``name`` says what it probes ("padding", "float64", ...)."""

    name: str
    args: tuple
    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Mistake:
    """A typical wrong implementation and the hint that names it.

    ``only`` names the cases the mistake is recognised on (by default all): where its output depends on an
    arbitrary choice the learner may make otherwise (the order in which a sort leaves tied values).
    """

    hint: str
    function: Callable[..., Any]
    only: Callable[[Case], bool] | None = None


@dataclass(frozen=True)
class Report:
    exercise: str
    status: str  # "pass", "hint" or "not yet"
    message: str

    def __str__(self) -> str:
        return f"{self.status.upper()} · {self.exercise}: {self.message}"

    def wrapped(self, width: int = WRAP_WIDTH) -> str:
        """The verdict as printed: lines of at most ``width`` characters, broken between words only.

        A single word longer than ``width`` (a long path) stays whole on a line of its own; a line break the
        message already has is kept.
        """
        return "\n".join(
            textwrap.fill(
                line,
                width=width,
                subsequent_indent=CONTINUATION,
                break_long_words=False,
                break_on_hyphens=False,
            )
            for line in str(self).split("\n")
        )


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
    if isinstance(before, dict):
        return before.keys() == after.keys() and all(_inputs_equal(before[k], after[k]) for k in before)
    return True  # modules and plain values: not checked


def _detached(value: Any) -> Any:
    """The output without its autograd graph, for comparing values (gradients are compared on their own)."""
    if isinstance(value, torch.Tensor):
        return value.detach()
    if isinstance(value, tuple):
        return tuple(_detached(item) for item in value)
    if isinstance(value, list):
        return [_detached(item) for item in value]
    return value


def _describe(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        if value.numel() <= 8:
            shown = [round(v, 4) if isinstance(v, float) else v for v in value.detach().flatten().tolist()]
            return f"tensor {shown} (shape {tuple(value.shape)}, {value.dtype})"
        return f"a tensor of shape {tuple(value.shape)}, {value.dtype}"
    if isinstance(value, float):
        return f"{value:.6g}"
    return type(value).__name__ if not isinstance(value, (int, bool, str)) else repr(value)


def _tolerances(dtype: torch.dtype) -> tuple[float, float]:
    return (1e-7, 1e-9) if dtype == torch.float64 else (1e-4, 1e-5)  # (rtol, atol)


def difference(
    expected: Any,
    got: Any,
    what: str = "the output",
    check_dtype: bool = True,
    names: Sequence[str] = (),
    dtype_advice: str | None = None,
) -> str | None:
    """How ``got`` differs from ``expected`` (type, shape, dtype, NaN, values), or None when it equals it.

    ``names`` name the items of a returned tuple ("output", "weights"). ``dtype_advice`` replaces the default
    advice on a floating-point dtype that differs (where the statement names the dtype, not the inputs).
    """
    if isinstance(expected, tuple):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return f"{what} should be a tuple of {len(expected)} ({', '.join(names)}), got {_describe(got)}"
        for position, (one, other) in enumerate(zip(expected, got)):
            item = f"the returned tensor `{names[position]}`" if position < len(names) else f"item {position} of {what}"
            problem = difference(one, other, item, check_dtype, dtype_advice=dtype_advice)
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
            if check_dtype and got.dtype != expected.dtype:
                return f"{what} has dtype {got.dtype}; the statement asks for {expected.dtype} (e.g. dtype=torch.long)"
            return None if torch.equal(got.long(), expected.long()) else f"{what} has wrong entries"
        if check_dtype and got.dtype != expected.dtype:
            if dtype_advice:
                return f"{what} has dtype {got.dtype}, expected {expected.dtype}: {dtype_advice}"
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


def error_line(error: BaseException) -> str:
    message = str(error).strip().splitlines()
    return f"{type(error).__name__}: {message[0][:200]}" if message else type(error).__name__


def learner_line(error: BaseException) -> str:
    """The last line of the learner's own code in the traceback (where the error happened)."""
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if "site-packages" not in frame.filename and not frame.filename.startswith(_PACKAGE)
    ]
    return f" at `{frames[-1].line}`" if frames and frames[-1].line else ""


# --- functions an exercise asks the learner to rebuild ---------------------------------------------------


class ForbiddenCall(Exception):
    """The learner called a library function that the exercise asks them to write themselves."""


class _Forbid(TorchFunctionMode):
    """Raises :class:`ForbiddenCall` when the learner's code calls one of ``functions``, directly or through an
    ``nn`` module (whose forward calls the same functions). The graders' own code may call them."""

    def __init__(self, functions: Sequence[Callable[..., Any]], hint: str) -> None:
        super().__init__()
        self.functions, self.hint = tuple(functions), hint

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001 (PyTorch's protocol)
        if func in self.functions and not _called_by_a_grader():
            raise ForbiddenCall(self.hint)
        return func(*args, **(kwargs or {}))


def _called_by_a_grader() -> bool:
    """Is the nearest caller outside PyTorch (and outside this file) one of the graders?"""
    frame = sys._getframe(2)
    while frame is not None and (frame.f_code.co_filename.startswith(_TORCH) or frame.f_code.co_filename == __file__):
        frame = frame.f_back
    return frame is not None and frame.f_code.co_filename.startswith(_PACKAGE)


# --- gradients ------------------------------------------------------------------------------------------


def _leaves(name: str, value: Any) -> Iterator[tuple[str, torch.Tensor]]:
    """The differentiable inputs inside one argument: floating-point tensors and a module's parameters."""
    if isinstance(value, torch.Tensor):
        if value.is_floating_point():
            yield name, value
    elif isinstance(value, nn.Module):
        for parameter_name, parameter in value.named_parameters():
            if parameter.requires_grad:
                yield f"{name}.{parameter_name}", parameter
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(f"{name}[{key!r}]", item)
    elif isinstance(value, (tuple, list)):
        for position, item in enumerate(value):
            yield from _leaves(f"{name}[{position}]", item)


def _float_tensors(output: Any) -> list[torch.Tensor]:
    if isinstance(output, torch.Tensor):
        return [output] if output.is_floating_point() else []
    if isinstance(output, (tuple, list)):
        return [tensor for item in output for tensor in _float_tensors(item)]
    return []


@dataclass
class _Gradients:
    """The input gradients of one run: ``None`` for an input the output does not depend on."""

    names: list[str]
    values: list[torch.Tensor | None]
    connected: bool = True  # does the output depend on any input through autograd's graph?
    error: Exception | None = None


def _nonzero(gradient: torch.Tensor | None) -> bool:
    return gradient is not None and bool((gradient != 0).any())


def _compare_gradients(name: str, want: torch.Tensor | None, got: torch.Tensor | None) -> str | None:
    """How the learner's gradient with respect to input ``name`` differs from the reference's, or None."""
    if want is None:
        want = torch.zeros_like(got) if got is not None else None
    if got is None:
        return None if not _nonzero(want) else f"{NO_GRADIENT} Nothing reaches `{name}` (a detach() on its way?)"
    if want is None or got.shape != want.shape:
        return None
    if bool((torch.isnan(got) & ~torch.isnan(want)).any()):
        return (
            f"the gradient with respect to `{name}` holds NaN where the reference's is finite: a NaN computed in the "
            "forward pass and hidden afterwards (by torch.where or a mask) still flows back; avoid computing it"
        )
    scale = float(want.abs().max()) if want.numel() else 0.0
    rtol, atol = (1e-6, 1e-9) if want.dtype == torch.float64 else (1e-3, 1e-5)
    atol *= max(1.0, scale)
    if torch.allclose(got.to(want.dtype), want, rtol=rtol, atol=atol, equal_nan=True):
        return None
    if not _nonzero(got):
        return f"{NO_GRADIENT} The gradient with respect to `{name}` is zero (a detach() on its way?)"
    if torch.allclose(-got.to(want.dtype), want, rtol=rtol, atol=atol, equal_nan=True):
        return f"{GRADIENT_DIFFERS}: the gradient with respect to `{name}` has the opposite sign of the reference's"
    worst = float((got.to(want.dtype) - want).abs().nan_to_num(math.inf).max())
    return (
        f"{GRADIENT_DIFFERS}: the gradient with respect to `{name}` differs from the reference's by up to {worst:.3g}"
    )


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
        *,
        gradients: bool = False,
        by_hand: bool = False,
        forbidden: Sequence[Callable[..., Any]] = (),
        forbidden_hint: str = "",
        dtype_advice: str | None = None,
        after_pass: Callable[[Callable[..., Any]], tuple[bool, str]] | None = None,
    ) -> None:
        """``canonical`` maps every output to a normal form before comparing (e.g. sorts pairs given in any order).

        ``gradients``: also compare the gradients of the output with respect to the floating-point inputs.
        ``by_hand``: run the learner's function under ``torch.no_grad()`` (a gradient derived by hand).
        ``forbidden``: library functions the learner must not call, with ``forbidden_hint`` as the hint.
        ``after_pass``: run once every case passes (a short training run with the learner's function); it
        returns (passed, what it measured), which the verdict adds.
        """
        self.name, self.reference, self.make_cases, self.canonical = name, reference, cases, canonical
        self.mistakes, self.check_dtype, self.names = tuple(mistakes), check_dtype, tuple(names)
        self.gradients, self.by_hand, self.dtype_advice, self.after_pass = gradients, by_hand, dtype_advice, after_pass
        self.forbidden, self.forbidden_hint = tuple(forbidden), forbidden_hint
        parameters = list(inspect.signature(reference).parameters.values())
        self.argument_names = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]

    def __call__(self, function: Callable[..., Any]) -> None:
        print(self.assess(function).wrapped())

    def __repr__(self) -> str:
        return f"<exercise {self.name}: call it with your function>"

    def _call(self, function: Callable[..., Any], args: tuple, kwargs: dict, learner: bool) -> Any:
        """Call with gradients enabled (as in training), or disabled for a learner's gradient by hand."""
        with torch.set_grad_enabled(not (self.by_hand and learner)):
            if learner and self.forbidden:
                with _Forbid(self.forbidden, self.forbidden_hint):
                    return function(*args, **kwargs)
            return function(*args, **kwargs)

    def _run(
        self, function: Callable[..., Any], case: Case, learner: bool = True
    ) -> tuple[Any, Exception | None, bool]:
        """(output, error, changed its inputs)."""
        args, kwargs = _fresh(case.args), _fresh(case.kwargs)
        try:
            output = _detached(self._call(function, args, kwargs, learner))
        except Exception as error:  # the learner's code may raise anything; report it, never re-raise
            return None, error, False
        if self.canonical is not None:
            output = self.canonical(output)
        return (
            output,
            None,
            not (_inputs_equal(case.args, args) and _inputs_equal(list(case.kwargs.values()), list(kwargs.values()))),
        )

    def _gradients(self, function: Callable[..., Any], case: Case, seed: int, learner: bool = True) -> _Gradients:
        """Backpropagate the output, projected on a random direction fixed by ``seed``, to every input."""
        args, kwargs = _fresh(case.args), _fresh(case.kwargs)
        named = [
            (self.argument_names[i] if i < len(self.argument_names) else f"argument {i}", a) for i, a in enumerate(args)
        ]
        leaves = [leaf for name, value in [*named, *kwargs.items()] for leaf in _leaves(name, value)]
        for _, tensor in leaves:
            tensor.requires_grad_(True)
        names, tensors = [name for name, _ in leaves], [tensor for _, tensor in leaves]
        try:
            output = self._call(function, args, kwargs, learner)
            generator = torch_generator(seed)
            outputs = _float_tensors(output)
            directions = [torch.randn(t.shape, generator=generator, dtype=torch.float64).to(t.dtype) for t in outputs]
            projected = [(t * d).sum() for t, d in zip(outputs, directions) if t.requires_grad]
            if not projected:
                return _Gradients(names, [None] * len(names), connected=False)
            values = torch.autograd.grad(sum(projected), tensors, allow_unused=True) if tensors else ()
        except Exception as error:
            return _Gradients(names, [None] * len(names), error=error)
        return _Gradients(names, list(values))

    def _first_gradient_problem(self, function: Callable[..., Any], cases: list[Case]) -> tuple[Case, str] | None:
        """The first case whose gradients differ from the reference's, and how (values already agree)."""
        for index, case in enumerate(cases):
            want = self._gradients(self.reference, case, seed=index, learner=False)
            got = self._gradients(function, case, seed=index)
            if got.error is not None:
                error = f"{error_line(got.error)}{learner_line(got.error)}"
                if "numpy" in str(got.error).lower():
                    return case, f"{NO_GRADIENT} NumPy cannot follow a tensor that requires grad ({error})"
                return case, (
                    f"it fails when its inputs require gradients, as in training: {error} (an in-place operation "
                    "on a tensor that autograd needs? use the out-of-place version)"
                )
            if not got.connected:
                if any(_nonzero(g) for g in want.values):
                    return case, (
                        f"{NO_GRADIENT} The output is not connected to the inputs in autograd's graph: it has the "
                        "right values, but nothing would train through it"
                    )
                continue
            if want.values and all(_nonzero(w) and not _nonzero(g) for w, g in zip(want.values, got.values)):
                return case, f"{NO_GRADIENT} No input gets a gradient (a detach(), or a tensor rebuilt from numbers?)"
            for name, one, other in zip(want.names, want.values, got.values):
                problem = _compare_gradients(name, one, other)
                if problem:
                    return case, problem
        return None

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
        outputs, errors, changed = zip(*(self._run(function, case) for case in cases))
        if isinstance(errors[0], NotImplementedError) or (errors[0] is None and _is_stub_value(outputs[0])):
            return Report(
                self.name,
                NOT_YET,
                "the function is still a stub: replace `raise NotImplementedError` "
                "with your code and run the cell again",
            )
        forbidden = next((error for error in errors if isinstance(error, ForbiddenCall)), None)
        if forbidden is not None:
            return Report(self.name, HINT, str(forbidden))
        expected = [self._run(self.reference, case, learner=False)[0] for case in cases]
        problems = []
        for case, want, got, error, wrote in zip(cases, expected, outputs, errors, changed):
            if error is not None:
                problem = f"raised {error_line(error)}{learner_line(error)}"
                if self.by_hand and "does not require grad" in str(error):
                    problem = (
                        "derive the gradient by hand: the grader runs your function under torch.no_grad(), where "
                        f"autograd records nothing ({problem})"
                    )
            else:
                problem = difference(
                    want, got, check_dtype=self.check_dtype, names=self.names, dtype_advice=self.dtype_advice
                )
                if problem is None and wrote:
                    problem = "changed one of its inputs in place: work on a copy (or use out-of-place operations)"
            if problem:
                problems.append((case, problem))
        if not problems and self.gradients:
            found = self._first_gradient_problem(function, cases)
            if found is not None:
                case, problem = found
                return Report(self.name, HINT, f"the values are right, but {problem} (case '{case.name}').")
        if not problems:
            names = "; ".join(dict.fromkeys(case.name for case in cases))
            verdict = f"equals the reference on all {len(cases)} cases ({names})"
            if self.gradients:
                verdict += ", gradients included"
            if self.by_hand:
                verdict += ", without autograd (the reference is autograd's)"
            if self.after_pass is not None:
                passed, measured = self.after_pass(function)
                if not passed:
                    return Report(self.name, HINT, f"{verdict}, but {measured}")
                verdict += f"; {measured}"
            return Report(self.name, PASS, f"{verdict}.")
        case, problem = problems[0]
        for lenient in (False, True):
            for mistake in self.mistakes:
                if self._matches(mistake, cases, outputs, errors, lenient):
                    return Report(self.name, HINT, f"{mistake.hint} (first difference, case '{case.name}': {problem})")
        return Report(self.name, HINT, f"case '{case.name}': {problem}{self._direction(function, case)}.")

    def _direction(self, function: Callable[..., Any], case: Case) -> str:
        """For a loss or layer with values unlike any known mistake: does its gradient point the wrong way?"""
        if not self.gradients:
            return ""
        want, got = self._gradients(self.reference, case, 0, learner=False), self._gradients(function, case, 0)
        pairs = [
            (w.double().flatten(), g.double().flatten())
            for w, g in zip(want.values, got.values)
            if w is not None and g is not None and w.shape == g.shape
        ]
        if got.error is not None or not pairs:
            return ""
        one, other = torch.cat([w for w, _ in pairs]), torch.cat([g for _, g in pairs])
        cosine = float(torch.nn.functional.cosine_similarity(one, other, dim=0))
        if not cosine < -0.5:
            return ""
        return (
            f"; its gradient points against the reference's (cosine {cosine:.2f}): training with it would move the "
            "wrong way (a sign, or a wrong target label?)"
        )

    def _matches(self, mistake: Mistake, cases: list[Case], outputs: tuple, errors: tuple, lenient: bool) -> bool:
        """Does the mistake give the learner's outputs on every case (or fail with the same error type)?"""
        if lenient and all(error is not None or _has_nan(got) for got, error in zip(outputs, errors)):
            return False  # NaN everywhere would match anything
        for case, got, error in zip(cases, outputs, errors):
            if mistake.only is not None and not mistake.only(case):
                continue
            theirs, their_error, _ = self._run(mistake.function, case, learner=False)
            if error is not None or their_error is not None:
                if type(error) is not type(their_error):
                    return False
            elif not _same_values(theirs, got, lenient):
                return False
        return True


class Prediction:
    """A "change one thing and predict" exercise, answered with a number.

    ``measure`` computes the true value; ``wrong_answers`` maps a hint to the number a typical
    misconception gives (the answer is matched to the closest one within the tolerance). Beyond those, a
    non-zero true value is checked for the generic slips: the answer in bits (log base 2) or in base-10 logs
    where the course uses nats, and the sign. ``relative``: the tolerance is a fraction of the value.
    """

    def __init__(
        self,
        name: str,
        measure: Callable[[], float],
        tolerance: float,
        wrong_answers: Callable[[], dict[str, float]] = dict,
        explanation: str = "",
        relative: bool = False,
    ) -> None:
        self.name, self.measure, self.tolerance, self.relative = name, measure, tolerance, relative
        self.wrong_answers, self.explanation = wrong_answers, explanation

    def __call__(self, answer: object) -> None:
        print(self.assess(answer).wrapped())

    def __repr__(self) -> str:
        return f"<prediction {self.name}: call it with your number>"

    def _distance(self, answer: float, value: float) -> float:
        """How far ``answer`` is from ``value``, in tolerances (within tolerance: at most 1)."""
        scale = self.tolerance * abs(value) if self.relative else self.tolerance
        return abs(answer - value) / scale if scale > 0 else (0.0 if answer == value else math.inf)

    def slips(self, truth: float) -> dict[str, float]:
        """The typical wrong answers: this prediction's own, then the generic unit and sign slips.

        A generic slip counts only where it lies more than two tolerances from the truth (so that an answer
        near both is not explained away by a unit it was not computed in).
        """
        answers = dict(self.wrong_answers())
        generic = {
            "that is the right quantity in bits (log base 2); the course measures in nats (the natural log, "
            "torch.log): multiply by ln 2 ≈ 0.693": truth / math.log(2),
            "that is the right quantity with base-10 logs; the course measures in nats (the natural log): "
            "multiply by ln 10 ≈ 2.303": truth / math.log(10),
            "the size is right but the sign is flipped": -truth,
        }
        for hint, value in generic.items():
            if self._distance(value, truth) > 2:
                answers.setdefault(hint, value)
        return answers

    def assess(self, answer: object) -> Report:
        if _is_stub_value(answer):
            return Report(self.name, NOT_YET, "replace `...` with your number and run the cell again")
        if isinstance(answer, torch.Tensor) and answer.numel() == 1:
            answer = answer.item()
        if isinstance(answer, bool) or not isinstance(answer, numbers.Real) or math.isnan(answer):
            return Report(self.name, HINT, f"the answer is a single number, got {_describe(answer)}")
        answer, truth = float(answer), float(self.measure())
        if self._distance(answer, truth) <= 1:
            return Report(self.name, PASS, f"{answer:.4g} is right (measured: {truth:.4g}). {self.explanation}".strip())
        close = [
            (self._distance(answer, value), hint)
            for hint, value in self.slips(truth).items()
            if self._distance(answer, value) <= 1 and self._distance(value, truth) > 1
        ]
        if close:
            return Report(self.name, HINT, f"{answer:.4g}: {min(close)[1]}")
        direction = "too high" if answer > truth else "too low"
        tolerance = f"±{self.tolerance:.0%}" if self.relative else f"±{self.tolerance:g}"
        return Report(
            self.name,
            HINT,
            f"{answer:.4g} is {direction}; measure it with a few lines of code (tolerance {tolerance}).",
        )


class Behaviour:
    """An exercise graded by an experiment run with the learner's answer: a training step with the learner's
    function, or the behaviour of a model the learner trained.

    ``experiment(answer)`` returns a :class:`Report` status and message (``pass`` or ``hint``); it may raise
    ``NotImplementedError`` for a stub. ``reference()`` gives a right answer, and each of ``mistakes`` pairs
    words of a hint with a function that gives a wrong answer: the tests check that every one gets its hint.
    ``callable_answer``: the answer is a function (otherwise an object, such as trained vectors).
    """

    def __init__(
        self,
        name: str,
        experiment: Callable[[Any], tuple[str, str]],
        reference: Callable[[], Any],
        mistakes: Sequence[Mistake] = (),
        callable_answer: bool = True,
    ) -> None:
        self.name, self.experiment, self.reference = name, experiment, reference
        self.mistakes, self.callable_answer = tuple(mistakes), callable_answer

    def __call__(self, answer: Any) -> None:
        print(self.assess(answer).wrapped())

    def __repr__(self) -> str:
        return f"<exercise {self.name}: call it with your answer>"

    def assess(self, answer: Any) -> Report:
        if _is_stub_value(answer):
            what = (
                "define the function first, then pass it here"
                if self.callable_answer
                else "replace `...` with your answer and run the cell again"
            )
            return Report(self.name, NOT_YET, what)
        if self.callable_answer and not callable(answer):
            return Report(
                self.name,
                HINT,
                f"pass the function itself, e.g. check.{self.name}({self.name}), not its result ({_describe(answer)})",
            )
        with torch.random.fork_rng(devices=[]):
            try:
                status, message = self.experiment(answer)
            except NotImplementedError:
                return Report(
                    self.name,
                    NOT_YET,
                    "the function is still a stub: replace `raise NotImplementedError` with your code and run the "
                    "cell again",
                )
            except Exception as error:  # the learner's code may raise anything; report it, never re-raise
                return Report(self.name, HINT, f"raised {error_line(error)}{learner_line(error)}")
        return Report(self.name, status, message)
