"""Embeddings from a trained (or freshly initialised) encoder.

A word's embedding follows the reality-check code: every spoken instance's encoder state is
unit-normalised, the instances of a word are averaged, and the average is normalised again.
"""

from __future__ import annotations

import numpy as np
import torch

from audit.core.vectors import Vectors
from reproductions.speech2vec.data import TrainingData


@torch.no_grad()
def instance_embeddings(model, data: TrainingData, frames: torch.Tensor, *, batch_size: int = 8192) -> np.ndarray:
    """Encoder state of every instance (N, D), float32, in data order."""
    was_training = model.training
    model.eval()
    order = np.argsort(data.lengths, kind="stable")   # similar lengths together: less padding
    out = np.empty((len(data), model.embedding_dim), dtype=np.float32)
    lengths = torch.from_numpy(data.lengths)
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        longest = int(data.lengths[rows].max())
        index = torch.from_numpy(rows).to(frames.device)
        states = model.embed(frames[index, :longest], lengths[torch.from_numpy(rows)])
        out[rows] = states.float().cpu().numpy()
    model.train(was_training)
    return out


def word_vectors(embeddings: np.ndarray, word_index: np.ndarray, words) -> Vectors:
    """Normalise instances, average per word, normalise again."""
    norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
    unit = np.divide(embeddings, norms, out=np.zeros_like(embeddings), where=norms > 0).astype(np.float64)
    sums = np.zeros((len(words), embeddings.shape[1]))
    np.add.at(sums, word_index, unit)
    averaged = sums / np.maximum(np.bincount(word_index, minlength=len(words)), 1)[:, None]
    lengths = np.linalg.norm(averaged, axis=1, keepdims=True)
    matrix = np.divide(averaged, lengths, out=np.zeros_like(averaged), where=lengths > 0)
    return Vectors(list(words), matrix.astype(np.float32))
