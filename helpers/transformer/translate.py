"""Your own (source, target) text pairs -> a trained character-level Transformer, as notebook 05 trains it.

The recipe of Vaswani et al. (2017) at a laptop's scale: teacher forcing, label smoothing (§5.4), Adam with
β = (0.9, 0.98), ε = 1e-9 and the warm-up schedule (§5.3), checkpoint averaging and greedy or beam decoding
(§6.1). Characters are the tokens (the paper uses byte-pair encoding). ``read_pairs`` reads a learner's
tab-separated file, naming a bad row by its line; ``train_translator`` is what notebook 05 itself calls.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader

from helpers.core import (
    check_positive_int,
    check_positive_number,
    check_probability,
    resolve_device,
    seed_torch,
    torch_generator,
)
from helpers.data.readers import bad_lines_report, read_text_lines
from helpers.data.text import Vocabulary, pad_batch
from helpers.training import History, supervised_step, train
from helpers.transformer.model import Transformer
from helpers.transformer.seq2seq import (
    average_weights,
    beam_search,
    greedy_decode,
    label_smoothed_cross_entropy,
    warmup_scheduler,
)

__all__ = ["PADDING_ID", "SPECIALS", "Translator", "read_pairs", "train_translator"]

SPECIALS = ("<pad>", "<unk>", "<bos>", "<eos>")  # ids 0-3 in both vocabularies
PADDING_ID = SPECIALS.index("<pad>")  # the same id in both vocabularies, which start with SPECIALS
Pair = tuple[str, str]


def read_pairs(path: str | Path, *, separator: str = "\t", encoding: str | None = None) -> list[Pair]:
    """``source<TAB>target`` per line -> ``[(source, target), ...]``; blank lines are skipped.

    A line without the separator, or with an empty side, is bad; every bad line of the file is named in
    one ValueError (with its line number), so that one run finds them all.
    """
    if not isinstance(separator, str) or not separator:
        raise ValueError(f"separator must be a non-empty string, e.g. '\\t', got {separator!r}")
    lines = read_text_lines(path, encoding)
    pairs, bad = [], {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        source, found, target = line.partition(separator)
        if not found or not source.strip() or not target.strip():
            what = f"has no {separator!r} separator" if not found else "has an empty source or target"
            bad[number] = f"{what}: {line[:60]!r}"
            continue
        pairs.append((source, target))
    if bad:
        raise ValueError(
            f"{bad_lines_report(path, bad, len(lines))}\nWrite one 'source{separator}target' pair per line "
            "(or pass separator=)"
        )
    if not pairs:
        raise ValueError(f"{path} holds no pairs: write one 'source<TAB>target' pair per line")
    return pairs


@dataclass
class Translator:
    """A trained model with its character vocabularies: ``translate(texts)``, ``exact_match(pairs)``."""

    model: nn.Module
    source_vocabulary: Vocabulary
    target_vocabulary: Vocabulary
    max_output_length: int
    history: History = field(default_factory=History)
    last_weights: dict[str, Tensor] | None = None  # before checkpoint averaging
    curve: dict[str, list[float]] = field(default_factory=dict)  # {"step", "val_exact"} with evaluate_every

    def encode_sources(self, texts: Sequence[str]) -> Tensor:
        if isinstance(texts, str) or any(not text for text in texts):
            raise ValueError("give a list of non-empty strings, e.g. translator.translate(['24.11.26'])")
        return pad_batch([self.source_vocabulary.encode(list(text)) for text in texts], PADDING_ID)[0]

    def encode_targets(self, texts: Sequence[str]) -> Tensor:
        """``<bos>`` text ``<eos>`` as ids ``(batch, length + 2)``, right-padded."""
        bos, eos = self.target_vocabulary.index("<bos>"), self.target_vocabulary.index("<eos>")
        return pad_batch([[bos, *self.target_vocabulary.encode(list(text)), eos] for text in texts], PADDING_ID)[0]

    def translate(self, texts: Sequence[str], *, beam_width: int = 1, alpha: float = 0.6, offset: int = 0) -> list[str]:
        """Decode each text greedily (``beam_width=1``) or with beam search.

        ``offset``: the source's characters start at that position, behind ``offset`` padding ids (masked, so
        they are never attended to): the same text, read at positions that training may never have reached.
        """
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise ValueError(f"offset must be a whole number of positions >= 0, got {offset!r}")
        source = self.encode_sources(texts)  # (batch, src_len), right-padded
        source = F.pad(source, (offset, 0), value=PADDING_ID)  # (batch, offset + src_len)
        source = source.to(next(self.model.parameters()).device)
        ids = {
            "bos_id": self.target_vocabulary.index("<bos>"),
            "eos_id": self.target_vocabulary.index("<eos>"),
            "max_length": self.max_output_length,
        }
        output = (
            greedy_decode(self.model, source, **ids)
            if beam_width == 1
            else beam_search(self.model, source, **ids, beam_width=beam_width, alpha=alpha)
        )
        return [
            "".join(token for token in self.target_vocabulary.decode(row) if token not in SPECIALS)
            for row in output.cpu()
        ]

    def exact_match(self, pairs: Sequence[Pair], **decoding: object) -> tuple[float, list[str]]:
        """The fraction of pairs whose whole output equals the target, and the outputs."""
        pairs = _check_pairs(pairs, "pairs")
        outputs = self.translate([source for source, _ in pairs], **decoding)
        return sum(out == target for out, (_, target) in zip(outputs, pairs, strict=True)) / len(pairs), outputs

    def with_weights(self, state: dict[str, Tensor]) -> Translator:
        """A copy of this translator whose model carries ``state`` (e.g. ``last_weights``)."""
        twin = copy.copy(self)
        twin.model = copy.deepcopy(self.model)
        twin.model.load_state_dict(state)
        return twin


def _loader(pairs: Sequence[Pair], translator: Translator, batch_size: int, generator: torch.Generator) -> DataLoader:
    bos, eos = translator.target_vocabulary.index("<bos>"), translator.target_vocabulary.index("<eos>")
    examples = [
        (
            translator.source_vocabulary.encode(list(source)),
            [bos, *translator.target_vocabulary.encode(list(target)), eos],
        )
        for source, target in pairs
    ]

    def collate(batch: list) -> tuple[tuple[Tensor, Tensor], Tensor]:
        source, _ = pad_batch([ids for ids, _ in batch], PADDING_ID)
        target, _ = pad_batch([ids for _, ids in batch], PADDING_ID)  # (batch, <bos> ... <eos>)
        return (source, target[:, :-1]), target[:, 1:]  # teacher forcing: read up to t, predict t + 1

    return DataLoader(examples, batch_size=batch_size, shuffle=True, generator=generator, collate_fn=collate)


def _check_pairs(pairs: object, name: str) -> list[Pair]:
    if isinstance(pairs, str):
        raise TypeError(f"{name} must be a list of (source, target) pairs, got the string {pairs[:40]!r}")
    pairs = list(pairs)  # type: ignore[call-overload]
    if not pairs:
        raise ValueError(f"{name} is empty: give a non-empty list of (source, target) pairs")
    bad = [
        i
        for i, pair in enumerate(pairs)
        if not (isinstance(pair, (tuple, list)) and len(pair) >= 2 and all(isinstance(s, str) and s for s in pair[:2]))
    ]
    if bad:
        raise ValueError(
            f"{name} must be a non-empty list of (source, target) pairs of non-empty strings; pairs {bad[:5]} are not"
        )
    return pairs


def train_translator(
    pairs: Sequence[Pair] | Callable[[int], Sequence[Pair]],
    *,
    validation: Sequence[Pair] | None = None,
    epochs: int = 3,
    batch_size: int = 64,
    num_layers: int = 2,
    d_model: int = 64,
    num_heads: int = 4,
    d_ff: int = 256,
    dropout: float = 0.0,
    norm_first: bool = False,
    positional_encoding: bool | str = True,
    d_k: int | None = None,
    learning_rate: float = 3e-3,
    warmup: int = 400,
    ramp: bool = True,
    label_smoothing: float = 0.1,
    checkpoint_every: int = 100,
    average_last: int = 5,
    evaluate_every: int | None = None,
    make_model: Callable[[int, int], nn.Module] | None = None,
    seed: int = 0,
    show_progress: bool = True,
    device: torch.device | str | None = None,
) -> Translator:
    """Train a character-level Transformer on ``(source, target)`` pairs; return a :class:`Translator`.

    ``pairs`` may be a function ``epoch -> pairs`` (notebook 05 draws fresh date formats each epoch); the
    vocabularies come from the first epoch's pairs. ``learning_rate`` is the schedule's peak, reached after
    ``warmup`` steps (``ramp=False``: no warm-up). The weights saved every ``checkpoint_every`` steps are
    averaged over the last ``average_last`` (1: keep the last weights). ``make_model(source_vocabulary_size,
    target_vocabulary_size)`` replaces the Transformer (e.g. the GRU baseline); the other sizes then go unused.
    With ``validation`` pairs, each epoch records ``val_loss`` and greedy ``val_exact`` (exact match), and
    ``evaluate_every=n`` also scores the weights of that moment every n steps into ``translator.curve``
    (``{"step": [...], "val_exact": [...]}``: a learning curve finer than epochs; training is unchanged by it).
    ``device``: where the model trains (``None``: the CPU); the translator's model stays there.
    """
    device = resolve_device(device)
    first = _check_pairs(pairs(1) if callable(pairs) else pairs, "pairs")
    epochs, batch_size = check_positive_int(epochs, "epochs"), check_positive_int(batch_size, "batch_size")
    check_positive_int(checkpoint_every, "checkpoint_every"), check_positive_int(average_last, "average_last")
    if evaluate_every is not None:
        check_positive_int(evaluate_every, "evaluate_every")
        if validation is None:
            raise ValueError("evaluate_every= scores the validation pairs: pass validation= too")
    check_probability(label_smoothing, "label_smoothing")
    check_positive_number(learning_rate, "learning_rate", hint="the schedule's peak, e.g. 3e-3")
    sources = Vocabulary.build([list(source) for source, _ in first], specials=SPECIALS)
    targets = Vocabulary.build([list(target) for _, target in first], specials=SPECIALS)
    seed_torch(seed)
    model = (
        make_model(len(sources), len(targets))
        if make_model
        else Transformer(
            len(sources),
            len(targets),
            num_layers=num_layers,
            d_model=d_model,
            num_heads=num_heads,
            d_ff=d_ff,
            dropout=dropout,
            padding_id=PADDING_ID,
            max_length=max(len(s) for pair in first for s in pair) * 2 + 2,
            norm_first=norm_first,
            positional_encoding=positional_encoding,
            d_k=d_k,
        )
    )
    model.to(device)
    translator = Translator(model, sources, targets, max(len(t) for _, t in first) + 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate, betas=(0.9, 0.98), eps=1e-9)
    scheduler = warmup_scheduler(optimizer, warmup=check_positive_int(warmup, "warmup"), ramp=ramp)
    checkpoints: list[dict[str, Tensor]] = []

    def after_step() -> None:
        scheduler.step()
        if scheduler.last_epoch % checkpoint_every == 0:  # last_epoch counts the steps done so far
            checkpoints.append({k: v.detach().clone() for k, v in model.state_dict().items()})
            del checkpoints[:-average_last]  # keep the last average_last
        if evaluate_every is not None and scheduler.last_epoch % evaluate_every == 0:
            translator.curve.setdefault("step", []).append(scheduler.last_epoch)
            translator.curve.setdefault("val_exact", []).append(translator.exact_match(validation)[0])

    def loss(logits: Tensor, next_tokens: Tensor) -> Tensor:
        return label_smoothed_cross_entropy(logits, next_tokens, label_smoothing, ignore_index=PADDING_ID)

    step = supervised_step(model, optimizer, loss, device=device, after_step=after_step)
    generator = torch_generator(seed)
    if validation is not None:
        validation = _check_pairs(validation, "validation")
        held_source, held_target = (
            translator.encode_sources([s for s, _ in validation]),
            translator.encode_targets([t for _, t in validation]),
        )

    def evaluate() -> dict[str, float]:
        model.eval()
        with torch.no_grad():
            logits = model(held_source.to(device), held_target[:, :-1].to(device))
        return {
            "val_loss": float(loss(logits, held_target[:, 1:].to(device))),
            "val_exact": translator.exact_match(validation)[0],
        }

    def batches(epoch: int) -> DataLoader:
        return _loader(pairs(epoch) if callable(pairs) and epoch > 1 else first, translator, batch_size, generator)

    translator.history = train(
        step,
        batches,
        epochs=epochs,
        evaluate=evaluate if validation else None,
        model=model,
        show_progress=show_progress,
    )
    translator.last_weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
    if average_last > 1 and checkpoints:
        model.load_state_dict(average_weights(checkpoints))
    return translator
