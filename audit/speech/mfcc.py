"""MFCC frames of spoken words: the project's one MFCC definition and its settings.

Each word's samples become MFCC frames exactly as ``librosa.feature.mfcc(y=word, sr=16000,
n_mfcc=13, n_fft=512)`` computes them with its defaults (hop 512, Hann window, centred frames
padded with zeros, 128 Slaney mel bands, power 2, ``power_to_db(top_db=80)`` per word,
orthonormal DCT-II): a 0.3 s word gives about 10 frames. The computation is batched in numpy
(a test checks it against librosa) because one librosa call per word costs ~5 ms, and it needs
no numba.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# librosa's defaults, fixed here (a frame store records only the settings below).
N_MELS = 128
TOP_DB = 80.0


@dataclass(frozen=True)
class MfccSettings:
    """The feature settings a frame store is built with and records."""

    sample_rate: int = 16000
    n_mfcc: int = 13
    n_fft: int = 512
    hop_length: int = 512      # librosa's default hop for mfcc(n_fft=512) is 512, not n_fft // 4

    def as_dict(self) -> dict[str, int]:
        return {"sample_rate": self.sample_rate, "n_mfcc": self.n_mfcc, "n_fft": self.n_fft,
                "hop_length": self.hop_length}


DEFAULT_MFCC = MfccSettings()


def mfcc_frames(segments: list[np.ndarray], *, sample_rate: int = DEFAULT_MFCC.sample_rate,
                n_mfcc: int = DEFAULT_MFCC.n_mfcc, n_fft: int = DEFAULT_MFCC.n_fft,
                hop_length: int = DEFAULT_MFCC.hop_length, n_mels: int = N_MELS,
                top_db: float = TOP_DB) -> list[np.ndarray]:
    """librosa's default MFCC of each segment, as (frames, n_mfcc) float32 arrays, batched."""
    from scipy.fft import dct, rfft   # loaded only when features are computed
    mel_basis = _mel_basis(sample_rate, n_fft, n_mels)
    window = _hann(n_fft)
    out: list[np.ndarray | None] = [None] * len(segments)
    order = np.argsort([len(s) for s in segments], kind="stable")
    for chunk in np.array_split(order, max(1, len(order) // 256)) if len(order) else []:
        longest = max(len(segments[i]) for i in chunk)
        counts = np.array([1 + len(segments[i]) // hop_length for i in chunk])
        width = (counts.max() - 1) * hop_length + n_fft
        padded = np.zeros((len(chunk), max(width, longest + n_fft)), dtype=np.float64)
        for row, i in enumerate(chunk):   # centred frames: n_fft // 2 zeros before the signal
            padded[row, n_fft // 2:n_fft // 2 + len(segments[i])] = segments[i]
        windows = np.lib.stride_tricks.sliding_window_view(padded, n_fft, axis=1)[:, ::hop_length][:, :counts.max()]
        power = np.abs(rfft(windows * window, axis=-1)) ** 2
        # One 2-d product: numpy's stacked 3-d matmul does not use BLAS and is ~100x slower.
        mel = (power.reshape(-1, power.shape[-1]) @ mel_basis.T).reshape(*power.shape[:2], -1)
        db = 10.0 * np.log10(np.maximum(mel, 1e-10))
        valid = np.arange(counts.max())[None, :] < counts[:, None]
        peak = np.where(valid[..., None], db, -np.inf).max(axis=(1, 2))
        db = np.maximum(db, (peak - top_db)[:, None, None])
        coefficients = dct(db, type=2, norm="ortho", axis=-1)[..., :n_mfcc]
        for row, i in enumerate(chunk):
            out[i] = coefficients[row, :counts[row]].astype(np.float32)
    return out


def _hann(n_fft: int) -> np.ndarray:
    """The periodic Hann window librosa uses (scipy ``get_window('hann', n, fftbins=True)``)."""
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n_fft) / n_fft)


def _mel_basis(sample_rate: int, n_fft: int, n_mels: int) -> np.ndarray:
    import librosa   # heavy optional dependency; the filter bank only, no numba-compiled code runs here
    return librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels).astype(np.float64)
