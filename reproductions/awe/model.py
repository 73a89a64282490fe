"""Acoustic word embeddings: a BiLSTM over a spoken word's MFCC frames, and the two losses.

Acoustic encoder ``f``: a (stacked) bidirectional LSTM over the word's frames, packed so that
padding never enters it; the embedding is the last layer's final hidden states of both
directions concatenated (``embedding_dim / 2`` each), as in seed 001 (Sec. 4.2) and the
Speech2Vec encoder. On the CPU a one-layer encoder runs :mod:`reproductions.bilstm` (the same
function and parameters, several times faster to train); elsewhere (CUDA: cuDNN) ``nn.LSTM``.

Written encoder ``g`` (``--loss proxy`` only): the word's symbols (letters, or CMUdict phones)
through a trainable symbol table and a BiLSTM of the same shape: one acoustically grounded word
embedding (AGWE) per written word, which serves as that word's proxy (seed 001, Sec. 3.1).

Losses, all on cosine similarities of the batch (``labels`` are word indices):

- :func:`triplet_batch_hard` (Hermans et al., seed 004's [24]): per anchor, its least similar
  positive and its most similar negative, ``max(0, margin + s_an - s_ap)``, mean over anchors
  that have a positive and a negative;
- :func:`triplet_semi_hard` (FaceNet; seed 003's semi-hard negatives): per (anchor, positive)
  pair, the most similar negative that is still less similar than the positive, else the least
  similar negative (TensorFlow's convention), same hinge, mean over the pairs;
- :func:`asymmetric_proxy` (seed 001, Eq. 11): for each instance ``i`` of the batch,
  ``(1/alpha) ELSE_{j in P_i} alpha (lambda - S^A_ij) + MSP_{k in N_i} beta (S^P/N_ik - lambda)``
  with ``S^A_ij = cos(g(t_i), f(x_j))`` (the proxy as anchor) and ``S^P/N_ik = cos(f(x_i), g(t_k))``
  (proxies as negatives); ``P_i`` includes ``i``. The paper sums over the batch; this is the
  mean (the sum / N), so the learning rate does not depend on the batch size.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.rnn import pack_padded_sequence

from reproductions.bilstm import bilstm_final_states, supported


class BiLstmEncoder(nn.Module):
    """Sequences (B, T, input) with lengths -> (B, embedding_dim): final states of both directions."""

    def __init__(self, input_dim: int, embedding_dim: int, layers: int = 1, dropout: float = 0.0):
        super().__init__()
        if embedding_dim % 2:
            raise ValueError("embedding_dim must be even (two directions)")
        self.embedding_dim = embedding_dim
        self.lstm = nn.LSTM(input_dim, embedding_dim // 2, num_layers=layers, batch_first=True, bidirectional=True,
                            dropout=dropout if layers > 1 else 0.0)

    def forward(self, sequences: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        lengths = lengths.cpu()
        if supported(self.lstm, sequences):
            return bilstm_final_states(self.lstm, sequences, lengths)    # the CPU path (same function)
        if int(lengths.min()) == sequences.shape[1]:
            _, (hidden, _) = self.lstm(sequences)     # nothing to pack: every sequence fills the batch
        else:
            # Longest first already (the trainer's batches): packed without a sort or a device-side index.
            ordered = bool(np.all(np.diff(lengths.numpy()) <= 0))      # host lengths
            packed = pack_padded_sequence(sequences, lengths, batch_first=True, enforce_sorted=ordered)
            _, (hidden, _) = self.lstm(packed)
        return torch.cat([hidden[-2], hidden[-1]], dim=1)


class WrittenEncoder(nn.Module):
    """Symbol ids (W, L) padded with 0, with lengths -> (W, embedding_dim) proxies."""

    def __init__(self, symbols: int, embedding_dim: int, symbol_dim: int = 26, layers: int = 1):
        super().__init__()
        self.table = nn.Embedding(symbols + 1, symbol_dim, padding_idx=0)
        self.encoder = BiLstmEncoder(symbol_dim, embedding_dim, layers)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.encoder(self.table(ids), lengths)


class AcousticWordEmbedder(nn.Module):
    """The acoustic encoder, and the written encoder when the loss uses proxies."""

    def __init__(self, n_mfcc: int = 13, embedding_dim: int = 128, layers: int = 1, dropout: float = 0.0,
                 symbols: int = 0, symbol_dim: int = 26):
        super().__init__()
        self.embedding_dim = embedding_dim
        self.acoustic = BiLstmEncoder(n_mfcc, embedding_dim, layers, dropout)
        self.written = WrittenEncoder(symbols, embedding_dim, symbol_dim, layers) if symbols else None

    def embed(self, frames: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Acoustic word embeddings (what instances.npz holds)."""
        return self.acoustic(frames, lengths)

    def proxies(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Written-word embeddings (AGWEs)."""
        return self.written(ids, lengths)


# ------------------------------------------------------------------------------ losses
def cosine_matrix(a: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
    """Cosines of the rows of ``a`` with those of ``b`` (with each other when ``b`` is None: the rows
    are normalised once)."""
    unit = F.normalize(a, dim=1)
    return unit @ (unit if b is None else F.normalize(b, dim=1)).T


# Cosines lie in [-1, 1]: a pair whose similarity is moved by this much can never be the hardest.
EXCLUDED = 4.0


def same_word(labels: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """(N, N): 1.0 where two tokens are of the same word, else 0.0. Float arithmetic on the integer
    labels (exact in float64): torch's CPU build ran the boolean kernels (``==``, ``masked_fill``,
    ``any``) 5-10 times slower than float ones on a batch's (256, 256)."""
    values = labels.to(torch.float64)
    return (1 - (values[:, None] - values[None, :]).abs_().clamp_(max=1)).to(dtype)


def triplet_batch_hard(embeddings: torch.Tensor, labels: torch.Tensor, margin: float) -> torch.Tensor:
    """For each anchor: margin + its most similar other-word token - its least similar same-word
    token, hinged, averaged over anchors that have both. Pairs that may not be chosen are moved out
    of reach (:data:`EXCLUDED`) rather than masked: the chosen similarities are exact, and ``amin`` /
    ``amax`` split the gradient evenly among exact ties (``min(dim)`` would give it to one)."""
    similarity = cosine_matrix(embeddings)
    same = same_word(labels, similarity.dtype)
    not_positive = 1 - same
    not_positive.diagonal().fill_(1)                                   # a token is not its own positive
    hardest_positive = torch.add(similarity, not_positive, alpha=EXCLUDED).amin(dim=1)
    hardest_negative = torch.add(similarity, same, alpha=-EXCLUDED).amax(dim=1)
    count = same.sum(dim=1)                                            # tokens of the anchor's word, itself too
    valid = (count > 1.5) & (count < len(labels) - 0.5)
    return _valid_mean(F.relu(margin + hardest_negative - hardest_positive), valid)


def _valid_mean(losses: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Mean over the valid entries, 0 when there are none; no branch on a device value (no host sync)."""
    total = torch.where(valid, losses, torch.zeros_like(losses)).sum()
    return total / valid.sum().clamp(min=1).to(losses.dtype)


def positive_pairs(labels) -> tuple:
    """(anchor, other) of every same-word pair of distinct tokens, row-major (numpy labels -> numpy)."""
    labels = np.asarray(labels)
    same = labels[:, None] == labels[None, :]
    np.fill_diagonal(same, False)
    return np.nonzero(same)


def triplet_semi_hard(embeddings: torch.Tensor, labels: torch.Tensor, margin: float, pairs=None) -> torch.Tensor:
    """``pairs``: the (anchor, other) index tensors of :func:`positive_pairs`, computed on the host (on
    a GPU, finding them there would wait for the device); by default found here."""
    similarity = cosine_matrix(embeddings)
    same = labels[:, None] == labels[None, :]
    if pairs is None:
        positive = same & ~torch.eye(len(labels), dtype=torch.bool, device=labels.device)
        pairs = positive.nonzero(as_tuple=True)
    anchor, other = pairs
    s_ap = similarity[anchor, other]                                   # (pairs,)
    s_an = similarity[anchor]                                          # (pairs, N)
    negative = ~same[anchor]
    below = negative & (s_an < s_ap[:, None])                          # farther than the positive
    semi_hard = s_an.masked_fill(~below, float("-inf")).max(dim=1).values
    easiest = s_an.masked_fill(~negative, float("inf")).min(dim=1).values
    chosen = torch.where(below.any(dim=1), semi_hard, easiest)
    valid = negative.any(dim=1)
    return _valid_mean(F.relu(margin + chosen - s_ap), valid)


def asymmetric_proxy(embeddings: torch.Tensor, proxies: torch.Tensor, labels: torch.Tensor, *,
                     alpha: float = 2.0, beta: float = 50.0, margin: float = 0.5) -> torch.Tensor:
    """Seed 001's Eq. 11, averaged over the batch; ``proxies[w]`` is word ``w``'s AGWE, ``labels`` index it."""
    similarity = cosine_matrix(embeddings, proxies)                    # (N, W): S[i, w] = cos(f(x_i), g(t_w))
    member = F.one_hot(labels, len(proxies)).bool()                    # (N, W)
    # Positive term, proxies as anchors: for word w, (1/alpha) log(1 + sum_{j of w} exp(alpha (lambda - S[j, w]))),
    # the same for every instance of w.
    exponents = (alpha * (margin - similarity)).masked_fill(~member, float("-inf"))
    with_zero = torch.cat([torch.zeros(1, len(proxies), dtype=similarity.dtype, device=similarity.device),
                           exponents], dim=0)
    per_word = torch.logsumexp(with_zero, dim=0) / alpha              # (W,)
    positive = per_word[labels]
    # Negative term, proxies as negatives: mean over the batch's other-word instances k of
    # softplus(beta (S[i, c_k] - lambda)); instance k's proxy is its word's.
    counts = member.sum(dim=0).to(similarity.dtype)                   # instances per word in the batch
    weights = counts[None, :] * (~member).to(similarity.dtype)         # (N, W)
    softplus = F.softplus(beta * (similarity - margin))
    total = weights.sum(dim=1)
    negative = (softplus * weights).sum(dim=1) / total.clamp(min=1.0)
    return (positive + negative).mean()
