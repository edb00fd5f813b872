"""The papers' own mixture-of-Gaussians settings over 5 seeds per arm (issue 29, item 1): how far a CPU budget gets.

Not a timing benchmark (``benchmarks/run.py`` only runs ``bench_*.py``). Arms, each over seeds ``range(5)`` trained
together (``helpers.gan_minimax.paper_settings.train_paper_gans``, weights stacked on a seed axis):

- PacGAN's ring of 8 (radius 1, σ 0.01) and grid of 25 (σ 0.05), plain GAN and PacGAN2, as released (G 4 × 400 +
  batch norm, D 3 maxout layers of 200 × 5, N(0, 0.02²) init, Adam 1e-4 with Blocks' beta1 0.8 = PyTorch's
  β1 0.2, constant, simultaneous updates, a fixed data set of 100,000 samples, batch 100 packed inputs);
- the Unrolled-GAN paper's ring (radius 2, σ 0.02), its baseline with 0 unrolling steps.

Every ``RECORD_EVERY`` steps each seed is scored with PacGAN's metrics on 2,500 samples of one fixed draw of z
(modes with ≥ 1 high-quality sample, high-quality share within 3σ, reverse KL of the high-quality histogram),
and the per-mode counts are kept, so that a later reader can look for mode hopping in the curve. The papers
train 400,000 steps (PacGAN) and 25,000 (Unrolled GAN, as recalled); the budget here is what fits 40 minutes
of one CPU core: measured before choosing it, 100 steps of 5 stacked seeds cost 0.079 (ring GAN), 0.122
(ring PacGAN2), 0.088 (grid GAN), 0.120 (grid PacGAN2) and 0.016 (Unrolled ring) CPU-seconds per step on
one thread of this kind of machine, so ``STEPS`` = 4,000 for PacGAN's arms (1 % of their 400,000) and
``UNROLLED_STEPS`` = 20,000.

Writes ``gan_paper_settings.csv`` beside this file (one row per arm × seed × checkpoint; ``cpu_s`` is the
stack's CPU time since its training began, shared by its 5 seeds) and ``results/gan_paper_settings.md`` (the
curve and the last checkpoint beside PacGAN's Table 1). Each arm's rows are written as soon as it finishes,
so an interrupted run leaves the finished arms (``--table-only`` rebuilds the table from the CSV).

Run: ``PYTHONPATH=. python benchmarks/gan_paper_settings.py`` (one process, one thread; ~33 CPU-minutes by the
timings above; the committed run took 2,068 CPU-seconds, 72 minutes of wall time at a load average of 5-10).
``--quick`` trains 2 seeds for 4 steps per arm and writes to ``--out-dir`` (default build/benchmarks/), never here.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch: no spin-waiting on a shared machine

import argparse  # noqa: E402
import csv  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402

from helpers.core.evidence import mean_and_standard_error, paired_difference  # noqa: E402
from helpers.gan_minimax.paper_settings import PAPER_SETTINGS, PAPER_TABLES, train_paper_gans  # noqa: E402
from helpers.gan_minimax.stacked_gans import final_metrics  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SEEDS = range(5)
STEPS = 4_000
UNROLLED_STEPS = 20_000
RECORD_EVERY = 250
UNROLLED_RECORD_EVERY = 1_000
ARMS = (  # (setting key, packing, arm name)
    ("pacgan_ring", 1, "GAN"),
    ("pacgan_ring", 2, "PacGAN2"),
    ("pacgan_grid", 1, "GAN"),
    ("pacgan_grid", 2, "PacGAN2"),
    ("unrolled_ring", 1, "GAN, 0 unrolling steps"),
)
FIELDS = [
    "setting",
    "arm",
    "pack",
    "seed",
    "step",
    "paper_steps",
    "modes",
    "high_quality",
    "reverse_kl",
    "counts",
    "fresh_modes",
    "d_accuracy",
    "cpu_s",
    "wall_s",
]
HIGH_QUALITY_GOAL = 0.9  # the bar: run until > 90 % of samples are high quality, or the budget ends


def run_arm(key: str, pack: int, arm: str, seeds: range, steps: int, record_every: int) -> list[dict]:
    """Train one arm over ``seeds`` and return its rows, one per seed and checkpoint."""
    setting = PAPER_SETTINGS[key]
    modes_total = len(setting.centers())
    started = time.perf_counter()
    _, history = train_paper_gans(
        setting, pack=pack, seeds=len(seeds), steps=steps, record_every=record_every, first_seed=seeds[0]
    )
    wall = time.perf_counter() - started
    rows = []
    for index, step in enumerate(history.steps):
        metrics = final_metrics(history, modes_total, checkpoint=index)
        for position, seed in enumerate(seeds):
            fresh = history.fresh_counts[index][0, position]  # the first fresh draw of z at this checkpoint
            rows.append(
                {
                    "setting": key,
                    "arm": arm,
                    "pack": pack,
                    "seed": seed,
                    "step": step,
                    "paper_steps": setting.paper_steps,
                    "modes": int(metrics["modes"][position]),
                    "high_quality": round(float(metrics["high_quality"][position]), 4),
                    "reverse_kl": round(float(metrics["reverse_kl"][position]), 4),
                    "counts": " ".join(str(int(c)) for c in history.counts[index][position]),
                    "fresh_modes": int((fresh > 0).sum()),
                    "d_accuracy": round(float(history.d_accuracy[index][position]), 3),
                    "cpu_s": round(history.cpu_seconds[index], 1),
                    "wall_s": round(wall, 1) if index == len(history.steps) - 1 else "",
                }
            )
    return rows


def _mean_se(values: list[float], scale: float = 1.0, digits: int = 1) -> str:
    mean, se = mean_and_standard_error([v * scale for v in values])
    return f"{mean:.{digits}f} ± {se:.{digits}f}"


def _paper(key: str, pack: int) -> tuple[str, str, str]:
    if (key, pack) not in PAPER_TABLES:
        return ("-", "-", "-")
    (modes, modes_se), (quality, quality_se), (kl, kl_se) = PAPER_TABLES[(key, pack)]
    return (f"{modes} ± {modes_se}", f"{quality} ± {quality_se}", f"{kl:.2f} ± {kl_se:.2f}")


SETTINGS_TABLE = """## Settings: paper | here | why

| setting | PacGAN's released code | here | why |
|---|---|---|---|
| data | ring: 8 modes, radius 1, σ 0.01; grid: 25 modes at -4..4 step 2, σ 0.05; a fixed set of 100,000 samples \
| the same (drawn from the project's seeded streams, not Fuel's) | as released |
| packing | a packed input = m samples drawn with replacement from the set; batch = 100 packed inputs (m · 100 \
samples) | the same | as released (not a batch of 100 split into 50 pairs) |
| G | z ∈ R² ~ N(0, I); 4 × (linear, no bias → batch norm → ReLU) of 400; linear to R² | the same | as released |
| D | 3 maxout layers, 200 units × 5 pieces; linear to a logit | the same | as released |
| init | weights N(0, 0.02²), biases 0; batch-norm scale 1, shift 0 | the same | as released |
| optimiser | Blocks' Adam, learning rate 1e-4, `beta1` 0.8, constant | PyTorch Adam, lr 1e-4, betas (0.2, 0.999), \
constant | Blocks' `beta1` weighs the new gradient: its 0.8 is Kingma and Ba's β1 = 0.2 \
(tests/test_gan_paper_settings.py checks the two updates agree) |
| updates | simultaneous (ALI's `ali_algorithm`: both gradients from one forward pass) | the same | as released |
| evaluation | 2,500 samples of one fixed z, G with batch norm's population statistics (running averages, \
momentum 0.05); within 3σ = high quality; a mode covered by ≥ 1 high-quality sample | the same (one fixed z shared \
by the seeds) | as released |
| length | 400 epochs × 1,000 batches = 400,000 steps | 4,000 steps (1 %) | 40 minutes of one CPU core for all \
arms (measured costs in the script's docstring) |
| runs | 10 | seeds 0-4 per arm, the same seeds in both arms | the issue's ≥ 5; trained together in one stack |

The Unrolled-GAN ring (Metz et al., 2017, appendix A, as recalled: radius 2, σ 0.02, G 2 × 128 ReLU from z ∈ R²⁵⁶, \
D 1 × 128 ReLU on the input / 4, orthogonal init with gain 0.8, Adam 1e-4 β1 0.5, batch 512, alternating updates, \
the minimax G loss) is run as its paper's 0-unrolling-steps baseline. Unrolled training (K > 0, the paper's \
eq. 6-7) is implemented in `helpers/gan_minimax/paper_settings.py` and unit-tested, but not run here.
"""


def table(rows: list[dict], header: str) -> str:
    """The markdown report: the last checkpoint beside PacGAN's Table 1, then the curve of each arm."""
    arms = list(dict.fromkeys((r["setting"], int(r["pack"]), r["arm"]) for r in rows))
    lines = [header, ""]
    lines += [
        "| setting | arm | steps run (paper's) | seeds | modes, here | modes, paper | high quality %, here "
        "| high quality %, paper | reverse KL, here | reverse KL, paper | seeds > 90 % high quality | CPU s | wall s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, pack, arm in arms:
        mine = [r for r in rows if r["setting"] == key and int(r["pack"]) == pack]
        last = max(int(r["step"]) for r in mine)
        final = [r for r in mine if int(r["step"]) == last]
        paper = _paper(key, pack)
        reached = sum(float(r["high_quality"]) > HIGH_QUALITY_GOAL for r in final)
        lines.append(
            f"| {PAPER_SETTINGS[key].name} | {arm} | {last:,} ({int(final[0]['paper_steps']):,}; "
            f"{100 * last / int(final[0]['paper_steps']):.1f} %) | {len(final)} "
            f"| {_mean_se([float(r['modes']) for r in final])} | {paper[0]} "
            f"| {_mean_se([float(r['high_quality']) for r in final], 100)} | {paper[1]} "
            f"| {_mean_se([float(r['reverse_kl']) for r in final], digits=2)} | {paper[2]} "
            f"| {reached} of {len(final)} | {float(final[0]['cpu_s']):.0f} | {final[0]['wall_s']} |"
        )
    missing = [f"{PAPER_SETTINGS[key].name}, {arm}" for key, pack, arm in ARMS if (key, pack, arm) not in arms]
    if missing:
        lines += [
            "",
            "Not in this file (the run stopped, or had not reached them when it wrote this): "
            + "; ".join(missing)
            + ".",
        ]
    lines += [
        "",
        "Here: mean ± standard error over the seeds at the last checkpoint; paper: PacGAN Table 1 (10 runs, 400 epochs "
        "× 1,000 batches = 400,000 steps). The Unrolled-GAN row has no PacGAN number (its paper reports the unrolled "
        "runs, not this baseline, in PacGAN's metrics). CPU s: the stack's CPU time on one thread (all its seeds).",
    ]
    paired = []
    for key in dict.fromkeys(k for k, _, _ in arms):
        final = {}
        for pack in (1, 2):
            mine = [r for r in rows if r["setting"] == key and int(r["pack"]) == pack]
            if mine:
                last = max(int(r["step"]) for r in mine)
                final[pack] = sorted(((int(r["seed"]), r) for r in mine if int(r["step"]) == last), key=lambda x: x[0])
        if len(final) == 2 and [s for s, _ in final[1]] == [s for s, _ in final[2]]:
            for label, field, scale in (("modes", "modes", 1), ("high quality, points", "high_quality", 100)):
                difference = paired_difference(
                    [float(r[field]) * scale for _, r in final[2]], [float(r[field]) * scale for _, r in final[1]]
                )
                paired.append(
                    f"| {PAPER_SETTINGS[key].name} | {label} | {difference.mean:+.2f} ± {difference.se:.2f} "
                    f"| {difference.z:+.1f} |"
                )
    if paired:
        lines += [
            "",
            "## PacGAN2 − GAN on the same seeds (last checkpoint)",
            "",
            "| setting | measure | paired difference (mean ± SE) | in SE |",
            "|---|---|---|---|",
            *paired,
            "",
            "One seed set (0-4), not replicated on fresh seeds (100-104): by the course's rule (EVIDENCE.md) a "
            "direction is established only at ≥ 3 SE *and* on a second seed set, so these are at most suggestive.",
        ]
    lines += ["", "## The curve: modes covered and high-quality % (mean over seeds) against steps", ""]
    for key, pack, arm in arms:
        mine = [r for r in rows if r["setting"] == key and int(r["pack"]) == pack]
        steps = sorted({int(r["step"]) for r in mine})
        shown = sorted({min(steps, key=lambda s: abs(s - steps[-1] * i / 8)) for i in range(1, 9)})  # 8 even steps
        lines += [
            f"**{PAPER_SETTINGS[key].name}, {arm}**",
            "",
            "| step | " + " | ".join(f"{s:,}" for s in shown) + " |",
        ]
        lines.append("|---|" + "---|" * len(shown))
        for label, field, scale in (("modes", "modes", 1), ("high quality %", "high_quality", 100)):
            cells = []
            for step in shown:
                values = [float(r[field]) * scale for r in mine if int(r["step"]) == step]
                cells.append(f"{sum(values) / len(values):.1f}")
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        best = max(float(r["high_quality"]) for r in mine)
        first = min((int(r["step"]) for r in mine if float(r["high_quality"]) > HIGH_QUALITY_GOAL), default=None)
        reached = f"first > 90 % at step {first:,}" if first is not None else "no seed above 90 % at any checkpoint"
        lines += ["", f"Highest high-quality share of any seed at any checkpoint: {100 * best:.1f} % ({reached}).", ""]
    return "\n".join(lines) + "\n" + "\n" + SETTINGS_TABLE


def read_rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds, 4 steps per arm: checks that it runs")
    parser.add_argument("--out-dir", type=Path, default=None, help="where to write (quick: build/benchmarks/)")
    parser.add_argument("--table-only", action="store_true", help="rebuild the markdown table from the CSV")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.quick:
        seeds, steps, unrolled_steps, every, unrolled_every = range(2), 4, 4, 2, 2
        out_dir = args.out_dir or ROOT / "build" / "benchmarks"
    else:
        seeds, steps, unrolled_steps, every, unrolled_every = (
            SEEDS,
            STEPS,
            UNROLLED_STEPS,
            RECORD_EVERY,
            UNROLLED_RECORD_EVERY,
        )
        out_dir = args.out_dir or HERE
    csv_path = out_dir / "gan_paper_settings.csv"
    md_path = (out_dir if args.quick or args.out_dir else HERE / "results") / "gan_paper_settings.md"
    out_dir.mkdir(parents=True, exist_ok=True)
    md_path.parent.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan
    header = (
        "# The papers' mixture-of-Gaussians settings, reproduced on a CPU budget (issue 29)\n\n"
        f"Written by `benchmarks/gan_paper_settings.py`{' --quick' if args.quick else ''}: seeds "
        f"{seeds.start}-{seeds.stop - 1} per arm trained together on one thread (torch {torch.__version__}, "
        f"{platform.machine()}, load average {load:.1f} when it started); PacGAN arms {steps:,} steps, the "
        f"Unrolled-GAN arm {unrolled_steps:,}. Not reproduced means not reproduced *at these steps*: PacGAN "
        "trains 400,000."
    )
    if args.table_only:
        md_path.write_text(table(read_rows(csv_path), header), encoding="utf-8")
        print("wrote", md_path)
        return
    rows: list[dict] = []
    with csv_path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=FIELDS)
        writer.writeheader()
        for key, pack, arm in ARMS:
            unrolled = key == "unrolled_ring"
            arm_rows = run_arm(
                key, pack, arm, seeds, unrolled_steps if unrolled else steps, unrolled_every if unrolled else every
            )
            writer.writerows(arm_rows)
            file.flush()
            rows += arm_rows
            last = [r for r in arm_rows if r["step"] == arm_rows[-1]["step"]]
            print(
                f"{key} {arm}: step {last[0]['step']}, modes {[r['modes'] for r in last]}, "
                f"high quality {[r['high_quality'] for r in last]}, {last[0]['cpu_s']} CPU-s, {last[0]['wall_s']} s",
                flush=True,
            )
            md_path.write_text(table(rows, header), encoding="utf-8")
    print("wrote", csv_path, "and", md_path)


if __name__ == "__main__":
    main()
