"""SGNS's loss per pair with a hand-written backward: the same numbers as the taught model, faster.

:class:`helpers.word_embeddings.skipgram.SkipGramNegativeSampling` computes eq. 4 on gathered vectors, as the
paper writes it. Training spends most of its time there, so the trainer calls :func:`pair_losses` instead:
a batch's scores are one sampled matrix product, with no (batch, 1 + k, d) copy of output vectors, and
each gradient table is one ``embedding_bag`` over the batch's entries grouped by word. The tests check
both the losses and the gradients against autograd on the taught formula, in float64.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
import torch.nn.functional as F

from helpers.word_embeddings.skipgram import SkipGramNegativeSampling, negative_sampling_loss

__all__ = ["pair_losses"]


def pair_losses(
    model: SkipGramNegativeSampling, centres: torch.Tensor, contexts: torch.Tensor, negatives: torch.Tensor
) -> torch.Tensor:
    """``model(centres, contexts, negatives)`` without the argument checks, through the fast backward.

    ``centres (batch,)``, ``contexts (batch,)``, ``negatives (batch, k)``: valid word ids (the trainer's are,
    by construction). Returns the loss per pair, ``(batch,)``.
    """
    targets = torch.cat([contexts.unsqueeze(1), negatives], dim=1)  # (batch, 1 + k): one lookup for all
    return _PairLosses.apply(model.input_vectors.weight, model.output_vectors.weight, centres, targets)


class _PairLosses(torch.autograd.Function):
    """Eq. 4 for each pair, computed without gathering a (batch, 1 + k, d) block of output vectors.

    Scores s_ij = v_i · u_{t_ij} (t_i0 the context, t_ij the noise words) are a *sampled* matrix
    product: the entries of V Uᵀ at (i, t_ij) only (``sampled_addmm``). With labels y = (1, 0, …, 0),
    ∂loss_i/∂s_ij = σ(s_ij) − y_ij =: g_ij, and the gradients are sums over the same entries:
    ∂/∂v_c = Σ_{i: w_i = c} Σ_j g_ij u_{t_ij} and ∂/∂u_c = Σ_{t_ij = c} g_ij v_i, each one ``embedding_bag``
    (a weighted sum of rows, one bag per vocabulary word) once the entries are grouped by word.
    Checked against autograd in float64 (tests).
    """

    @staticmethod
    def forward(ctx, input_weight, output_weight, centres, targets):  # noqa: ANN001, ANN205
        v = input_weight.index_select(0, centres)  # (batch, d)
        batch, per_pair = targets.shape
        columns = output_weight.T  # (d, vocabulary)
        if per_pair > columns.shape[1]:  # a tiny vocabulary: sampled_addmm refuses more entries per row than columns
            columns = F.pad(columns, (0, per_pair - columns.shape[1]))
        row_starts = torch.arange(0, batch * per_pair + 1, per_pair, device=v.device)  # (batch + 1,)
        with warnings.catch_warnings(action="ignore", category=UserWarning):  # "CSR is in beta": tested here
            where = torch.sparse_csr_tensor(
                row_starts,
                targets.flatten(),
                v.new_zeros(batch * per_pair),
                (batch, columns.shape[1]),
                check_invariants=False,
            )
        scores = torch.sparse.sampled_addmm(where, v, columns, beta=0.0).values().view(batch, per_pair)
        ctx.save_for_backward(output_weight, v, centres, targets, scores)
        return negative_sampling_loss(scores[:, 0], scores[:, 1:])  # (batch,)

    @staticmethod
    def backward(ctx, grad_loss):  # noqa: ANN001, ANN205
        output_weight, v, centres, targets, scores = ctx.saved_tensors
        g = torch.sigmoid(scores) * grad_loss.unsqueeze(1)  # (batch, 1 + k): (σ(s) − y) ∂L/∂loss_i,
        g[:, 0] -= grad_loss  # y = 1 for the context only
        vocabulary_size, per_pair = len(output_weight), targets.shape[1]
        # ∂/∂v_c: one bag per centre word c, holding the 1 + k targets of each of its pairs
        by_centre, centre_starts = _group_by_word(centres, vocabulary_size)
        grad_input = F.embedding_bag(
            targets[by_centre].flatten(),
            output_weight,
            centre_starts * per_pair,
            mode="sum",
            per_sample_weights=g[by_centre].flatten(),
        )  # (vocabulary, d)
        # ∂/∂u_c: one bag per target word c, holding the centre vector of each pair it is a target of
        by_target, target_starts = _group_by_word(targets.flatten(), vocabulary_size)
        pair_rows = by_target.div(per_pair, rounding_mode="floor")  # (batch·(1+k),) the pair of each entry
        grad_output = F.embedding_bag(
            pair_rows, v, target_starts, mode="sum", per_sample_weights=g.flatten()[by_target]
        )  # (vocabulary, d)
        return grad_input, grad_output, None, None


def _group_by_word(words: torch.Tensor, vocabulary_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A stable counting sort of word ids: the positions of ``words`` grouped by id, and where each group starts.

    ``embedding_bag`` with these ``starts`` as offsets then sums one bag per vocabulary word (empty
    bags give zero rows). numpy's radix sort of 16-bit ids is about 10x faster than ``torch.sort`` here.
    """
    if words.device.type == "cpu" and vocabulary_size <= 2**16:
        order = torch.from_numpy(np.argsort(words.numpy().astype(np.uint16), kind="stable"))
    else:
        order = torch.sort(words, stable=True).indices
    counts = torch.bincount(words, minlength=vocabulary_size)  # (vocabulary,)
    return order, counts.cumsum(0) - counts
