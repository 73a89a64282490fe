"""Spoken-word MFCC frames from a LibriSpeech-layout corpus, stored once in one ``.npz``.

Each aligned word of each utterance is cut from the audio (resampled to ``sample_rate``) and
turned into MFCC frames exactly as ``librosa.feature.mfcc(y=word, sr=16000, n_mfcc=13,
n_fft=512)`` does with its defaults (hop 512, Hann window, centred frames padded with zeros,
128 Slaney mel bands, power 2, ``power_to_db(top_db=80)`` per word, orthonormal DCT-II): a
0.3 s word gives about 10 frames. The computation is batched in numpy (a test checks it
against librosa) because one librosa call per word costs ~5 ms, and it needs no numba.

Frame store keys (the acoustic baseline reads these too):

================  =======================  ===================================================
``frames``        float32 (F, n_mfcc)      every word's frames, word after word, full length
``offsets``       int64 (N + 1,)           word i is ``frames[offsets[i]:offsets[i + 1]]``
``word_ids``      int32 (N,)               index into ``vocabulary``
``vocabulary``    str (V,)                 distinct words as spelt in the transcripts, sorted
``speaker_ids``   int32 (N,)               index into ``speakers``
``speakers``      str (S,)                 LibriSpeech speaker ids
``utterance_ids`` int32 (N,)               index into ``utterances``
``utterances``    str (U,)                 utterance ids (``<speaker>-<chapter>-<n>``)
``positions``     int32 (N,)               position of the word in its utterance (silence skipped)
``starts/ends``   float32 (N,)             the word's time span in its utterance, seconds
``sample_rate``,  int64 scalars            the feature settings used
``n_mfcc``, ``n_fft``, ``hop_length``
================  =======================  ===================================================

Instances are in corpus order (subset, speaker, chapter, utterance, position), so skip-gram
contexts are neighbours with the same ``utterance_ids``. Frames are stored unpadded; training
pads or truncates them to ``max_frames``.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from audit.speech.alignments import WordSpan, read_librispeech_alignments, read_textgrid
from audit.core.errors import AuditError

STORE_VERSION = 1
AUDIO_SUFFIXES = (".flac", ".wav")


# ------------------------------------------------------------------------------- corpus walk
@dataclass(frozen=True)
class Utterance:
    subset: str
    speaker: str
    utterance: str
    audio: Path
    spans: tuple[WordSpan, ...]


def librispeech_dir(root: str | os.PathLike) -> Path:
    """``root/LibriSpeech`` or ``root`` itself when it already is that folder."""
    root = Path(root)
    if not root.is_dir():
        raise AuditError(f"the corpus root {root} is not a folder.")
    inner = root / "LibriSpeech"
    return inner if inner.is_dir() else root


def find_subsets(root: str | os.PathLike, subsets=()) -> list[Path]:
    base = librispeech_dir(root)
    if subsets:
        missing = [s for s in subsets if not (base / s).is_dir()]
        if missing:
            raise AuditError(f"the corpus root {root} has no subset {missing[0]!r} (expected {base / missing[0]}).")
        return [base / s for s in subsets]
    found = sorted(p for p in base.iterdir() if p.is_dir() and any(c.is_dir() for c in p.iterdir()))
    if not found:
        raise AuditError(f"the corpus root {root} has no LibriSpeech layout (<subset>/<speaker>/<chapter>/).")
    return found


def iter_utterances(root: str | os.PathLike, subsets=()) -> Iterator[Utterance]:
    """Aligned utterances in a stable order; utterances without audio or alignment are skipped."""
    for subset_dir in find_subsets(root, subsets):
        for speaker_dir in sorted(p for p in subset_dir.iterdir() if p.is_dir()):
            for chapter_dir in sorted(p for p in speaker_dir.iterdir() if p.is_dir()):
                yield from _chapter_utterances(subset_dir.name, speaker_dir.name, chapter_dir)


def _chapter_utterances(subset: str, speaker: str, chapter_dir: Path) -> Iterator[Utterance]:
    alignment_file = chapter_dir / f"{speaker}-{chapter_dir.name}.alignment.txt"
    alignments = read_librispeech_alignments(alignment_file) if alignment_file.exists() else {}
    audio_files = {p.stem: p for p in sorted(chapter_dir.iterdir()) if p.suffix.lower() in AUDIO_SUFFIXES}
    for utterance, audio in sorted(audio_files.items()):
        spans = alignments.get(utterance)
        if spans is None:
            grid = chapter_dir / f"{utterance}.TextGrid"
            spans = read_textgrid(grid) if grid.exists() else None
        if spans:
            yield Utterance(subset, speaker, utterance, audio, tuple(spans))


# ------------------------------------------------------------------------------- MFCC
def mfcc_frames(segments: list[np.ndarray], *, sample_rate: int = 16000, n_mfcc: int = 13, n_fft: int = 512,
                hop_length: int = 512, n_mels: int = 128, top_db: float = 80.0) -> list[np.ndarray]:
    """librosa's default MFCC of each segment, as (frames, n_mfcc) float32 arrays, batched."""
    from scipy.fft import dct, rfft
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
    import librosa   # the filter bank only; no numba-compiled code runs here
    return librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels).astype(np.float64)


# ------------------------------------------------------------------------------- store
def store_key(root, subsets, *, sample_rate, n_mfcc, n_fft, hop_length) -> str:
    """A name for the store of this corpus and these settings (paths are resolved)."""
    text = json.dumps({"root": str(Path(root).resolve()), "subsets": list(subsets), "sr": sample_rate,
                       "n_mfcc": n_mfcc, "n_fft": n_fft, "hop": hop_length, "v": STORE_VERSION})
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def build_frame_store(root: str | os.PathLike, out_path: str | os.PathLike, *, subsets=(), sample_rate: int = 16000,
                      n_mfcc: int = 13, n_fft: int = 512, hop_length: int = 512,
                      progress: Callable[[str], None] | None = None) -> Path:
    """Cut, featurise and store every aligned word of the corpus (reused when already built)."""
    out_path = Path(out_path)
    if out_path.exists():
        return out_path
    utterances = list(iter_utterances(root, subsets))
    if not utterances:
        raise AuditError(f"the corpus root {root} has no utterance with both audio and a word alignment.")
    columns: dict[str, list] = {k: [] for k in ("words", "speakers", "utterances", "positions", "starts", "ends")}
    frames: list[np.ndarray] = []
    batch: list[np.ndarray] = []
    for number, utt in enumerate(utterances, start=1):
        audio = _read_audio(utt.audio, sample_rate)
        for position, span in enumerate(utt.spans):
            lo, hi = int(round(span.start * sample_rate)), int(round(span.end * sample_rate))
            batch.append(audio[lo:max(hi, lo + 1)])
            for key, value in (("words", span.word), ("speakers", utt.speaker), ("utterances", utt.utterance),
                               ("positions", position), ("starts", span.start), ("ends", span.end)):
                columns[key].append(value)
        if len(batch) >= 4096 or number == len(utterances):
            frames += mfcc_frames(batch, sample_rate=sample_rate, n_mfcc=n_mfcc, n_fft=n_fft, hop_length=hop_length)
            batch = []
            if progress:
                progress(f"features: {number}/{len(utterances)} utterances, {len(frames)} words")
    _save_store(out_path, frames, columns, sample_rate=sample_rate, n_mfcc=n_mfcc, n_fft=n_fft, hop_length=hop_length)
    return out_path


def _read_audio(path: Path, sample_rate: int) -> np.ndarray:
    import soundfile
    try:
        audio, rate = soundfile.read(path, dtype="float32", always_2d=True)
    except RuntimeError as exc:
        raise AuditError(f"cannot read the audio file {path} ({exc}).") from None
    audio = audio.mean(axis=1)
    if rate != sample_rate:
        from math import gcd
        from scipy.signal import resample_poly
        g = gcd(rate, sample_rate)
        audio = resample_poly(audio, sample_rate // g, rate // g).astype(np.float32)
    return audio


def _save_store(out_path: Path, frames, columns, **settings) -> None:
    vocabulary, word_ids = np.unique(np.array(columns["words"], dtype=str), return_inverse=True)
    speakers, speaker_ids = np.unique(np.array(columns["speakers"], dtype=str), return_inverse=True)
    utterances, utterance_ids = np.unique(np.array(columns["utterances"], dtype=str), return_inverse=True)
    lengths = np.array([len(f) for f in frames], dtype=np.int64)
    arrays = dict(frames=np.concatenate(frames).astype(np.float32), offsets=np.concatenate(([0], np.cumsum(lengths))),
                  word_ids=word_ids.astype(np.int32), vocabulary=vocabulary, speaker_ids=speaker_ids.astype(np.int32),
                  speakers=speakers, utterance_ids=utterance_ids.astype(np.int32), utterances=utterances,
                  positions=np.array(columns["positions"], dtype=np.int32),
                  starts=np.array(columns["starts"], dtype=np.float32), ends=np.array(columns["ends"], dtype=np.float32),
                  **{k: np.int64(v) for k, v in settings.items()})
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.stem}.part.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, out_path)


@dataclass(frozen=True, eq=False)
class FrameStore:
    """The arrays of a frame store (see the module docstring for each key)."""

    frames: np.ndarray
    offsets: np.ndarray
    word_ids: np.ndarray
    vocabulary: np.ndarray
    speaker_ids: np.ndarray
    speakers: np.ndarray
    utterance_ids: np.ndarray
    utterances: np.ndarray
    positions: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    sample_rate: int
    n_mfcc: int
    n_fft: int
    hop_length: int

    @classmethod
    def load(cls, path: str | os.PathLike) -> "FrameStore":
        try:
            with np.load(path, allow_pickle=False) as archive:
                data = {k: archive[k] for k in archive.files}
        except (OSError, ValueError):
            raise AuditError(f"{path} is not a readable frame store.") from None
        names = [f for f in cls.__dataclass_fields__]
        missing = [n for n in names if n not in data]
        if missing:
            raise AuditError(f"{path} is not a frame store: it lacks {missing[0]!r}.")
        scalars = ("sample_rate", "n_mfcc", "n_fft", "hop_length")
        return cls(**{n: int(data[n]) if n in scalars else data[n] for n in names})

    def __len__(self) -> int:
        return len(self.word_ids)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def word_frames(self, i: int) -> np.ndarray:
        return self.frames[self.offsets[i]:self.offsets[i + 1]]
