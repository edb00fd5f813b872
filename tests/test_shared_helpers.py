"""Unit tests of the shared pieces: seeding, device choice, checks, progress bar, training loop, data, plots."""

from __future__ import annotations

import io
import math
import sys

import matplotlib
import numpy as np
import pytest
import torch
from torch import nn

import helpers
from helpers.core import (
    check_choice,
    check_positive_int,
    check_probability,
    check_shape,
    check_token_ids,
    pick_device,
    seed_everything,
)
from helpers.data import files, readers, text
from helpers.training import History, evaluate_classifier, supervised_step, train
from helpers.training.progress import ProgressBar

matplotlib.use("Agg")


# --- core -----------------------------------------------------------------------------------------


def test_seed_everything_repeats_torch_numpy_and_python() -> None:
    import random

    def draw() -> tuple:
        seed_everything(3)
        return torch.randn(4).tolist(), np.random.rand(2).tolist(), random.random()

    assert draw() == draw()
    seed_everything(4)
    assert torch.randn(4).tolist() != draw()[0]


def test_seed_everything_returns_a_generator_with_its_own_stream() -> None:
    first = seed_everything(5)
    a = torch.rand(3, generator=first)
    second = seed_everything(5)
    torch.rand(100)  # the global stream moving must not change the generator's stream
    assert torch.equal(a, torch.rand(3, generator=second))


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True])
def test_seed_everything_rejects_bad_seeds(bad: object) -> None:
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        seed_everything(bad)  # type: ignore[arg-type]


def test_pick_device(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPERS_DEVICE", "cpu")
    assert pick_device() == torch.device("cpu")
    assert pick_device("auto").type in {"cpu", "cuda", "mps"}
    with pytest.raises(ValueError, match=r"device .* must be one of \['auto', 'cpu', 'cuda', 'mps'\], got 'tpu'"):
        pick_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA GPU"):
            pick_device("cuda")


def test_setup_notebook_seeds_and_sets_threads() -> None:
    before = torch.get_num_threads()
    try:
        helpers.setup_notebook(seed=3, threads=1)
        assert torch.get_num_threads() == 1
        first = torch.rand(3)
        helpers.setup_notebook(seed=3)  # threads=None leaves the count alone
        assert torch.get_num_threads() == 1
        assert torch.equal(first, torch.rand(3))
        with pytest.raises(ValueError, match="threads must be a positive integer"):
            helpers.setup_notebook(threads=0)
    finally:
        torch.set_num_threads(before)


def test_check_shape_messages() -> None:
    check_shape(torch.zeros(2, 5, 8), (None, None, 8), "q")
    with pytest.raises(ValueError, match=r"q must have shape \(batch, seq, d_k\) = \(\*, \*, 8\), got \(2, 5, 7\)"):
        check_shape(torch.zeros(2, 5, 7), (None, None, 8), "q", "(batch, seq, d_k)")
    with pytest.raises(ValueError, match=r"got \(2, 5\)"):
        check_shape(torch.zeros(2, 5), (None, None, 8), "q")
    with pytest.raises(TypeError, match="q must be a torch.Tensor, got list"):
        check_shape([1, 2], (None,), "q")


def test_check_token_ids_names_the_range_and_the_fix() -> None:
    ids = torch.tensor([[0, 4, 2]])
    assert check_token_ids(ids, 5) is ids
    assert check_token_ids(torch.zeros(0, dtype=torch.int64), 1).numel() == 0  # nothing to check
    with pytest.raises(ValueError, match=r"^word ids must lie in \[0, 4\), got ids from 0 to 4$"):
        check_token_ids(ids, 4)
    expected = r"^target ids must lie in \[0, 5\), got ids from -1 to 4; use the target vocabulary$"
    with pytest.raises(ValueError, match=expected):
        check_token_ids(torch.tensor([-1, 4]), 5, "target ids", hint="use the target vocabulary")


def test_small_checks() -> None:
    assert check_positive_int(3, "n") == 3
    for bad in (0, -2, 2.0, True, "3"):
        with pytest.raises(ValueError, match="n must be a positive integer"):
            check_positive_int(bad, "n")
    assert check_probability(0.5, "p") == 0.5
    with pytest.raises(ValueError, match=r"p must be a number in \[0, 1\)"):
        check_probability(1.0, "p")
    assert check_probability(1.0, "p", allow_one=True) == 1.0
    with pytest.raises(ValueError, match=r"mode must be one of \['a', 'b'\], got 'c'"):
        check_choice("c", ("a", "b"), "mode")


# --- progress bar -----------------------------------------------------------------------------------


def test_progress_bar_text_is_deterministic_and_ends_with_the_final_state() -> None:
    def run() -> str:
        stream = io.StringIO()
        bar = ProgressBar(7, "work", redraws=3, stream=stream)
        for i in range(7):
            bar.update(1, loss=1.0 / (i + 1))
        bar.close()
        return stream.getvalue()

    text = run()
    assert text == run()
    assert text.endswith("\rwork |####################| 7/7 loss 0.1429\n")
    # redrawn after passing 1/3 (item 3) and 2/3 (item 5) of the work, then once more when closed;
    # every redraw but the first blanks the previous line first (one more carriage return)
    assert text.count("\r") == 5 and "\rwork |########............| 3/7 loss 0.3333\r" in text
    assert "s/it" not in text and "it/s" not in text


def rendered(text: str) -> list[str]:
    """What a terminal or JupyterLab shows: each carriage return moves back to the start of the line, and
    later characters overwrite earlier ones one by one (a shorter line does not erase a longer one's end)."""
    screen: list[str] = []
    for raw_line in text.split("\n"):
        line: list[str] = []
        for segment in raw_line.split("\r"):
            for column, character in enumerate(segment):
                if column < len(line):
                    line[column] = character
                else:
                    line.append(character)
        screen.append("".join(line).rstrip())
    return screen


def test_rendered_carriage_returns_overwrite_character_by_character() -> None:
    assert rendered("loss 5.45323\rloss 5.4532\n") == ["loss 5.45323", ""]  # the defect a bar must avoid
    assert rendered("abc\r   \rx\n") == ["x", ""]


def test_progress_bar_shows_the_true_final_line_when_its_text_shrinks() -> None:
    stream = io.StringIO()
    bar = ProgressBar(4, "epoch 1/5", redraws=4, stream=stream)
    for loss in (12.345678, 123.4, 5.45323, 0.5):
        bar.update(1, loss=loss, note="a long note" if loss > 100 else "x")
    bar.close(loss=5.4532)
    bar_lines = rendered(stream.getvalue())
    assert bar_lines == ["epoch 1/5 |####################| 4/4 loss 5.4532 note x", ""]
    # and mid-run: the line after the long one shows no leftover characters
    stream = io.StringIO()
    bar = ProgressBar(4, "run", redraws=4, stream=stream)
    bar.update(1, loss=123.4, note="a long note")
    bar.update(1, loss=1.0, note="x")
    assert rendered(stream.getvalue()) == ["run |##########..........| 2/4 loss 1.0000 note x"]


# --- training loop ----------------------------------------------------------------------------------


def _regression_problem(n: int = 256):
    generator = seed_everything(0)
    x = torch.randn(n, 2, generator=generator)
    y = x @ torch.tensor([1.5, -2.0]) + 0.5
    return [(x[i : i + 32], y[i : i + 32]) for i in range(0, n, 32)]


def _regression_loss(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return nn.functional.mse_loss(output.squeeze(-1), target)


def test_train_learns_and_records_history(capsys: pytest.CaptureFixture[str]) -> None:
    batches = _regression_problem()
    model = nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    history = train(supervised_step(model, optimizer, _regression_loss), batches, epochs=4)
    assert len(history.steps["loss"]) == 4 * len(batches)
    assert len(history.epochs["loss"]) == 4
    assert history.epochs["loss"][-1] < 0.01 * history.epochs["loss"][0]
    # the epoch metric is the mean of that epoch's step metrics
    assert history.epochs["loss"][1] == pytest.approx(np.mean(history.steps["loss"][8:16]))
    assert "epoch 4/4 |####################| 8/8 loss" in capsys.readouterr().out


def test_train_early_stopping_restores_the_best_weights() -> None:
    batches = _regression_problem()
    model = nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scores = iter([0.5, 0.9, 0.7, 0.6, 0.8])
    snapshots = []

    def evaluate() -> dict[str, float]:
        snapshots.append(model.weight.detach().clone())
        return {"val_score": next(scores)}

    history = train(
        supervised_step(model, optimizer, _regression_loss),
        batches,
        epochs=5,
        evaluate=evaluate,
        model=model,
        monitor="val_score",
        mode="max",
        patience=2,
        show_progress=False,
    )
    assert history.best_epoch == 2
    assert len(history.epochs["val_score"]) == 4  # stopped after two epochs without improvement
    assert torch.equal(model.weight.detach(), snapshots[1])


def test_train_accepts_a_function_of_the_epoch_and_custom_metrics() -> None:
    seen = []

    def step(batch: int) -> dict[str, float]:
        seen.append(batch)
        return {"d_loss": float(batch), "g_loss": 2.0 * batch}

    history = train(step, lambda epoch: [epoch, epoch], epochs=2, show_progress=False)
    assert seen == [1, 1, 2, 2]
    assert history.epochs == {"d_loss": [1.0, 2.0], "g_loss": [2.0, 4.0]}
    assert history.last("g_loss") == 4.0
    with pytest.raises(KeyError, match="no epoch metric 'loss'"):
        history.last("loss")


def test_train_errors_are_clear() -> None:
    with pytest.raises(ValueError, match="batches is empty"):
        train(lambda b: 0.0, [], show_progress=False)
    with pytest.raises(ValueError, match="monitor= needs model="):
        train(lambda b: 0.0, [1], monitor="loss")
    with pytest.raises(TypeError, match="must return a dict of metrics or a loss"):
        train(lambda b: "x", [1], show_progress=False)
    with pytest.raises(KeyError, match="monitor='val_accuracy' is not among the epoch metrics"):
        train(lambda b: 0.0, [1], model=nn.Linear(1, 1), monitor="val_accuracy", show_progress=False)
    assert isinstance(History(), History)


def test_evaluate_classifier_against_a_hand_count() -> None:
    class Fixed(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x  # the inputs are the logits

    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 1.0]])
    targets = torch.tensor([0, 0, 0])
    model = Fixed().train()
    metrics = evaluate_classifier(model, [(logits, targets)])
    assert metrics["accuracy"] == pytest.approx(2 / 3)
    assert metrics["loss"] == pytest.approx(float(nn.functional.cross_entropy(logits, targets)))
    assert model.training, "evaluate_classifier must give the model back in the mode it found it"
    assert set(evaluate_classifier(model, [(logits, targets)], prefix="val_")) == {"val_loss", "val_accuracy"}


def test_train_stops_on_a_nan_loss_naming_the_batch() -> None:
    losses = iter([1.0, 0.5, float("nan"), 0.1])
    with pytest.raises(FloatingPointError, match=r"epoch 1, step 3 \(batch 2 of the epoch\)"):
        train(lambda b: next(losses), [0, 1, 2, 3], show_progress=False)


def test_early_stopping_refuses_a_nan_metric() -> None:
    values = iter([0.5, float("nan")])
    with pytest.raises(FloatingPointError, match="monitored metric 'val_accuracy' is nan at epoch 2"):
        train(
            lambda b: 0.0,
            [1],
            epochs=3,
            model=nn.Linear(1, 1),
            monitor="val_accuracy",
            evaluate=lambda: {"val_accuracy": next(values)},
            show_progress=False,
        )


def test_optimizer_step_clips_then_updates() -> None:
    from helpers.training import optimizer_step

    weight = nn.Parameter(torch.tensor([1.0, 1.0]))
    optimizer = torch.optim.SGD([weight], lr=1.0)
    optimizer_step(optimizer, (weight * torch.tensor([30.0, 40.0])).sum(), max_grad_norm=5.0)
    # the gradient (30, 40) has norm 50, clipped to 5: (3, 4)
    assert torch.allclose(weight.detach(), torch.tensor([-2.0, -3.0]))
    weight.grad = torch.tensor([100.0, 100.0])  # a stale gradient must be cleared, not added to
    optimizer_step(optimizer, weight.sum())
    assert torch.allclose(weight.detach(), torch.tensor([-3.0, -4.0]))


# --- data -------------------------------------------------------------------------------------------


def test_accents_are_folded_before_kims_clean_str() -> None:
    assert text.tokenize("A cliché, naïve and façade-heavy") == ["a", "cliche", ",", "naive", "and", "facade", "heavy"]
    assert text.tokenize("What is NASA ?", lowercase=False) == ["What", "is", "NASA", "?"]
    with pytest.raises(TypeError, match="one string"):
        text.tokenize(["already", "split"])


def test_vocabulary_counts_decode_and_refusals() -> None:
    vocabulary = text.Vocabulary.build([["b", "a", "b"], ["c", "b", "a"]])
    assert vocabulary.count("b") == 3 and vocabulary.count("zzz") == 0
    assert vocabulary.counts_by_id().tolist() == [0.0, 0.0, 3.0, 2.0, 1.0]
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 5\), got \[-1\]"):
        vocabulary.decode([-1])
    with pytest.raises(TypeError, match="tokenize it first"):
        text.Vocabulary.build("an untokenised sentence")
    with pytest.raises(TypeError, match="characters"):
        text.Vocabulary.build(["one sentence", "another"])


def test_padded_loader_pads_per_batch_and_repeats_with_a_seeded_generator() -> None:
    sequences = [[5], [6, 7, 8], [9, 10]]
    loader = text.padded_loader(sequences, [0, 1, 0], batch_size=2)
    (ids, labels), (last_ids, _) = list(loader)
    assert ids.tolist() == [[5, 0, 0], [6, 7, 8]] and labels.tolist() == [0, 1] and last_ids.tolist() == [[9, 10]]

    def order(seed: int) -> list[list[int]]:
        loader = text.padded_loader(
            sequences, [0, 1, 2], batch_size=1, shuffle=True, generator=torch.Generator().manual_seed(seed)
        )
        return [labels.tolist() for _ in range(2) for _, labels in loader]

    assert order(0) == order(0)
    with pytest.raises(ValueError, match=r"sequences \[1\] are empty"):
        text.padded_loader([[1], []], [0, 1], batch_size=2)
    with pytest.raises(ValueError, match="one label per sequence"):
        text.padded_loader([[1]], [0, 1], batch_size=2)


def test_data_dir_rule(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("HELPERS_DATA_DIR", str(tmp_path))
    assert files.data_dir() == tmp_path
    with pytest.raises(FileNotFoundError, match=f"HELPERS_DATA_DIR={tmp_path} python -m helpers.data"):
        files.data_path("wordsim353")
    monkeypatch.delenv("HELPERS_DATA_DIR")
    assert files.data_dir() == files.PROJECT_ROOT / "assets" / "data"  # the tests run from a checkout
    monkeypatch.setattr(files, "running_from_checkout", lambda: False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    if sys.platform.startswith("linux"):
        assert files.data_dir() == tmp_path / "share" / "applied-dl-notebooks"
    assert files.fetch_command() == "python -m helpers.data"


def test_download_failure_names_the_network() -> None:
    network = "WARNING: Retrying ... NewConnectionError(...): Failed to establish a new connection\nERROR: No matching"
    assert "network problem" in files._download_failure("gensim", "4.4.0", network)
    assert "has no wheel gensim==4.4.0" in files._download_failure("gensim", "4.4.0", "ERROR: No matching distribution")


def test_clean_str_follows_kim() -> None:
    assert text.tokenize("It's not the film's fault, isn't it?!") == [
        "it",
        "'s",
        "not",
        "the",
        "film",
        "'s",
        "fault",
        ",",
        "is",
        "n't",
        "it",
        "?",
        "!",
    ]
    assert text.clean_str("  Über-cool (really)  ") == "uber cool ( really )"


def test_vocabulary() -> None:
    vocabulary = text.Vocabulary.build([["b", "a", "b"], ["c", "b", "a"]], min_count=2)
    assert vocabulary.tokens == ["<pad>", "<unk>", "b", "a"]
    assert vocabulary.encode(["a", "zzz"]) == [3, 1]
    assert vocabulary.decode([2, 3]) == ["b", "a"]
    assert "c" not in vocabulary and len(vocabulary) == 4
    with pytest.raises(ValueError, match="empty corpus"):
        text.Vocabulary.build([[], []])
    strict = text.Vocabulary(["x", "y"], unknown=None)
    with pytest.raises(KeyError, match="'z' is not in the vocabulary"):
        strict.index("z")


def test_pad_sequences() -> None:
    padded, lengths = text.pad_batch([[5, 6, 7], [8]], padding_id=0, min_length=5)
    assert padded.tolist() == [[5, 6, 7, 0, 0], [8, 0, 0, 0, 0]]
    assert lengths.tolist() == [3, 1]
    with pytest.raises(ValueError, match="no sequences"):
        text.pad_batch([])


def test_missing_or_altered_data_gives_a_clear_error(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPERS_DATA_DIR", str(tmp_path))
    (tmp_path / "wordsim353.tsv").write_text("love\tsex\t6.77\n")
    with pytest.raises(ValueError, match="does not have the expected SHA-256"):
        files.data_path("wordsim353")
    with pytest.raises(KeyError, match="unknown data set 'mnist'"):
        files.data_path("mnist")


def test_fetched_data_loads() -> None:
    rows = readers.read_rotten_tomatoes()
    categories = [row["category"] for row in rows]
    assert (categories.count("fresh"), categories.count("rotten"), categories.count("plot")) == (7403, 5405, 1097)
    images, labels = readers.read_mnist_5k()
    assert images.shape == (5000, 28, 28) and images.dtype == torch.uint8
    assert torch.bincount(labels).tolist() == [500] * 10
    pairs = readers.read_word_pairs("wordsim353")
    assert len(pairs) == 353 and pairs[0] == ("love", "sex", 6.77)
    assert len(readers.read_word_pairs("simlex999")) == 999


# --- plotting ---------------------------------------------------------------------------------------


def test_style_and_plot_helpers() -> None:
    import matplotlib.pyplot as plt

    from helpers.plotting import heatmap, image_grid, plot_curves

    helpers.use_style()
    assert matplotlib.rcParams["axes.grid"] is True
    ax = plot_curves({"a": [3, 2, 1], "b": [1, 2, 3]}, smooth=2)
    assert len(ax.lines) == 2 and ax.lines[0].get_ydata().tolist() == [2.5, 1.5]
    with pytest.raises(ValueError, match="heatmap needs a 2-D matrix, got shape"):
        heatmap(np.zeros(3))
    with pytest.raises(ValueError, match=r"image_grid needs images of shape \(count, height, width\)"):
        image_grid(np.zeros((2, 3)))
    figure = image_grid(torch.zeros(12, 4, 4), columns=5)
    assert len(figure.axes) == 15
    labelled = image_grid(torch.zeros(12, 4, 4), columns=5, row_labels=["real", "seed 0", "seed 1"])
    assert [text.get_text() for ax in labelled.axes[::5] for text in ax.texts] == ["real", "seed 0", "seed 1"]
    with pytest.raises(ValueError, match="row_labels has 2 labels for 3 rows of 5 images"):
        image_grid(torch.zeros(12, 4, 4), columns=5, row_labels=["a", "b"])
    _, ax = plt.subplots()
    heatmap(np.eye(2), ax=ax, colorbar_label="attention weight")
    assert ax.figure.axes[-1].get_ylabel() == "attention weight"  # the colour bar says what it measures
    plt.close("all")


def test_read_text_lines_splits_on_newlines_only_and_detects_the_encoding(tmp_path) -> None:
    path = tmp_path / "mine.txt"
    path.write_bytes("1 café\r\n\n0 bad\u0085movie\n".encode())
    assert readers.read_text_lines(path) == ["1 café", "", "0 bad\u0085movie"]  # U+0085 is no line break
    path.write_bytes(b"1 caf\xe9 good\n0 bad\n")
    assert readers.read_text_lines(path) == ["1 café good", "0 bad"]  # Latin-1 detected
    path.write_bytes(b"1 caf\xe9\n0 na\xc3\xafve\n")
    with pytest.raises(ValueError, match=r"mixes encodings: lines \[2\] are UTF-8 but lines \[1\] are not"):
        readers.read_text_lines(path)
    with pytest.raises(ValueError, match=r"line 1, is not valid utf-8"):
        readers.read_text_lines(path, encoding="utf-8")
    with pytest.raises(FileNotFoundError, match="no file at"):
        readers.read_text_lines(tmp_path / "missing.txt")


def test_seconds_per_call_times_the_function() -> None:
    import time

    from helpers.core import seconds_per_call

    seconds = seconds_per_call(lambda: time.sleep(0.01), min_run_time=0.05)
    assert 0.009 < seconds < 0.1


def test_padded_loader_takes_its_batches_from_a_batch_sampler() -> None:
    loader = text.padded_loader([[5], [6, 7, 8], [9, 10]], [0, 1, 2], batch_size=3, batch_sampler=[[2, 0], [1]])
    (ids, labels), (last_ids, last_labels) = list(loader)
    assert ids.tolist() == [[9, 10], [5, 0]] and labels.tolist() == [2, 0]
    assert last_ids.tolist() == [[6, 7, 8]] and last_labels.tolist() == [1]


def test_map_in_processes_keeps_the_job_order_and_gives_each_worker_one_thread() -> None:
    import operator

    from helpers.training.workers import map_in_processes

    jobs = [(a, b) for a, b in zip(range(7), range(10, 17))]
    assert map_in_processes(operator.add, jobs, workers=2) == [a + b for a, b in jobs]  # order of the jobs
    assert map_in_processes(operator.add, jobs, workers=1) == [a + b for a, b in jobs]
    assert map_in_processes(torch.get_num_threads, [()] * 3, workers=2) == [1, 1, 1]
    assert map_in_processes(torch.get_num_threads, [()], workers=1) == [1]  # here too: the same sums as a worker
    assert map_in_processes(torch.ones, [(2, 3)], workers=2)[0].shape == (2, 3)  # tensors come back whole
    with pytest.raises(ValueError, match="cannot be pickled"):
        map_in_processes(lambda: 0, [()], workers=2)
    with pytest.raises(ValueError, match="workers"):
        map_in_processes(operator.add, jobs, workers=0)


def test_map_in_processes_keeps_its_workers_between_calls_and_replaces_them_after_an_error() -> None:
    import os
    import signal

    from helpers.training import workers

    workers.map_in_processes(os.getpid, [()] * 2, workers=2)
    started = set(workers._POOLS[2]._processes)  # the worker processes' ids
    assert os.getpid() not in started
    assert set(workers.map_in_processes(os.getpid, [()] * 6, workers=2)) <= started  # no new start-up
    assert workers.map_in_processes(torch.set_num_threads, [(3,)], workers=2) == [None]
    assert workers.map_in_processes(torch.get_num_threads, [()] * 4, workers=2) == [1] * 4  # a run's change goes
    for pid in started:  # JupyterLab's interrupt reaches the kernel's whole process group, idle workers too
        os.kill(pid, signal.SIGINT)
    assert set(workers.map_in_processes(os.getpid, [()] * 6, workers=2)) <= started  # they ignored it
    with pytest.raises(ZeroDivisionError):
        workers.map_in_processes(divmod, [(1, 1), (1, 0)], workers=2)  # a run's error comes back as itself
    assert 2 not in workers._POOLS  # its workers were stopped
    after = workers.map_in_processes(os.getpid, [()] * 6, workers=2)  # fresh workers, and they work
    assert not set(after) & started


# --- issue 31: every door checks what it is given ---------------------------------------------------


def test_shared_checks_name_the_argument_what_it_got_and_the_fix() -> None:
    from helpers.core import (
        check_finite,
        check_finite_number,
        check_integers,
        check_positive_number,
        check_probabilities,
        check_same_length,
        check_sentences,
        check_unique,
        check_words,
    )

    assert check_integers([3, 1], "ids").tolist() == [3, 1] and check_integers([], "ids").dtype == torch.int64
    assert check_integers(np.array([2], dtype=np.int32), "ids").dtype == torch.int64
    with pytest.raises(TypeError, match=r"ids must hold integers .* got floats such as 1\.7: they are refused"):
        check_integers([1, 1.7], "ids")
    with pytest.raises(TypeError, match="got bools such as True"):
        check_integers([True], "ids")
    with pytest.raises(ValueError, match=r"ids must be a 1-D sequence of integers, got shape \(1, 2\)"):
        check_integers([[1, 2]], "ids")
    assert check_positive_number(0.5, "std") == 0.5
    for bad in (0, -0.02, math.nan, math.inf, True, "1"):
        with pytest.raises(ValueError, match="std must be a finite number > 0"):
            check_positive_number(bad, "std")
    assert check_finite_number(0, "alpha", minimum=0) == 0.0
    for bad in (-1, math.nan, math.inf):
        with pytest.raises(ValueError, match="alpha must be a finite number >= 0"):
            check_finite_number(bad, "alpha", minimum=0)
    with pytest.raises(ValueError, match=r"classes must not repeat a value, got \['a', 'a', 'b'\] with \['a'\]"):
        check_unique(["a", "a", "b"], "classes")
    with pytest.raises(TypeError, match="tokens must be a list of words, got the string 'hi there'"):
        check_words("hi there", "tokens")
    with pytest.raises(TypeError, match=r"sentences\[1\] is the string 'a b'"):
        check_sentences([["a"], "a b"])
    with pytest.raises(ValueError, match="got 2 sentences but 1 labels"):
        check_same_length([1, 2], "sentences", [0], "labels")
    with pytest.raises(ValueError, match=r"counts holds 1 NaN or infinite value\(s\) of 3 \(the first at index 1\)"):
        check_finite(torch.tensor([1.0, math.nan, 2.0]), "counts")
    with pytest.raises(ValueError, match=r"p must hold probabilities in \[0, 1\], got 2 value\(s\) outside"):
        check_probabilities(torch.tensor([1.5, -0.5, 0.5]), "p")
    with pytest.raises(ValueError, match="n must be a positive integer, got 0; say how many"):
        check_positive_int(0, "n", hint="say how many")


def test_ids_labels_and_lengths_refuse_floats_instead_of_truncating_them() -> None:
    vocabulary = text.Vocabulary.build([["hello", "world", "hello"]])
    for bad in ([1.7], [True], torch.tensor([1.0])):
        with pytest.raises(TypeError, match="ids must hold integers"):
            vocabulary.decode(bad)  # [1.7] used to decode as ['<unk>']
    assert vocabulary.decode(torch.tensor([2, 3])) == ["hello", "world"]
    with pytest.raises(TypeError, match=r"labels must hold integers .* floats such as 0\.7"):
        text.padded_loader([[1, 2], [3]], [0.7, 1.2], batch_size=2)  # used to train on [0, 1]
    with pytest.raises(TypeError, match=r"sequences\[0\] must hold integers .* floats such as 1\.5"):
        text.padded_loader([[1.5, 2], [3]], [0, 1], batch_size=2)
    with pytest.raises(TypeError, match=r"sequences\[0\] must hold integers"):
        text.pad_batch([[1.5, 2.0]])
    with pytest.raises(ValueError, match=r"sequences\[0\] must be a 1-D sequence of integers, got shape \(2, 2\)"):
        text.pad_batch([[[1, 2], [3, 4]]])  # used to be flattened into one sentence of 4 ids
    with pytest.raises(ValueError, match=r"sequences\[0\] must be a 1-D sequence of integers, got shape \(\)"):
        text.pad_batch([1, 2])  # one sentence's ids, not a batch of sentences
    padded, lengths = text.pad_batch([torch.tensor([4, 5], dtype=torch.int32), np.array([6])])
    assert padded.dtype == torch.int64 and padded.tolist() == [[4, 5], [6, 0]] and lengths.tolist() == [2, 1]


def test_word_sequences_refuse_a_bare_string_and_sizes_must_make_sense() -> None:
    vocabulary = text.Vocabulary.build([["hello", "world", "hello"]])
    with pytest.raises(TypeError, match="tokens must be a list of words, got the string 'hello world'"):
        vocabulary.encode("hello world")  # used to encode 11 characters as <unk>
    with pytest.raises(TypeError, match="tokens must be a list of words"):
        text.Vocabulary("abc", unknown=None)
    assert vocabulary.encode(list("ho")) == [1, 1]  # characters on purpose: list(text)
    with pytest.raises(ValueError, match="max_size=1 counts the 2 special tokens"):
        text.Vocabulary.build([["a", "b"]], max_size=1)  # used to return the 2 specials
    with pytest.raises(ValueError, match="max_size must be a positive integer, got -5"):
        text.Vocabulary.build([["a", "b"]], max_size=-5)
    with pytest.raises(ValueError, match="min_count must be a positive integer, got 0.5"):
        text.Vocabulary.build([["a", "b"]], min_count=0.5)
    assert text.Vocabulary.build([["a", "b", "b"]], max_size=3).tokens == ["<pad>", "<unk>", "b"]


def test_train_stops_when_the_weights_turn_non_finite_naming_the_steps_and_the_learning_rate() -> None:
    model = nn.Linear(1, 1)
    calls = []

    def step(batch: int) -> float:
        calls.append(batch)
        if len(calls) == 6:  # the last update of epoch 2 breaks the weights; no later loss would show it
            with torch.no_grad():
                model.weight.fill_(math.inf)
        return 0.5

    expected = r"\['weight'\] hold NaN or infinity after step 6 \(epoch 2, steps 4-6.*Lower the learning rate"
    with pytest.raises(FloatingPointError, match=expected):
        train(step, [0, 1, 2], epochs=3, model=model, show_progress=False)
    assert len(calls) == 6  # stopped there, before a third epoch


def test_a_nan_metric_names_its_step_when_the_step_reports_no_loss() -> None:
    values = iter([0.5, 0.4, math.nan])  # a GAN's step reports d_loss and g_loss, not "loss"
    with pytest.raises(FloatingPointError, match=r"epoch 2, step 3 \(batch 0 of the epoch\)"):
        train(lambda b: {"d_loss": next(values)}, [0, 1], epochs=2, show_progress=False)


def test_map_in_processes_names_a_job_that_is_not_a_tuple() -> None:
    from helpers.training.workers import map_in_processes

    with pytest.raises(TypeError, match=r"each job must be a tuple .* jobs\[0\] is 1 \(2 such job\(s\)\)"):
        map_in_processes(abs, [1, -2], workers=1)  # used to fail inside: "argument after * must be an iterable"
    with pytest.raises(TypeError, match="function must be callable"):
        map_in_processes(3, [(1,)], workers=1)
    assert map_in_processes(abs, [(1,), (-2,)], workers=1) == [1, 2]


def test_decode_lines_reports_every_undecodable_line(tmp_path) -> None:
    path = tmp_path / "mixed.txt"
    path.write_bytes("caf\u00e9 ok\n".encode() + b"na\xefve\nplain\nbad \xe9\n")
    lines, problems = readers.decode_lines(path)
    assert lines[0] == "café ok" and lines[2] == "plain" and sorted(problems) == [2, 4]
    assert "not valid UTF-8" in problems[2]
    with pytest.raises(ValueError, match=r"mixes encodings: lines \[1\] are UTF-8 but lines \[2, 4\] are not"):
        readers.read_text_lines(path)


@pytest.mark.parametrize(
    "trainer", ["word2vec", "text_cnn", "translator", "digit_gan", "conditional_gan", "stacked_gans", "classifiers"]
)
def test_every_trainer_hands_all_its_weights_to_the_loop_to_check(trainer: str, monkeypatch) -> None:
    from helpers.gan_minimax import dcgan, mode_metrics, rebalancing, stacked_gans
    from helpers.text_cnn import text_classification
    from helpers.transformer import translate
    from helpers.word_embeddings import word2vec

    class Handed(Exception):
        pass

    handed = {}

    def spy(*args: object, **kwargs: object) -> None:
        handed["model"] = kwargs.get("model")
        raise Handed

    labels = torch.arange(4).repeat(5).expand(2, -1).clone()
    runs = {
        "word2vec": (
            word2vec,
            lambda: word2vec.train_word2vec([["a", "cat", "sat"], ["a", "cat", "ran"]] * 20, subsample_threshold=0),
        ),
        "text_cnn": (
            text_classification,
            lambda: text_classification.train_text_cnn(["good", "bad"] * 10, [1, 0] * 10),
        ),
        "translator": (translate, lambda: translate.train_translator([("ab", "ba")] * 4, d_model=8, num_heads=2)),
        "digit_gan": (dcgan, lambda: dcgan.train_digit_gan("DCGAN", 0, torch.rand(8, 784) * 2 - 1, steps=1)),
        "conditional_gan": (
            rebalancing,
            lambda: rebalancing.train_conditional_gan(0, torch.rand(10, 784), torch.arange(10), steps=1),
        ),
        "stacked_gans": (
            stacked_gans,
            lambda: stacked_gans.train_stacked_gans(mode_metrics.ring_centers(8), std=0.02, seeds=1, steps=1),
        ),
        "classifiers": (
            rebalancing,
            lambda: rebalancing.train_stacked_classifiers(
                nn.functional.one_hot(labels, 4).float(),
                labels,
                torch.ones(2, 20),
                torch.ones(2, 4),
                seeds=1,
                steps=1,
                num_classes=4,
            ),
        ),
    }
    module, run = runs[trainer]
    monkeypatch.setattr(module, "train", spy)
    with pytest.raises(Handed):
        run()
    model = handed["model"]
    assert isinstance(model, nn.Module) and sum(p.numel() for p in model.parameters()) > 0
    if trainer in ("digit_gan", "conditional_gan", "stacked_gans"):
        assert len(list(model.children())) == 2  # both players


def test_word_group_labels_cover_neither_each_other_nor_other_words_points() -> None:
    import matplotlib.pyplot as plt

    from helpers.plotting import _boxes, labels_overlap, plot_word_groups

    # two groups on top of each other (as months and countries are in notebook 01) and one far away
    generator = torch.Generator().manual_seed(0)
    centres = {"months": (0.0, 0.0), "countries": (0.5, 0.2), "family": (-3.0, 3.0)}
    groups = {name: [f"{name}{i}" for i in range(8)] for name in centres}
    vectors = {
        word: torch.cat([torch.tensor(centres[name]) + 0.3 * torch.randn(2, generator=generator), torch.zeros(3)])
        for name, words in groups.items()
        for word in words
    }
    # and notebook 01's own layout (seed 0's PCA, read off its plot): months beside countries
    crowded = {
        "months": [(-0.57, -0.84), (-0.53, -0.85), (-0.51, -0.9), (-0.22, -1.06), (0, -1.13), (-0.47, -1.22)],
        "countries": [(0.03, -0.85), (0.14, -0.83), (0.64, -0.63), (0.62, -0.72), (0.74, -0.9), (0.53, -0.95)],
        "family": [(-1.9, 1.5), (-1.34, 1.22), (-1.4, 1.04), (-1.31, 0.87), (-1.33, 0.76), (-1.81, 0.96)],
        "sciences": [(1.56, 1.57), (1.31, 1.45), (1.56, 1.3), (1.3, 1.19), (1.44, 1.14), (2.12, 1.15)],
    }
    crowded["months"].append((-0.39, -1.32))
    crowded["countries"] += [(0.59, -1.13), (0.72, -1.45)]
    crowded["family"].append((-1.54, 0.68))
    names = {"months": "december", "countries": "germany", "family": "daughter", "sciences": "mathematics"}
    for name, points in crowded.items():
        for i, (x, y) in enumerate(points):
            vectors[f"{names[name]}{i}"] = torch.tensor([x, y, 0.0, 0.0, 0.0])
    words = {name: [f"{names[name]}{i}" for i in range(len(points))] for name, points in crowded.items()}
    for word_groups in (groups, words):
        ax = plot_word_groups(vectors.__getitem__, word_groups)
        assert labels_overlap(ax.labels) == 0
    boxes = _boxes(ax.labels)
    points = ax.transData.transform([label.xy for label in ax.labels])
    covered = [
        (i, k) for i, box in enumerate(boxes) for k, point in enumerate(points) if k != i and box.contains(*point)
    ]
    assert covered == []  # no label sits on another word's point
    plt.close("all")
