"""Independent runs (folds, seeds) shared among worker processes: two cores, two runs at once.

A notebook that repeats an experiment over folds or seeds spends most of its time in runs that do not
depend on each other. PyTorch's own threads help little on the small models of this course, so
:func:`map_in_processes` gives each run a process of one thread instead. Every run must seed itself
(``helpers.core.seed_everything(seed)`` or ``helpers.core.seed_torch``); the results are then the same for any
number of workers, in the order of the jobs.

The function and its arguments travel to the workers by plain pickle, so the function must be defined
in a module (not in a notebook cell), and it must print nothing: a worker's output would land in the
notebook at an unpredictable place.

The workers outlive one call: starting a process and importing PyTorch into it costs seconds (about 4 for
two on the course's 2-core machine), so a notebook that repeats four studies pays it once. An error in a run,
Ctrl-C or a worker that dies stops the workers at once, and the next call starts fresh ones.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed

import torch

from helpers.core import check_positive_int
from helpers.training.progress import progress

__all__ = ["map_in_processes"]


def map_in_processes(function: Callable, jobs: Sequence[tuple], *, workers: int, description: str = "runs") -> list:
    """``[function(*job) for job in jobs]``, computed by ``workers`` processes of one thread each.

    ``workers=1`` runs the jobs here, one after the other, also on one thread: the same sums in the same
    order, so the same results as any number of workers.
    """
    workers = check_positive_int(workers, "workers")
    if not callable(function):
        raise TypeError(f"function must be callable (a function of the job's arguments), got {function!r}")
    if isinstance(jobs, str):
        raise TypeError(f"jobs must be a list of argument tuples, got the string {jobs[:40]!r}")
    jobs = list(jobs)
    not_tuples = [index for index, job in enumerate(jobs) if not isinstance(job, (tuple, list))]
    if not_tuples:
        first = not_tuples[0]
        raise TypeError(
            f"each job must be a tuple of the function's arguments, but jobs[{first}] is {jobs[first]!r} "
            f"({len(not_tuples)} such job(s)): write one argument as a 1-tuple, e.g. [(x,) for x in values]"
        )
    if workers == 1:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return [function(*job) for job in progress(jobs, description)]
        finally:
            torch.set_num_threads(threads)  # the caller's count, as it was
    try:  # plain pickle both ways: tensors travel as bytes, not as shared-memory handles (a file each)
        pickled = [pickle.dumps((function, job)) for job in jobs]
    except (pickle.PicklingError, AttributeError, TypeError) as error:
        raise ValueError(
            f"workers={workers} sends {getattr(function, '__name__', function)!r} and its arguments "
            f"to other processes, but they cannot be pickled ({error}); define the function in a "
            "module (not a notebook cell or a lambda), or use workers=1"
        ) from None
    pool = _pool(workers)
    try:
        futures = [pool.submit(_call, job) for job in pickled]
        for _ in progress(as_completed(futures), description, total=len(futures)):
            pass
        return [pickle.loads(future.result()) for future in futures]
    except BaseException:  # a run's error, Ctrl-C, a dead worker: stop every run now, start afresh next time
        _discard_pool(workers)
        raise


_POOLS: dict[int, ProcessPoolExecutor] = {}


def _pool(workers: int) -> ProcessPoolExecutor:
    if getattr(_POOLS.get(workers), "_broken", False):  # a worker died between calls (killed, out of memory)
        _discard_pool(workers)
    if workers not in _POOLS:
        # spawn, not fork: a forked copy of a process whose PyTorch threads have started can hang.
        context = multiprocessing.get_context("spawn")
        _POOLS[workers] = ProcessPoolExecutor(workers, mp_context=context, initializer=_one_thread)
    return _POOLS[workers]


def _discard_pool(workers: int) -> None:
    pool = _POOLS.pop(workers, None)
    if pool is None:
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()  # shutdown() alone would let the runs already started finish first
    pool.shutdown(wait=False, cancel_futures=True)


def _one_thread() -> None:
    """Each worker: one thread (the workers are the parallelism) and PyTorch's deterministic kernels; it ends
    when the process that started it ends, however that ends (a notebook's kernel killed, not shut down)."""
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True, warn_only=True)
    # Ctrl-C (JupyterLab's interrupt signals the kernel's whole process group) is for the caller, which stops
    # the workers itself; a worker that took it while idle would break the next call.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_end_with, args=(parent,), daemon=True).start()


def _end_with(parent: multiprocessing.process.BaseProcess) -> None:
    parent.join()  # returns when the parent process has ended
    os._exit(0)


def _call(pickled_job: bytes) -> bytes:
    torch.set_num_threads(1)  # again for each run: a worker serves many calls, and a run may have changed it
    function, job = pickle.loads(pickled_job)
    return pickle.dumps(function(*job))
