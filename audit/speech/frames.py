"""The frame store: every aligned spoken word of a corpus as MFCC frames, in one ``.npz``.

One type, :class:`FrameStore`, with its builder (:func:`build_frame_store`, from a
LibriSpeech-layout corpus with word alignments) and its strict reader
(:func:`read_frame_store`, through :func:`audit.core.npzfile.read_npz`: never a pickle, one
sentence for a bad file). The DTW baseline, the raw homophone similarity and the reproductions
all read stores through it.

Keys (a store must hold the first four; the builder writes them all):

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
``sample_rate``,  int64 scalars            the MFCC settings used (:class:`MfccSettings`)
``n_mfcc``, ``n_fft``, ``hop_length``
================  =======================  ===================================================

Instances are in corpus order (subset, speaker, chapter, utterance, position), so skip-gram
contexts are neighbours with the same ``utterance_ids``. Frames are stored unpadded; training
pads or truncates them.
"""

from __future__ import annotations

import hashlib
import json
import os
from math import gcd
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from audit.core.datadir import sha256_file
from audit.core.errors import AuditError
from audit.core.files import atomic_write_npz
from audit.core.npzfile import read_npz
from audit.speech.alignments import WordSpan, read_librispeech_alignments, read_textgrid
from audit.speech.mfcc import DEFAULT_MFCC, MfccSettings, mfcc_frames

STORE_VERSION = 1
AUDIO_SUFFIXES = (".flac", ".wav")
REQUIRED_KEYS = ("frames", "offsets", "word_ids", "vocabulary")
# Per-segment columns and the tables they index; what the builder adds beside the frames.
CORPUS_COLUMNS = ("speaker_ids", "speakers", "utterance_ids", "utterances", "positions", "starts", "ends")
_SETTING_KEYS = tuple(f.name for f in fields(MfccSettings))
_STORE_KEYS = REQUIRED_KEYS + CORPUS_COLUMNS + _SETTING_KEYS
_TABLES = {"speaker_ids": "speakers", "utterance_ids": "utterances"}


# ------------------------------------------------------------------------------- the store
@dataclass(frozen=True, eq=False)
class FrameStore:
    """Variable-length MFCC frame sequences, one per spoken word token, with where each came from."""

    frames: np.ndarray                      # (F, n_mfcc) float32
    offsets: np.ndarray                     # (N + 1,) segment i is frames[offsets[i]:offsets[i + 1]]
    word_ids: np.ndarray                    # (N,) index into vocabulary
    vocabulary: np.ndarray                  # (V,) str
    speaker_ids: np.ndarray | None = None   # (N,) index into speakers
    speakers: np.ndarray | None = None
    utterance_ids: np.ndarray | None = None
    utterances: np.ndarray | None = None
    positions: np.ndarray | None = None
    starts: np.ndarray | None = None        # seconds into the utterance (wav2vec2 cuts the audio again)
    ends: np.ndarray | None = None
    settings: MfccSettings | None = None    # None: the store does not record them
    path: str = ""
    sha256: str = ""

    @classmethod
    def load(cls, path: str | os.PathLike, *, require=()) -> "FrameStore":
        """:func:`read_frame_store`."""
        return read_frame_store(path, require=require)

    def __len__(self) -> int:
        return len(self.word_ids)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def word_frames(self, i: int) -> np.ndarray:
        return self.frames[self.offsets[i]:self.offsets[i + 1]]

    def subset(self, keep: np.ndarray) -> "FrameStore":
        """The segments where ``keep`` is true (frames are copied, offsets rebuilt)."""
        keep = np.flatnonzero(keep)
        lengths = self.lengths[keep]
        rows = np.repeat(self.offsets[keep], lengths) + _ranges(lengths)

        def pick(column):
            return None if column is None else column[keep]
        return FrameStore(frames=self.frames[rows], offsets=np.r_[0, np.cumsum(lengths)],
                          word_ids=self.word_ids[keep], vocabulary=self.vocabulary,
                          speaker_ids=pick(self.speaker_ids), speakers=self.speakers,
                          utterance_ids=pick(self.utterance_ids), utterances=self.utterances,
                          positions=pick(self.positions), starts=pick(self.starts), ends=pick(self.ends),
                          settings=self.settings, path=self.path, sha256=self.sha256)


def _ranges(lengths: np.ndarray) -> np.ndarray:
    """0..l-1 for each length, concatenated."""
    total = int(lengths.sum())
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.arange(total) - starts


def read_frame_store(path: str | os.PathLike, *, require=()) -> FrameStore:
    """Read a frame store ``.npz`` strictly; ``require`` names optional keys the caller needs.

    A bad file (not an archive, pickled arrays, a missing key, offsets that do not cut the
    frames into non-empty segments, an id outside its table, a column of the wrong length)
    raises one AuditError sentence.
    """
    path = Path(path)
    arrays = read_npz(path, what="the frame store", keys=_STORE_KEYS,
                      pickled_hint="a frame store holds numbers and plain strings only")
    missing = [k for k in REQUIRED_KEYS + tuple(require) if k not in arrays]
    if missing:
        raise AuditError(f"{path} is not a frame store: it lacks {missing[0]!r}.")
    frames, offsets, word_ids = arrays["frames"], arrays["offsets"], arrays["word_ids"]
    if not (np.issubdtype(frames.dtype, np.number) and np.issubdtype(offsets.dtype, np.integer)
            and np.issubdtype(word_ids.dtype, np.integer)) or frames.ndim != 2 or offsets.ndim != 1 \
            or word_ids.ndim != 1 or len(offsets) != len(word_ids) + 1 or offsets[0] != 0 \
            or offsets[-1] != len(frames) or np.any(np.diff(offsets) < 1):
        raise AuditError(f"{path}: frames, offsets and word_ids do not describe non-empty segments.")
    vocabulary = arrays["vocabulary"].astype(str)
    if word_ids.min(initial=0) < 0 or word_ids.max(initial=0) >= len(vocabulary):
        raise AuditError(f"{path}: a word id is outside the vocabulary.")
    columns = {k: arrays.get(k) for k in CORPUS_COLUMNS}
    if any(v is not None and len(v) != len(word_ids) for k, v in columns.items() if k not in _TABLES.values()):
        raise AuditError(f"{path}: a per-segment column does not have one entry per segment.")
    for ids, table in _TABLES.items():
        if columns[ids] is not None and columns[table] is not None and len(columns[ids]) and \
                (columns[ids].min() < 0 or columns[ids].max() >= len(columns[table])):
            raise AuditError(f"{path}: a value of {ids!r} is outside {table!r}.")
    for table in _TABLES.values():
        if columns[table] is not None:
            columns[table] = columns[table].astype(str)
    settings = None
    if all(k in arrays for k in _SETTING_KEYS):
        settings = MfccSettings(**{k: int(arrays[k]) for k in _SETTING_KEYS})
    return FrameStore(frames=frames.astype(np.float32, copy=False), offsets=offsets.astype(np.int64),
                      word_ids=word_ids.astype(np.int64), vocabulary=vocabulary, **columns, settings=settings,
                      path=str(path), sha256=sha256_file(path))


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


def read_audio(path: str | os.PathLike, sample_rate: int = DEFAULT_MFCC.sample_rate) -> np.ndarray:
    """Mono float32 samples of an audio file, resampled to ``sample_rate``."""
    import soundfile   # optional audio dependency, needed only when audio is read

    try:
        audio, rate = soundfile.read(path, dtype="float32", always_2d=True)
    except RuntimeError as exc:
        raise AuditError(f"cannot read the audio file {path} ({exc}).") from None
    audio = audio.mean(axis=1)
    if rate != sample_rate:
        from scipy.signal import resample_poly   # ~0.3 s to import, only for audio not at the rate
        g = gcd(rate, sample_rate)
        audio = resample_poly(audio, sample_rate // g, rate // g).astype(np.float32)
    return audio


# ------------------------------------------------------------------------------- building
def store_key(root, subsets, *, sample_rate, n_mfcc, n_fft, hop_length) -> str:
    """A name for the store of this corpus and these settings (paths are resolved)."""
    text = json.dumps({"root": str(Path(root).resolve()), "subsets": list(subsets), "sr": sample_rate,
                       "n_mfcc": n_mfcc, "n_fft": n_fft, "hop": hop_length, "v": STORE_VERSION})
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def frame_store_path(cache_dir: str | os.PathLike, root, subsets=(), settings: MfccSettings = DEFAULT_MFCC) -> Path:
    """Where the data dir keeps the store of this corpus and these settings (shared by every user)."""
    return Path(cache_dir) / "speech2vec-frames" / f"{store_key(root, subsets, **settings.as_dict())}.npz"


def build_frame_store(root: str | os.PathLike, out_path: str | os.PathLike, *, subsets=(),
                      sample_rate: int = DEFAULT_MFCC.sample_rate, n_mfcc: int = DEFAULT_MFCC.n_mfcc,
                      n_fft: int = DEFAULT_MFCC.n_fft, hop_length: int = DEFAULT_MFCC.hop_length,
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
    from audit.core.progress import bar
    shown = bar(total=len(utterances), desc="MFCC features", unit="utt")
    for number, utt in enumerate(utterances, start=1):
        audio = read_audio(utt.audio, sample_rate)
        for position, span in enumerate(utt.spans):
            lo, hi = int(round(span.start * sample_rate)), int(round(span.end * sample_rate))
            batch.append(audio[lo:max(hi, lo + 1)])
            for key, value in (("words", span.word), ("speakers", utt.speaker), ("utterances", utt.utterance),
                               ("positions", position), ("starts", span.start), ("ends", span.end)):
                columns[key].append(value)
        if len(batch) >= 4096 or number == len(utterances):
            frames += mfcc_frames(batch, sample_rate=sample_rate, n_mfcc=n_mfcc, n_fft=n_fft, hop_length=hop_length)
            batch = []
        shown.update(1)
    shown.close()
    if progress:
        progress(f"features: {len(utterances)} utterances, {len(frames)} words")
    settings = MfccSettings(sample_rate=sample_rate, n_mfcc=n_mfcc, n_fft=n_fft, hop_length=hop_length)
    _save_store(out_path, frames, columns, settings)
    return out_path


def _save_store(out_path: Path, frames, columns, settings: MfccSettings) -> None:
    vocabulary, word_ids = np.unique(np.array(columns["words"], dtype=str), return_inverse=True)
    speakers, speaker_ids = np.unique(np.array(columns["speakers"], dtype=str), return_inverse=True)
    utterances, utterance_ids = np.unique(np.array(columns["utterances"], dtype=str), return_inverse=True)
    lengths = np.array([len(f) for f in frames], dtype=np.int64)
    arrays = dict(frames=np.concatenate(frames).astype(np.float32), offsets=np.concatenate(([0], np.cumsum(lengths))),
                  word_ids=word_ids.astype(np.int32), vocabulary=vocabulary, speaker_ids=speaker_ids.astype(np.int32),
                  speakers=speakers, utterance_ids=utterance_ids.astype(np.int32), utterances=utterances,
                  positions=np.array(columns["positions"], dtype=np.int32),
                  starts=np.array(columns["starts"], dtype=np.float32), ends=np.array(columns["ends"], dtype=np.float32),
                  **{k: np.int64(v) for k, v in settings.as_dict().items()})
    out_path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_npz(out_path, arrays, what="the frame store")
