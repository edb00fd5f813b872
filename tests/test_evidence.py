"""helpers.core.evidence and scripts/replicate.py: the 3-SE rule, bounds, and what fresh seeds make of a verdict."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

from helpers.core.evidence import (
    Bound,
    Difference,
    Replication,
    Study,
    mean_and_standard_error,
    paired_difference,
    replicate,
    replication_status,
)

ROOT = Path(__file__).resolve().parents[1]


def test_mean_and_standard_error_by_hand() -> None:
    mean, se = mean_and_standard_error([1.0, 2.0, 3.0, 4.0])
    assert mean == 2.5 and math.isclose(se, math.sqrt(5 / 3) / 2)  # sd = √(5/3), n = 4
    with pytest.raises(ValueError, match="at least two values"):
        mean_and_standard_error([1.0])
    with pytest.raises(ValueError, match="finite"):
        mean_and_standard_error([1.0, math.nan])


@pytest.mark.parametrize(
    ("z", "direction", "sign", "verdict"),
    [
        (3.2, 1, 1, "higher"),
        (-3.0, -1, -1, "lower"),
        (2.9, 0, 1, "suggestive (higher), not established at this scale"),
        (-2.1, 0, -1, "suggestive (lower), not established at this scale"),
        (1.9, 0, 0, "no difference at this scale"),
    ],
)
def test_the_three_se_rule(z: float, direction: int, sign: int, verdict: str) -> None:
    difference = Difference(mean=z * 0.01, se=0.01, n=5)
    assert (difference.direction, difference.sign, difference.verdict) == (direction, sign, verdict)


def test_paired_difference_pairs_by_seed() -> None:
    # The arms overlap as unpaired samples, yet every seed gains exactly 0.1 or 0.2: paired, far above 3 SE.
    first, second = [0.5, 0.8, 0.3, 0.9, 0.6], [0.4, 0.6, 0.2, 0.7, 0.5]
    difference = paired_difference(first, second)
    assert math.isclose(difference.mean, 0.14) and difference.direction == 1 and difference.n == 5
    assert "+0.140 ± 0.024 (higher)" == str(difference)
    with pytest.raises(ValueError, match="one value per seed each"):
        paired_difference([1.0, 2.0], [1.0, 2.0, 3.0])


def test_a_bound_needs_one_standard_error_of_margin() -> None:
    assert Bound.of([1.0, 1.2, 1.1], below=2.0).holds  # mean 1.1, SE 0.058: 15 SE below
    close = Bound.of([1.9, 2.0, 2.1], below=2.05)  # mean 2.0, SE 0.058: 0.87 SE below
    assert not close.holds and 0 < close.margin < 1
    assert Bound.of([0.6, 0.7], above=0.5).holds and not Bound.of([0.6, 0.7], above=0.7).holds
    with pytest.raises(ValueError, match="exactly one of below= and above="):
        Bound.of([1.0, 2.0])


@pytest.mark.parametrize(
    ("notebook_z", "fresh_z", "status"),
    [
        (3.5, 3.1, "held"),
        (3.5, 2.5, "weaker"),
        (3.5, 0.5, "weaker"),
        (3.5, -2.2, "flipped"),
        (2.4, 2.1, "held"),  # suggestive, and suggestive again
        (2.4, 1.0, "weaker"),
        (-2.4, 2.4, "flipped"),
        (0.5, -1.5, "held"),  # no difference, and none again
        (0.5, 2.5, "held"),
        (0.5, 3.5, "stronger"),
    ],
)
def test_replication_status(notebook_z: float, fresh_z: float, status: str) -> None:
    assert replication_status(Difference(notebook_z, 1.0, 5), Difference(fresh_z, 1.0, 5)) == status


def test_replication_status_of_bounds() -> None:
    holds, barely, broken = Bound(1.0, 0.1, 5, 2.0, True), Bound(1.95, 0.1, 5, 2.0, True), Bound(2.2, 0.1, 5, 2.0, True)
    assert [replication_status(holds, other) for other in (holds, barely, broken)] == ["held", "weaker", "flipped"]
    with pytest.raises(TypeError):
        replication_status(holds, Difference(1.0, 1.0, 5))


def test_replicate_runs_each_study_on_both_seed_sets() -> None:
    calls = []

    def study(seeds):
        calls.append(list(seeds))
        shift = 1.0 if seeds[0] < 100 else -1.0  # the fresh seeds reverse the effect: a flip
        return {"a − b": paired_difference([shift + 0.1 * s for s in range(5)], [0.1 * s for s in range(5)])}

    registration = Replication("09_example.ipynb", range(5), range(100, 105), [Study("toy", study)])
    (line,) = replicate(registration)
    assert calls == [[0, 1, 2, 3, 4], [100, 101, 102, 103, 104]]
    assert line.status == "flipped" and str(line).startswith("09 | a − b | notebook: +1.000 ± 0.000 (higher)")


def _script():
    spec = importlib.util.spec_from_file_location("replicate_script", ROOT / "scripts" / "replicate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_results_file_keeps_other_notebooks_and_the_course_order() -> None:
    script = _script()
    old = script.merge("", {"02_text_cnn": "## 02_text_cnn\nold 02\n", "05_transformer": "## 05_transformer\n05\n"})
    new = script.merge(
        old, {"01_word_embeddings": "## 01_word_embeddings\n01\n", "02_text_cnn": "## 02_text_cnn\nnew\n"}
    )
    assert new.index("## 01_") < new.index("## 02_") < new.index("## 05_")
    assert "new" in new and "old 02" not in new and "\n05\n" in new
    with pytest.raises(SystemExit, match="unknown notebook"):
        script.notebook_stem("06_diffusion")
    assert script.notebook_stem("notebooks/04_self_attention.ipynb") == "04_self_attention"


def test_a_rerun_of_one_study_replaces_only_that_studys_block() -> None:
    script = _script()
    registration = Replication(
        "09_example.ipynb",
        range(5),
        range(100, 105),
        [Study("one", lambda seeds: {"a": Bound.of([1.0, 2.0], below=10)}), Study("two", lambda seeds: {})],
    )
    first = script.study_block("one", replicate(registration, studies=["one"]), 3.0)
    old = script.section("09_x", {"one": first, "two": script.study_block("two", [], 4.0)})
    assert old.startswith("## 09_x\n\n1 claims in 2 studies, 7 s on this machine.\n")
    blocks = script.committed_blocks(old, "09_x")
    assert list(blocks) == ["one", "two"] and blocks["one"] == first
    blocks["two"] = script.study_block("two", replicate(registration, studies=["one"]), 5.0)
    new = script.section("09_x", blocks)
    assert new.startswith("## 09_x\n\n2 claims in 2 studies, 8 s") and new.count("| a |") == 2
    assert script.committed_blocks("## 09_x\n\nno blocks\n", "09_x") == {}


def test_a_study_may_name_its_own_seeds() -> None:
    seen = []

    def study(seeds):
        seen.append(list(seeds))
        return {"a": Bound.of([1.0, 2.0], below=10)}

    registration = Replication(
        "09_example.ipynb", range(5), range(100, 105), [Study("ten", study, range(10), range(100, 110))]
    )
    replicate(registration)
    assert seen == [list(range(10)), list(range(100, 110))]


def test_committed_verdicts_reads_one_notebooks_section(tmp_path) -> None:
    from helpers.core.evidence import committed_verdicts

    table = tmp_path / "replication.md"
    table.write_text(
        "# Verdicts\n\n## 04_self_attention\nx claims\n| claim | a | b | status |\n|---|---|---|---|\n"
        "| other | 1 | 2 | held |\n\n## 05_transformer\n2 claims, 9 s.\n"
        "| claim | notebook's seeds | fresh seeds | status |\n"
        "|---|---|---|---|\n| gap, a − b | +0.1 ± 0.01 (higher) | +0.2 ± 0.01 (higher) | held |\n"
        "| c | 0.5 ± 0.1 (above 0.4 by 1.0 SE) | 0.3 ± 0.1 (not above 0.4 by 1 SE (margin -1.0 SE)) | flipped |\n",
        encoding="utf-8",
    )
    assert committed_verdicts("05_transformer", table) == {
        "gap, a − b": ("+0.1 ± 0.01 (higher)", "+0.2 ± 0.01 (higher)", "held"),
        "c": ("0.5 ± 0.1 (above 0.4 by 1.0 SE)", "0.3 ± 0.1 (not above 0.4 by 1 SE (margin -1.0 SE))", "flipped"),
    }
    assert committed_verdicts("04_self_attention", table) == {"other": ("1", "2", "held")}
    with pytest.raises(ValueError, match="no section '03_gan_minimax'.*NOTEBOOKS=notebooks/03_gan_minimax.ipynb"):
        committed_verdicts("03_gan_minimax", table)
    with pytest.raises(FileNotFoundError, match="make replicate-results"):
        committed_verdicts("05_transformer", tmp_path / "missing.md")


def test_the_committed_table_has_a_section_for_every_registered_notebook() -> None:
    from helpers.core.evidence import committed_verdicts

    for notebook in ("01_word_embeddings", "03_gan_minimax", "04_self_attention", "05_transformer"):
        assert committed_verdicts(notebook), notebook


def test_check_replicated_refuses_a_stale_table_and_an_asserted_claim_that_did_not_hold(tmp_path) -> None:
    from helpers.core.evidence import check_replicated

    gap = paired_difference([0.5, 0.6, 0.55, 0.52, 0.58], [0.4, 0.5, 0.45, 0.43, 0.47])
    flat = paired_difference([0.5, 0.6, 0.55, 0.52, 0.58], [0.5, 0.61, 0.54, 0.52, 0.57])
    table = tmp_path / "replication.md"
    table.write_text(
        f"## 09_x\n| gap | {gap} | +0.1 ± 0.01 (higher) | held |\n"
        f"| flat | {flat} | +0.1 ± 0.01 (higher) | stronger |\n",
        encoding="utf-8",
    )
    check_replicated("09_x", {"gap": gap, "flat": flat}, ["gap"], table)
    with pytest.raises(AssertionError, match="'flat' is asserted, but on fresh seeds it came out 'stronger'"):
        check_replicated("09_x", {"gap": gap, "flat": flat}, ["gap", "flat"], table)
    with pytest.raises(AssertionError, match="'gap': the committed table has .*make replicate-results"):
        check_replicated("09_x", {"gap": flat}, [], table)
    with pytest.raises(AssertionError, match="'new' is not in the committed table of 09_x"):
        check_replicated("09_x", {"new": gap}, [], table)


def test_replicate_runs_on_the_notebooks_thread_count_and_restores_it() -> None:
    import torch

    seen = []

    def study(seeds):
        seen.append(torch.get_num_threads())
        return {"a": Bound.of([1.0, 2.0], below=10)}

    before = torch.get_num_threads()
    replicate(Replication("09_example.ipynb", range(5), range(100, 105), [Study("one", study)], threads=1))
    assert seen == [1, 1] and torch.get_num_threads() == before
