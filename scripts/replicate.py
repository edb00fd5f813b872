"""Rerun every seeded comparison of the notebooks on fresh seeds (`make replicate`).

Each topic sub-package's ``experiments`` module holds ``REPLICATION``: the notebook's studies (the same
functions its cells call), its seeds and the fresh seeds (``range(100, 105)``, or fold-shuffle seed 100).
For every claim this prints one line,

    01 | SGNS vs PPMI-SVD, WordSim-353 | notebook: +0.014 ± 0.018 (...) | replication: +0.006 ± 0.016 (...) | held

ending in ``held``, ``weaker``, ``flipped`` or ``stronger`` (``helpers.core.evidence.replication_status``),
and writes the table to ``build/replication/``, one block per study. ``--write-results`` also puts the
notebooks' sections into the committed ``benchmarks/results/replication.md`` (whoever changes a verdict commits
it); with ``--study``, only the named studies' blocks of the committed section are replaced. Exit status 1 when
a line says ``flipped`` or a notebook has no claims registered.

Usage: python scripts/replicate.py [NOTEBOOK ...] [--study NAME ...] [--write-results]
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOPICS = {
    "01_word_embeddings": "word_embeddings",
    "02_text_cnn": "text_cnn",
    "03_gan_minimax": "gan_minimax",
    "04_self_attention": "self_attention",
    "05_transformer": "transformer",
}
BUILD = ROOT / "build" / "replication"
RESULTS = ROOT / "benchmarks" / "results" / "replication.md"
HEADER = (
    "# Verdicts on fresh seeds (`make replicate`)\n\n"
    "Each notebook's seeded comparisons and bounds, rerun by `scripts/replicate.py` with the same functions on\n"
    "seeds the notebook never uses. A direction is asserted in a notebook only at ≥ 3 SE and when it `held` here;\n"
    "`weaker`: the same direction under the threshold; `flipped`: the other direction, or a bound broken;\n"
    "`stronger`: no difference in the notebook, an established one here.\n"
)


def notebook_stem(name: str) -> str:
    stem = Path(name).stem
    matches = [known for known in TOPICS if known == stem or known.startswith(stem)]
    if len(matches) != 1:
        raise SystemExit(f"unknown notebook {name!r}; known: {', '.join(f'notebooks/{k}.ipynb' for k in TOPICS)}")
    return matches[0]


def registration(stem: str):
    """The notebook's ``REPLICATION``, or None where its sub-package registers none yet."""
    try:
        module = importlib.import_module(f"helpers.{TOPICS[stem]}.experiments")
    except ModuleNotFoundError as error:
        if error.name != f"helpers.{TOPICS[stem]}.experiments":
            raise
        return None
    return getattr(module, "REPLICATION", None)


def study_block(name: str, lines: list, seconds: float) -> str:
    """One study's table: ``### name``, its claim count and time, one row per claim."""
    rows = [f"### {name}\n", f"{len(lines)} claims, {seconds:.0f} s on this machine.\n"]
    rows.append("| claim | notebook's seeds | fresh seeds | status |\n|---|---|---|---|")
    rows += [f"| {line.claim} | {line.on_notebook_seeds} | {line.on_fresh_seeds} | {line.status} |" for line in lines]
    return "\n".join(rows) + "\n"


def section(stem: str, blocks: dict[str, str], note: str = "") -> str:
    """A notebook's section: a line of totals, then each study's block (or the ``note``)."""
    if note:
        return f"## {stem}\n\n{note}\n"
    claims = sum(len(re.findall(r"^\| (?!claim \|)(?!---)", block, flags=re.M)) for block in blocks.values())
    seconds = sum(float(re.search(r"claims, (\d+) s", block).group(1)) for block in blocks.values())
    totals = f"{claims} claims in {len(blocks)} studies, {seconds:.0f} s on this machine.\n"
    return f"## {stem}\n\n{totals}\n" + "\n".join(blocks.values())


def committed_blocks(text: str, stem: str) -> dict[str, str]:
    """The study blocks of ``stem``'s committed section (empty where the section has none)."""
    found = re.search(rf"^## {stem}\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    if found is None:
        return {}
    blocks = re.findall(r"^### (.+?)\n(.*?)(?=^### |\Z)", found.group(1), flags=re.M | re.S)
    return {name: f"### {name}\n{body}".rstrip() + "\n" for name, body in blocks}


def merge(old: str, sections: dict[str, str]) -> str:
    """The committed file with the given notebooks' sections replaced, in the course's order."""
    kept = dict(re.findall(r"^## (\S+)\n(.*?)(?=^## |\Z)", old, flags=re.M | re.S))
    kept = {stem: f"## {stem}\n{body}".rstrip() + "\n" for stem, body in kept.items()}
    kept.update(sections)
    return HEADER + "".join(f"\n{kept[stem]}" for stem in TOPICS if stem in kept)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="notebooks to replicate (default: all five)")
    parser.add_argument("--study", action="append", help="only the named study (repeatable)")
    parser.add_argument("--write-results", action="store_true", help=f"update {RESULTS.relative_to(ROOT)}")
    arguments = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from helpers.core.evidence import replicate

    stems = [notebook_stem(name) for name in arguments.notebooks] or list(TOPICS)
    BUILD.mkdir(parents=True, exist_ok=True)
    sections, failed = {}, False
    committed = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    for stem in stems:
        replication = registration(stem)
        if replication is None:
            print(f"{stem[:2]} | no claims registered: helpers/{TOPICS[stem]}/experiments.py has no REPLICATION")
            sections[stem] = section(stem, {}, note="No claims registered yet.")
            failed = True
            continue
        names = [study.name for study in replication.studies]
        unknown = sorted(set(arguments.study or ()) - set(names))
        if unknown:
            print(f"{stem[:2]} | no study named {unknown}; its studies: {names}", file=sys.stderr)
            return 2
        blocks = {} if arguments.study is None else committed_blocks(committed, stem)
        for name in names:
            if arguments.study is not None and name not in arguments.study:
                continue
            start = time.perf_counter()
            lines = replicate(replication, studies=[name], report=lambda line: print(line, flush=True))
            failed |= any(line.status == "flipped" for line in lines)
            blocks[name] = study_block(name, lines, time.perf_counter() - start)
        missing = [name for name in names if name not in blocks]
        if missing and arguments.write_results:
            print(
                f"{stem[:2]} | the committed section has no block for {missing}: rerun the whole notebook once",
                file=sys.stderr,
            )
            return 2
        sections[stem] = section(stem, {name: blocks[name] for name in names if name in blocks})
        (BUILD / f"{stem}.md").write_text(sections[stem], encoding="utf-8")
    (BUILD / "replication.md").write_text(merge("", sections), encoding="utf-8")
    print(f"written: {(BUILD / 'replication.md').relative_to(ROOT)}")
    if arguments.write_results:
        RESULTS.write_text(merge(RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "", sections))
        print(f"written: {RESULTS.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
