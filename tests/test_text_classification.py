"""Tests for helpers.training.cross_validation and helpers.text_cnn.text_classification.

Folds, the learner's file, training.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from helpers.text_cnn.text_classification import (
    LengthBucketSampler,
    compare_text_cnns,
    cross_validate_text_cnn,
    read_labelled_file,
    train_text_cnn,
)
from helpers.training.cross_validation import (
    CrossValidation,
    cross_validate,
    cross_validate_arms,
    stratified_folds,
    stratified_split,
)

# The README's "Your own data" example for the Text CNN, verbatim.
README_EXAMPLE = """
from helpers.text_cnn.text_classification import cross_validate_text_cnn, read_labelled_file, train_text_cnn

data = read_labelled_file("my_sentences.txt", label_column=0)  # "label sentence" per line; encoding detected
print(data)  # the number of examples, and each label with its count
print(cross_validate_text_cnn(data.texts, data.labels, num_folds=10))  # Kim's protocol: mean ± SE
classifier = train_text_cnn(data.texts, data.labels)  # a single fit; the number of classes from the labels
print(classifier.predict(["a gripping, beautifully acted film"]))
"""

WORDS = {
    "pos": ["gripping", "superb", "moving", "brilliant", "touching"],
    "neg": ["dull", "tedious", "clumsy", "boring", "awful"],
    "q": ["what", "where", "who", "when", "why"],
}


def three_class_lines(per_class: int = 12) -> list[bytes]:
    rng = np.random.default_rng(0)
    lines = []
    for index in range(per_class):
        for label, words in WORDS.items():
            chosen = " ".join(rng.choice(words, 3).tolist())
            lines.append(f"{label} the film is {chosen} {index}".encode())
    return lines


def test_stratified_folds_are_disjoint_cover_everything_and_keep_the_classes():
    labels = ["a"] * 23 + ["b"] * 17 + ["c"] * 10
    folds = stratified_folds(labels, 5, seed=3)
    everything = np.concatenate(folds)
    assert sorted(everything.tolist()) == list(range(50))  # each sentence in exactly one test fold
    for name, size in (("a", 23), ("b", 17), ("c", 10)):
        per_fold = [sum(labels[i] == name for i in fold) for fold in folds]
        assert max(per_fold) - min(per_fold) <= 1 and sum(per_fold) == size
    assert max(map(len, folds)) - min(map(len, folds)) <= 1  # remainders spread over the folds
    assert all(np.array_equal(a, b) for a, b in zip(folds, stratified_folds(labels, 5, seed=3)))
    assert not all(np.array_equal(a, b) for a, b in zip(folds, stratified_folds(labels, 5, seed=4)))
    with pytest.raises(ValueError, match="smallest class"):
        stratified_folds(labels, 11)
    with pytest.raises(TypeError, match="floats"):
        stratified_folds([0.0, 1.0] * 10, 2)


def test_stratified_split_holds_out_a_tenth_of_each_class():
    labels = [0] * 50 + [1] * 30
    rest, held_out = stratified_split(labels, 0.1, seed=0)
    assert sorted(np.concatenate([rest, held_out]).tolist()) == list(range(80))
    assert [sum(labels[i] == c for i in held_out) for c in (0, 1)] == [5, 3]


def test_cross_validation_summary_and_pairing():
    result = cross_validate(lambda train, test: float(len(test)), [0, 1] * 10, num_folds=4)
    assert result.accuracies == [5.0] * 4 and result.standard_error == 0.0
    assert str(CrossValidation([0.7, 0.8])) == "75.0 ± 5.0 % (2 folds)"
    with pytest.raises(ValueError, match="more than num_folds"):
        cross_validate(lambda train, test: 0.0, [0, 1] * 10, num_folds=4, folds_to_run=5)
    counts = {"a": 2, "b": None}
    arms = cross_validate_arms(
        {"a": lambda train, test: 1.0, "b": lambda train, test: 0.0}, [0, 1] * 10, num_folds=4, folds_to_run=counts
    )
    assert [len(arms[name].accuracies) for name in "ab"] == [2, 4]
    assert counts == {"a": 2, "b": None}  # the caller's dict is read, not rewritten


def test_workers_give_the_same_results_as_one_process():
    texts = [line.decode() for line in three_class_lines(8)]
    labels = [text.split()[0] for text in texts]
    texts = [text.split(maxsplit=1)[1] for text in texts]
    arms = {"rand": dict(max_epochs=2), "widths {1}": dict(window_sizes=(1,), max_epochs=2)}
    threads = torch.get_num_threads()
    torch.set_num_threads(2)  # a notebook's count: workers=1 must still run each fold on one thread
    try:
        alone = compare_text_cnns(
            texts, labels, arms, num_folds=4, folds_to_run={"rand": 3, "widths {1}": 2}, workers=1
        )
        assert torch.get_num_threads() == 2  # the caller's count, restored
    finally:
        torch.set_num_threads(threads)
    shared = compare_text_cnns(texts, labels, arms, num_folds=4, folds_to_run={"rand": 3, "widths {1}": 2}, workers=2)
    assert [len(shared[name].accuracies) for name in arms] == [3, 2]
    for name in arms:
        assert shared[name].accuracies == alone[name].accuracies
        for a, b in zip(alone[name].models, shared[name].models):
            assert a.vocabulary.tokens == b.vocabulary.tokens
            for (key, x), (_, y) in zip(a.model.state_dict().items(), b.model.state_dict().items()):
                assert torch.equal(x, y), key  # the very same weights came back from the worker
    with pytest.raises(ValueError, match="cannot be pickled"):
        cross_validate(lambda train, test: 0.0, [0, 1] * 10, num_folds=4, workers=2)
    with pytest.raises(ValueError, match="folds_to_run names"):
        compare_text_cnns(texts, labels, arms, num_folds=4, folds_to_run={"rand": 3})


def test_length_buckets_cover_every_sentence_once_per_epoch_with_similar_lengths():
    lengths = np.random.default_rng(0).integers(1, 40, size=103).tolist()
    sampler = LengthBucketSampler(lengths, 10, shuffle=True, generator=torch.Generator().manual_seed(0))
    first, second = list(sampler), list(sampler)
    for epoch in (first, second):
        assert sorted(i for batch in epoch for i in batch) == list(range(103)) and len(epoch) == len(sampler) == 11
        spread = max(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in epoch)
        assert spread <= 8  # sorted by length: a batch spans a narrow range (random batches span ~35)
    assert first != second  # a new order each epoch


def test_read_labelled_file_names_bad_rows_by_their_line(tmp_path):
    path = tmp_path / "data.txt"
    path.write_bytes(b"pos a fine film\n\nneg a clich\xe9d plot\nq what is it ?\n")  # Latin-1 byte, blank line
    data = read_labelled_file(path, min_label_count=1)  # one line per label: accepted only on request
    assert data.labels == ["pos", "neg", "q"] and data.line_numbers == [1, 3, 4]
    assert data.texts[1] == "a clichéd plot"
    tabbed = tmp_path / "tabbed.txt"
    tabbed.write_text("a fine film\tpos\nnot good\tneg\n")
    assert read_labelled_file(tabbed, label_column=-1, separator="\t", classes=["pos", "neg"]).labels == ["pos", "neg"]
    cases = {
        b"pos fine\nneg ...\n": "line 2: has the label 'neg' but no words",
        b"pos fine\nneg bad\nmaybe so so\n": "line 3: has the label 'maybe', which is not one of classes",
        b"pos fine\nneg\n": "line 2: has 1 field",
    }
    for index, (content, message) in enumerate(cases.items()):
        bad = tmp_path / f"bad{index}.txt"
        bad.write_bytes(content)
        with pytest.raises(ValueError, match=message):
            read_labelled_file(
                bad, label_column=1 if "field" in message else 0, classes=["pos", "neg"] if "maybe" in message else None
            )


def test_readme_example_runs_on_a_learners_file(tmp_path, monkeypatch, capsys):
    lines = three_class_lines()
    lines.insert(5, b"")  # an empty line
    lines[7] = b"neg a clich\xe9d, tedious film 0"  # a Latin-1 byte
    (tmp_path / "my_sentences.txt").write_bytes(b"\n".join(lines) + b"\n")
    monkeypatch.chdir(tmp_path)
    exec(README_EXAMPLE, {})
    printed = capsys.readouterr().out.splitlines()
    assert any(line.endswith("(10 folds)") for line in printed) and printed[-1] in ("['pos']", "['neg']", "['q']")


def test_train_text_cnn_learns_takes_classes_from_labels_and_stops_early():
    lines = [line.decode() for line in three_class_lines(60)]
    texts, labels = [line.split(" ", 1)[1] for line in lines], [line.split(" ", 1)[0] for line in lines]
    classifier = train_text_cnn(texts, labels, show_progress=False, max_epochs=30, patience=3)
    assert classifier.model.num_classes == 3 and classifier.classes == ["neg", "pos", "q"]
    assert classifier.best_epoch < len(classifier.history.epochs["val_accuracy"]) <= 30  # stopped itself
    assert (
        classifier.accuracy(["the film is superb moving gripping", "the film is dull awful boring"], ["pos", "neg"])
        == 1.0
    )
    assert classifier.model.training is False


def test_train_text_cnn_clear_errors():
    texts, labels = ["a good film", "a bad film"] * 10, ["pos", "neg"] * 10
    with pytest.raises(TypeError, match="floats"):
        train_text_cnn(texts, [1.0, 0.0] * 10)
    with pytest.raises(ValueError, match="at least two classes"):
        train_text_cnn(texts, ["pos"] * 20)
    with pytest.raises(ValueError, match=r"sentences \[1\].*no words"):
        train_text_cnn(["a good film", "..."] + texts[2:], labels)
    with pytest.raises(ValueError, match="needs word_vectors"):
        train_text_cnn(texts, labels, mode="static")
    with pytest.raises(ValueError, match="20 sentences but 19 labels"):
        cross_validate_text_cnn(texts, labels[:-1])
    with pytest.raises(TypeError, match="floats"):
        cross_validate_text_cnn(texts, [1.0, 0.0] * 10)


def test_pretrained_vectors_cover_words_never_seen_in_training():
    texts, labels = ["a good film", "a bad film"] * 10, ["pos", "neg"] * 10
    vectors = {word: torch.randn(6) for word in ["good", "bad", "film", "superb"]}
    classifier = train_text_cnn(texts, labels, mode="static", word_vectors=vectors, show_progress=False, max_epochs=2)
    assert "superb" in classifier.vocabulary and classifier.model.embedding_dim == 6
    row = classifier.vocabulary.index("superb")
    torch.testing.assert_close(classifier.model.static_embedding.weight[row], vectors["superb"])


# --- issue 31: the learner's file, every bad line at once -------------------------------------------------


def _file_with_bad_lines(tmp_path, *, extra: int = 0) -> tuple:
    """A labelled file with a typo label, two label-only lines, a stray Latin-1 byte among UTF-8 lines."""
    lines = [line.decode() for line in three_class_lines(10)]  # 30 good lines, 10 per class
    lines[3] = "pso the film is superb 1"  # a typo for "pos": line 4
    lines.insert(8, "neg")  # label-only: line 9
    lines.insert(14, "2")  # label-only (a stray label from Kim's CR file): line 15
    lines.append("pos a cliché, but moving")  # UTF-8 beyond ASCII
    lines += [f"q what is it {i}" for i in range(extra)]
    data = "\n".join(lines).encode() + b"\nneg a clich\xe9 of a film\n"  # a Latin-1 byte: the last line
    path = tmp_path / "my_sentences.txt"
    path.write_bytes(data)
    return path, len(lines) + 1


def test_read_labelled_file_names_every_bad_line_in_one_message(tmp_path):
    path, last = _file_with_bad_lines(tmp_path)
    with pytest.raises(ValueError) as refused:
        read_labelled_file(path)
    message = str(refused.value)
    assert f"4 bad line(s) of {last}" in message
    assert "line 4: has the label 'pso', found on 1 line only (a typo?)" in message
    assert (
        "line 9: has the label 'neg' but no words" in message and "line 15: has the label '2' but no words" in message
    )
    assert f"line {last}: is not valid UTF-8" in message
    assert "skip_bad_lines=True" in message and "Labels seen: 'neg': 10, 'pos': 10, 'q': 10, 'pso': 1" in message


def test_read_labelled_file_shows_the_first_bad_lines_and_counts_the_rest(tmp_path):
    lines = ["pos good film", "neg bad film"] * 5 + [f"odd{i} a film" for i in range(15)]
    path = tmp_path / "typos.txt"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError) as refused:
        read_labelled_file(path)
    message = str(refused.value)
    assert "15 bad line(s) of 25" in message and "line 20: has the label 'odd9'" in message
    assert "line 21:" not in message and "and 5 more bad line(s): 21, 22, 23, 24, 25" in message


def test_read_labelled_file_skips_bad_lines_on_request_and_prints_the_labels(tmp_path, capsys):
    path, last = _file_with_bad_lines(tmp_path)
    data = read_labelled_file(path, skip_bad_lines=True)
    report = capsys.readouterr().out
    assert "4 bad line(s)" in report and "left out" in report and "line 9:" in report
    assert len(data.texts) == 30 and 4 not in data.line_numbers and data.line_numbers[-1] == last - 1
    assert data.label_counts == {"neg": 10, "q": 10, "pos": 10}
    assert str(data) == "30 examples, 3 labels: 'neg': 10, 'pos': 10, 'q': 10"


def test_read_labelled_file_rare_labels_settable_or_named_by_classes(tmp_path):
    path = tmp_path / "rare.txt"
    path.write_text("a one\na two\nb three\nb four\nc five\nc six\nd only\n")
    with pytest.raises(ValueError, match="line 7: has the label 'd', found on 1 line only"):
        read_labelled_file(path)  # used to become a fourth class silently
    assert read_labelled_file(path, min_label_count=1).label_counts["d"] == 1
    with pytest.raises(ValueError, match=r"(?s)line 5: has the label 'c', found on 2 lines only.*line 7"):
        read_labelled_file(path, min_label_count=3)
    named = read_labelled_file(path, classes=["a", "b", "c", "d"])  # classes named: no count needed
    assert named.labels[-1] == "d"
    with pytest.raises(ValueError, match="classes must not repeat a value"):
        read_labelled_file(path, classes=["a", "a", "b"])
    with pytest.raises(ValueError, match="min_label_count must be a positive integer"):
        read_labelled_file(path, min_label_count=0)


def test_label_ids_refuse_repeated_classes_and_a_string_of_labels():
    from helpers.training.cross_validation import label_ids

    with pytest.raises(ValueError, match=r"classes must not repeat a value, got \['a', 'a', 'b'\]"):
        label_ids(["a", "b"], classes=["a", "a", "b"])  # used to give ids [1, 2]
    with pytest.raises(TypeError, match="labels must be a list with one label per example, got the string"):
        label_ids("pos")
    assert label_ids(["b", "a"], classes=["b", "a"])[0].tolist() == [0, 1]


def test_length_buckets_refuse_float_targets_and_lengths():
    from helpers.text_cnn.text_classification import length_bucketed_loader

    with pytest.raises(TypeError, match=r"labels must hold integers .* floats such as 0\.5"):
        length_bucketed_loader([[1, 2], [3]], [0.5, 1.0], batch_size=2)  # used to train on [0, 1]
    with pytest.raises(TypeError, match="lengths must hold integers"):
        LengthBucketSampler([2.5, 1.0], batch_size=2, shuffle=False)


def test_train_text_cnn_refuses_an_infinite_learning_rate_and_a_nan_max_norm():
    texts, labels = ["a good film", "a bad film"] * 10, ["pos", "neg"] * 10
    with pytest.raises(ValueError, match="learning_rate must be a finite number > 0, got inf"):
        train_text_cnn(texts, labels, learning_rate=math.inf, show_progress=False)
    with pytest.raises(ValueError, match="max_norm must be a finite number > 0, got nan"):
        train_text_cnn(texts, labels, max_norm=math.nan, show_progress=False)
