"""Readers of the course's data sets: each returns plain Python or tensors, nothing to configure.

The files are fetched at setup time by :mod:`helpers.data`; the readers find them with
:func:`helpers.data.data_path` and fail with the command that fetches them when they are missing.

- Rotten Tomatoes (Pang & Lee 2005's MR snippets and plot summaries): notebooks 02 and 04.
- WordSim-353, SimLex-999 and Mikolov et al. (2013)'s analogy questions: notebook 01.
- A shortened English Wikipedia dump, parsed to sentences the way gensim's ``WikiCorpus`` does: 01.
- 5,000 MNIST digits: notebook 03.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import torch

from helpers.data import data_path

__all__ = [
    "bad_lines_report",
    "decode_lines",
    "read_text_lines",
    "read_analogies",
    "read_mnist_5k",
    "read_rotten_tomatoes",
    "read_wikipedia_sentences",
    "read_wikipedia_xml",
    "read_word_pairs",
    "strip_wiki_markup",
    "wiki_tokenize",
]


def read_text_lines(path: str | Path, encoding: str | None = None) -> list[str]:
    """A learner's text file as a list of lines: ``lines[i]`` is line ``i + 1`` of the file.

    Lines are split on newlines only (``\\n``, with a trailing ``\\r`` removed), never on the other
    characters Python's ``splitlines`` also treats as breaks (U+0085, U+2028, form feeds). Empty lines
    are kept, so that line numbers stay those of the file. ``encoding=None`` detects UTF-8 or Latin-1;
    a file whose lines mix the two is refused with the lines named.
    """
    lines, problems = decode_lines(path, encoding)
    if problems:
        numbers = sorted(problems)
        if encoding is not None:
            raise ValueError(
                f"{path}, line {numbers[0]}, {problems[numbers[0]]} ({len(numbers)} such line(s): "
                f"{numbers[:10]}); give the file's real encoding, e.g. encoding='latin-1'"
            )
        utf8 = [n for n, line in enumerate(lines, 1) if n not in problems and not line.isascii()]
        raise ValueError(
            f"{path} mixes encodings: lines {utf8[:3]} are UTF-8 but lines {numbers[:10]} are not "
            f"({len(numbers)} line(s) in all). "
            f"Re-save the file in one encoding (UTF-8), or pass encoding= to read every line the same way"
        )
    return lines


def decode_lines(path: str | Path, encoding: str | None = None) -> tuple[list[str], dict[int, str]]:
    """The lines of a text file (as :func:`read_text_lines` splits them) and those that did not decode.

    Returns ``(lines, problems)``: ``problems`` maps a 1-based line number to what is wrong with it; such
    a line is in ``lines`` decoded with replacement characters, so that a reader can report every bad line
    of a file at once (:func:`helpers.text_cnn.text_classification.read_labelled_file` does).
    ``encoding=None``: UTF-8 if every line is UTF-8, else Latin-1 if no line holds UTF-8 beyond ASCII;
    a file that mixes the two is read as UTF-8 with its other lines as the problems.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no file at {path}: give the path of a text file with one example per line")
    raw_lines = path.read_bytes().split(b"\n")
    if raw_lines and raw_lines[-1] == b"":
        raw_lines.pop()  # the newline that ends the last line starts no new line
    raw_lines = [line[:-1] if line.endswith(b"\r") else line for line in raw_lines]
    if encoding is None:
        not_utf8 = [number for number, line in enumerate(raw_lines, 1) if not _decodes(line, "utf-8")]
        utf8_beyond_ascii = any(not line.isascii() and _decodes(line, "utf-8") for line in raw_lines)
        if not_utf8 and not utf8_beyond_ascii:
            return [line.decode("latin-1") for line in raw_lines], {}
        encoding, mixed = "utf-8", "is not valid UTF-8, while other lines of the file are UTF-8 beyond ASCII"
    else:
        mixed = None
    lines, problems = [], {}
    for number, line in enumerate(raw_lines, 1):
        try:
            lines.append(line.decode(encoding))
        except UnicodeDecodeError as error:
            lines.append(line.decode(encoding, errors="replace"))
            problems[number] = mixed or f"is not valid {encoding} ({error.reason})"
    return lines, problems


def bad_lines_report(path: str | Path, bad: dict[int, str], total: int, *, shown: int = 10) -> str:
    """Every bad line of a file in one message: the first ``shown`` described, the others counted and listed.

    ``bad`` maps a 1-based line number to what is wrong with it; ``total`` is the file's number of lines.
    """
    numbers = sorted(bad)
    described = [f"  line {number}: {bad[number]}" for number in numbers[:shown]]
    rest = numbers[shown:]
    if rest:
        listed = ", ".join(map(str, rest[:20])) + (", ..." if len(rest) > 20 else "")
        described.append(f"  and {len(rest)} more bad line(s): {listed}")
    return "\n".join([f"{path}: {len(numbers)} bad line(s) of {total}:", *described])


def _decodes(line: bytes, encoding: str) -> bool:
    try:
        line.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def read_rotten_tomatoes() -> list[dict[str, str]]:
    """All rows of the Rotten Tomatoes corpus: ``category`` (fresh/rotten/plot), ``text``, ``movie_name``."""
    with bz2.open(data_path("rotten_tomatoes"), "rt", encoding="utf-8") as handle:
        return [
            {"category": row["category"], "text": row["text"], "movie_name": row["movie_name"]}
            for row in csv.DictReader(handle)
        ]


def read_word_pairs(name: str) -> list[tuple[str, str, float]]:
    """A word-similarity benchmark (``"wordsim353"`` or ``"simlex999"``) as (word, word, human score)."""
    if name not in ("wordsim353", "simlex999"):
        raise ValueError(f"read_word_pairs knows 'wordsim353' and 'simlex999', got {name!r}")
    pairs = []
    for line in data_path(name).read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        first, second, score = line.split("\t")[:3]
        pairs.append((first.lower(), second.lower(), float(score)))
    return pairs


def read_mnist_5k() -> tuple[torch.Tensor, torch.Tensor]:
    """5,000 MNIST digits: images ``(5000, 28, 28)`` uint8 and labels ``(5000,)`` int64."""
    with gzip.open(data_path("mnist_5k"), "rt") as handle:
        rows = [line.split(",") for line in handle.read().splitlines() if line]
    values = torch.tensor([[int(v) for v in row] for row in rows], dtype=torch.int64)
    return values[:, :784].to(torch.uint8).reshape(-1, 28, 28), values[:, 784]


def read_wikipedia_xml() -> str:
    """The raw MediaWiki XML of the shortened Wikipedia dump (parse it with ``xml.etree``)."""
    with bz2.open(data_path("wikipedia"), "rb") as handle:
        return io.TextIOWrapper(handle, encoding="utf-8").read()


def read_analogies() -> dict[str, list[tuple[str, str, str, str]]]:
    """Mikolov et al. (2013)'s analogy questions ``a : b :: c : d``, lower-cased, by section."""
    sections: dict[str, list[tuple[str, str, str, str]]] = {}
    current = None
    for line in data_path("analogies").read_text(encoding="utf-8").split("\n"):
        if line.startswith(":"):
            current = line[1:].strip()
            sections[current] = []
        elif line.strip():
            if current is None:
                raise ValueError("the analogy file must start with a ': section' line")
            a, b, c, d = line.lower().split()
            sections[current].append((a, b, c, d))
    return sections


# --- Wikipedia: the dump without its markup ------------------------------------------------------

_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_REF = re.compile(r"<ref[^>]*?/>|<ref[^>]*>.*?</ref>", re.DOTALL | re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_TEMPLATE = re.compile(r"\{\{[^{}]*\}\}")  # innermost {{...}}; applied until none is left
_TABLE = re.compile(r"\{\|.*?\|\}", re.DOTALL)
_LINK = re.compile(r"\[\[([^\[\]]*)\]\]")  # innermost [[target|text]]
_EXTERNAL = re.compile(r"\[(?:https?|ftp)://[^\s\]]+\s*([^\]]*)\]")
_URL = re.compile(r"(?:https?|ftp)://\S+")
_NON_ARTICLE_LINK = re.compile(r"^\s*:?\s*(?:file|image|category|media|[a-z]{2,3}(?:-[a-z]+)?)\s*:", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+")


def _replace_until_stable(pattern: re.Pattern, replacement, text: str) -> str:
    while True:
        text, count = pattern.subn(replacement, text)
        if count == 0:
            return text


def _link_text(match: re.Match) -> str:
    inside = match.group(1)
    if _NON_ARTICLE_LINK.match(inside):  # images, categories, other-language links: not prose
        return ""
    return inside.split("|")[-1]  # [[target|shown text]] -> shown text


def strip_wiki_markup(text: str) -> str:
    """MediaWiki source -> plain text: drop comments, references, templates, tables, files, tags."""
    text = _COMMENT.sub(" ", text)
    text = _REF.sub(" ", text)
    text = _replace_until_stable(_TEMPLATE, " ", text)  # nested infoboxes and citations
    text = _TABLE.sub(" ", text)
    text = _replace_until_stable(_LINK, _link_text, text)  # nested links inside image captions
    text = _EXTERNAL.sub(r"\1", text)
    text = _URL.sub(" ", text)
    text = _TAG.sub(" ", text)
    return text.replace("'''", "").replace("''", "")


def wiki_tokenize(text: str, min_length: int = 2, max_length: int = 15) -> list[str]:
    """Lower-cased runs of letters of 2-15 characters (the rule of gensim's ``WikiCorpus``)."""
    return [w for w in _WORD.findall(text.lower()) if min_length <= len(w) <= max_length]


def read_wikipedia_sentences(min_words: int = 5) -> list[list[str]]:
    """The articles of the shortened Wikipedia dump as token lists, one per paragraph.

    Redirect pages and non-article pages are skipped; paragraphs (lines of the stripped text) with
    fewer than ``min_words`` words (headings, list stubs) are dropped.
    """
    root = ElementTree.fromstring(read_wikipedia_xml())
    namespace = {"m": root.tag[1 : root.tag.index("}")]} if root.tag.startswith("{") else {}
    prefix = "m:" if namespace else ""
    sentences: list[list[str]] = []
    for page in root.iter(f"{{{namespace['m']}}}page" if namespace else "page"):
        if page.findtext(f"{prefix}ns", namespaces=namespace) != "0":
            continue
        source = page.findtext(f"{prefix}revision/{prefix}text", default="", namespaces=namespace)
        if source.lstrip().lower().startswith("#redirect"):
            continue
        for line in strip_wiki_markup(source).splitlines():
            words = wiki_tokenize(line)
            if len(words) >= min_words:
                sentences.append(words)
    return sentences
