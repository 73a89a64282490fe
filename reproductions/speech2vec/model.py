"""The skip-gram Speech2Vec model: BiLSTM encoder, attentive LSTM decoder, masked MSE.

Encoder: one bidirectional LSTM layer over a spoken word's MFCC frames (packed, so padding
never enters it; on the CPU the same function by :mod:`reproductions.bilstm`, which the AWE
encoder also runs); the embedding is the final hidden states of both directions concatenated
(``embedding_dim / 2`` each). Decoder: one LSTM layer whose initial hidden and cell states are
the encoder's final states; with teacher forcing its inputs are a zero "go" frame followed by
the context word's frames, all known in advance, so it runs over the whole sequence in one
call. Luong "general" attention (score ``h_t^T W_a h_s``, combination
``tanh(W_c [c_t; h_t])``) over the encoder outputs is one batched product with the padded
source frames masked out. The loss is the MSE of the predicted context frames with padded
target frames left out (the fix the reality-check paper describes).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from reproductions.bilstm import bilstm, supported


class Speech2Vec(nn.Module):
    def __init__(self, n_mfcc: int = 13, embedding_dim: int = 50):
        super().__init__()
        if embedding_dim % 2:
            raise ValueError("embedding_dim must be even (two encoder directions)")
        self.n_mfcc, self.embedding_dim = n_mfcc, embedding_dim
        self.encoder = nn.LSTM(n_mfcc, embedding_dim // 2, batch_first=True, bidirectional=True)
        self.decoder = nn.LSTM(n_mfcc, embedding_dim, batch_first=True)
        self.attention = nn.Linear(embedding_dim, embedding_dim, bias=False)
        self.combine = nn.Linear(2 * embedding_dim, embedding_dim)
        self.output = nn.Linear(embedding_dim, n_mfcc)

    def encode(self, frames: torch.Tensor, lengths: torch.Tensor):
        """(outputs (B, T, D) zero past each length, final hidden (B, D), final cell (B, D))."""
        lengths = lengths.cpu()
        if supported(self.encoder, frames):
            return bilstm(self.encoder, frames, lengths)              # the CPU path (same function)
        if int(lengths.min()) == frames.shape[1]:
            # Every word fills the batch (common with length buckets): packing would change
            # nothing but costs a sort and a scatter, so run the LSTM on the tensor directly.
            outputs, (hidden, cell) = self.encoder(frames)
        else:
            # Already longest first (the trainer's batches): no sort, and no index copied to the device.
            ordered = bool(np.all(np.diff(lengths.numpy()) <= 0))      # host lengths
            packed = pack_padded_sequence(frames, lengths, batch_first=True, enforce_sorted=ordered)
            outputs, (hidden, cell) = self.encoder(packed)
            outputs, _ = pad_packed_sequence(outputs, batch_first=True, total_length=frames.shape[1])
        return outputs, torch.cat([hidden[0], hidden[1]], dim=1), torch.cat([cell[0], cell[1]], dim=1)

    def embed(self, frames: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.encode(frames, lengths)[1]

    @staticmethod
    def decoder_inputs(targets: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: a zero go-frame, then every target frame but the last."""
        return torch.cat([torch.zeros_like(targets[:, :1]), targets[:, :-1]], dim=1)

    def attend(self, decoder_outputs, encoder_outputs, source_lengths) -> torch.Tensor:
        """Predicted frames from decoder states attending over the valid encoder outputs."""
        scores = decoder_outputs @ self.attention(encoder_outputs).transpose(1, 2)      # (B, Tt, Ts)
        valid = torch.arange(encoder_outputs.shape[1], device=scores.device)[None, :] < source_lengths[:, None]
        scores = scores.masked_fill(~valid[:, None, :], float("-inf"))
        context = torch.softmax(scores, dim=-1) @ encoder_outputs
        return self.output(torch.tanh(self.combine(torch.cat([context, decoder_outputs], dim=-1))))

    def forward(self, source, source_lengths, target, target_lengths, device_lengths=None) -> torch.Tensor:
        """Mean squared error per valid target coefficient (a scalar).

        ``source_lengths`` and ``target_lengths`` on the CPU (packing reads them there);
        ``device_lengths``, the same two already on the model's device (the trainer gathers them
        there), spares a host-to-device copy per batch.
        """
        if device_lengths is None:
            device_lengths = (source_lengths.to(source.device), target_lengths.to(target.device))
        encoder_outputs, hidden, cell = self.encode(source, source_lengths)
        decoder_outputs, _ = self.decoder(self.decoder_inputs(target), (hidden[None], cell[None]))
        predicted = self.attend(decoder_outputs, encoder_outputs, device_lengths[0])
        return masked_mse(predicted, target, device_lengths[1])


def masked_mse(predicted: torch.Tensor, target: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    mask = (torch.arange(target.shape[1], device=target.device)[None, :] < lengths[:, None]).to(target.dtype)
    squared = ((predicted - target) ** 2).sum(dim=-1) * mask
    return squared.sum() / (mask.sum() * target.shape[-1])
