"""The README's "Your own data" examples, run exactly as the README writes them, on small files written here.

Each code block is taken from README.md itself, so the README cannot drift from working code. Only the
number of epochs of the slowest examples is lowered (a quick run of the same lines), and the test says so.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def own_data_blocks() -> dict[str, str]:
    """The python blocks of the README's "Your own data" section, by the module they import from; a second
    block of the same module is named by the first file it reads too, e.g. "text_classification: my_train.txt"."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Your own data") :]
    section = section[: section.index("\n## ", 1)]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    named = {}
    for block in blocks:
        module = re.search(r"from helpers\.\w+\.(\w+) import", block).group(1)
        if module in named:
            first_file = re.search(r'"(my_[\w.]+)"', block).group(1)
            module = f"{module}: {first_file}"
        named[module] = block
    return named


def run(block: str, replacements: dict[str, str], folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for old, new in replacements.items():
        assert old in block, f"the README example no longer contains {old!r}: update this test"
        block = block.replace(old, new)
    monkeypatch.chdir(folder)
    exec(compile(block, "README example", "exec"), {})


def test_the_readme_has_an_example_for_each_trained_model() -> None:
    assert set(own_data_blocks()) == {
        "text_classification",
        "text_classification: my_train.txt",
        "word2vec",
        "translate",
    }


def test_text_cnn_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    words = {
        "pos": ["gripping", "superb", "moving"],
        "neg": ["dull", "tedious", "clumsy"],
        "q": ["what", "where", "who"],
    }
    lines = [
        f"{label} the film is {words[label][i % 3]} and {words[label][(i + 1) % 3]} {i}".encode()
        for i in range(20)
        for label in words
    ]
    lines.insert(7, b"")  # an empty line: skipped, and the line numbers of the others stay the file's
    lines[3] = b"neg a clich\xe9 of a film, dull and tedious"  # a Latin-1 byte
    (tmp_path / "my_sentences.txt").write_bytes(b"\n".join(lines) + b"\n")
    run(own_data_blocks()["text_classification"], {}, tmp_path, monkeypatch)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "60 examples, 3 labels: 'neg': 21, 'q': 20, 'pos': 19"  # print(data): line 4 is neg
    assert any(line.endswith("(10 folds)") for line in printed) and printed[-1] in ("['pos']", "['neg']", "['q']")


def test_text_cnn_example_names_every_bad_line_of_a_file_in_one_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [f"{label} the film is good and {label} {i}".encode() for i in range(10) for label in ("pos", "neg")]
    lines[2] = b"pso the film is good 1"  # a typo label: line 3
    lines[5] = b"neg"  # label-only lines, as in Kim's CR and MPQA files: lines 6 and 12
    lines[11] = b"2"
    lines[13] = "pos a cliché, but moving".encode()  # UTF-8 beyond ASCII...
    lines[16] = b"pos a clich\xe9 of a film"  # ...and a stray Latin-1 byte: line 17 does not decode as UTF-8
    (tmp_path / "my_sentences.txt").write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(ValueError) as refused:
        run(own_data_blocks()["text_classification"], {}, tmp_path, monkeypatch)
    message = str(refused.value)
    assert "4 bad line(s) of 20" in message
    for number in (3, 6, 12, 17):
        assert f"line {number}:" in message


def test_text_cnn_train_test_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    words = {"HUM": ["Who", "Which person"], "LOC": ["Where", "In which city"], "NUM": ["How many", "When"]}

    def questions(count: int, offset: int) -> bytes:
        rows = [
            f"{label} {words[label][i % 2]} is NASA's {topic} {i + offset} ?"
            for i in range(count)
            for label in words
            for topic in ("head", "base")[: 1 + i % 2]
        ]
        return ("\n".join(rows) + "\n").encode()

    (tmp_path / "my_train.txt").write_bytes(questions(20, 0))
    (tmp_path / "my_test.txt").write_bytes(questions(4, 100))
    run(own_data_blocks()["text_classification: my_train.txt"], {}, tmp_path, monkeypatch)
    printed = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"test accuracy: \d+\.\d%", printed[-1])


def test_word2vec_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    from helpers.data.readers import read_word_pairs

    pairs = read_word_pairs("wordsim353")[:60]
    text = [f"the {a} and the {b} of war in the caf\xe9" for a, b, _ in pairs for _ in range(6)]
    text.insert(10, "")
    (tmp_path / "my_text.txt").write_bytes("\n".join(text).encode("latin-1"))
    run(own_data_blocks()["word2vec"], {"epochs=3": "epochs=1"}, tmp_path, monkeypatch)
    printed = capsys.readouterr().out
    assert "spearman" in printed and "covered" in printed


def test_date_transformer_example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from helpers.transformer.dates import date_examples, split_dates

    days = split_dates(validation=0, test=0)["train"][:300]
    lines = [f"{text}\t{iso}" for text, iso, _ in date_examples(days, ["de_DE short", "fr_FR long"])]
    lines.insert(5, "")
    (tmp_path / "my_pairs.tsv").write_bytes("\n".join(lines).encode("latin-1"))  # "février", "août"
    run(own_data_blocks()["translate"], {"epochs=10, warmup=100": "epochs=1, warmup=5"}, tmp_path, monkeypatch)
    assert "exact match on held-out pairs:" in capsys.readouterr().out
