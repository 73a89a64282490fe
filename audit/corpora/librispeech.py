"""Corpora in LibriSpeech layout and their per-subset word counts.

Layout (the one the official archives unpack to)::

    ROOT/LibriSpeech/<subset>/<speaker>/<chapter>/<speaker>-<chapter>.trans.txt
    ROOT/LibriSpeech/<subset>/<speaker>/<chapter>/<speaker>-<chapter>-<utterance>.flac   (optional)

``ROOT`` may also be the ``LibriSpeech`` folder itself. Each transcript line is
``<speaker>-<chapter>-<utterance> WORD WORD ...``.

Normalisation (:data:`NORMALISATION`): a transcript's words are lowercased and split on
whitespace; apostrophes and every other character are kept (``DON'T`` -> ``don't``), nothing
is merged or stripped. LibriSpeech transcripts hold only A-Z, apostrophes and spaces, so this
is the whole of the mapping from the corpus to the words an embedding is compared with.

Counting a subset reads every transcript once. The counts are cached (``cache_dir``) under a
key that hashes the normalisation version, the subset name and every transcript's relative
path and bytes, so any change to a transcript - even one that keeps its size and time stamp -
is recounted, and the same transcripts under another root reuse the cache. So that a cached
count need not read every byte again, the cache also maps a *stat key* (every transcript's
path, size, inode, mtime and ctime) to that content key; ctime changes on every write and
cannot be set back, and files written in the last two seconds are never trusted by their
stat alone (git's "racy" rule), so the shortcut cannot return counts of older bytes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping, Sequence

import numpy as np

from audit.core.errors import AuditError
from audit.core.files import atomic_write_npz, atomic_write_text

# Table 4 order of the reality-check paper (clean subsets first); iteration follows it.
SUBSETS = ("train-clean-100", "train-clean-360", "dev-clean", "test-clean",
           "train-other-500", "dev-other", "test-other")
NORMALISATION = "lowercase; split on whitespace; apostrophes and all other characters kept"
# Bump when the counting or the normalisation changes, so every old cache entry is ignored.
NORMALISATION_VERSION = "librispeech-lower-v1"
TRANSCRIPT_SUFFIX = ".trans.txt"
# A chapter transcript is a few KB (one chapter's utterances, at most a few thousand words), and all of
# LibriSpeech's 960 training hours hold about 9.4 million words, some 60 MB of text. 64 MB per file is
# thousands of times a real chapter, so no real transcript comes near it, while a file (or a sparse one)
# of gigabytes is refused from its size before a byte is read.
MAX_TRANSCRIPT_BYTES = 64 * 2**20
# A subset's transcripts together (held at once while counted): LibriSpeech's largest subset,
# train-other-500, has some 30 MB of them; many files each under the per-file bound add up to this.
MAX_SUBSET_BYTES = 1 << 30
# Files changed this recently are not trusted by their stat alone (see _stat_key).
_RACY_SECONDS = 2.0


@dataclass(frozen=True, eq=False)
class SubsetCounts:
    """Word counts of one subset: ``counts[i]`` is the number of times ``words[i]`` occurs."""

    name: str
    words: tuple[str, ...]
    counts: np.ndarray
    transcripts: int
    utterances: int
    tokens: int
    fingerprint: str

    def as_dict(self) -> dict[str, int]:
        return dict(zip(self.words, self.counts.tolist()))


@dataclass(frozen=True, eq=False)
class CorpusCounts:
    """Per-subset counts of one corpus, subsets in :data:`SUBSETS` order."""

    root: str
    subsets: tuple[SubsetCounts, ...]
    normalisation: str = NORMALISATION

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.subsets)

    def subset(self, name: str) -> SubsetCounts:
        for counts in self.subsets:
            if counts.name == name:
                return counts
        raise AuditError(f"the corpus has no subset {name!r} (it has {', '.join(self.names)}).")

    def matrix(self) -> tuple[tuple[str, ...], np.ndarray]:
        """All word types (sorted) and a ``types x subsets`` int64 count matrix."""
        return count_matrix({s.name: s for s in self.subsets})


@dataclass(frozen=True)
class Utterance:
    """One transcript line; ``audio`` is the flac file when it is present."""

    id: str
    subset: str
    speaker: str
    chapter: str
    words: tuple[str, ...]
    audio: Path | None


def count_matrix(counts: Mapping[str, SubsetCounts | Mapping[str, int]]
                 ) -> tuple[tuple[str, ...], np.ndarray]:
    """Union of the subsets' word types (sorted) and their ``types x subsets`` counts.

    ``counts`` maps a subset name to a :class:`SubsetCounts` or a plain ``{word: count}``;
    columns follow the mapping's order.
    """
    columns = []
    for name, value in counts.items():
        words = value.words if isinstance(value, SubsetCounts) else list(value.keys())
        values = (np.asarray(value.counts, dtype=np.int64) if isinstance(value, SubsetCounts)
                  else np.fromiter(value.values(), dtype=np.int64, count=len(words)))
        if (values < 0).any():
            raise AuditError(f"the subset {name!r} has a negative word count.")
        columns.append((words, values))
    # Set union, sort and dict lookups all run in C; this is most of a search's set-up time.
    types = sorted(set().union(*(words for words, _ in columns)))
    index = {word: i for i, word in enumerate(types)}
    matrix = np.zeros((len(types), len(columns)), dtype=np.int64)
    for column, (words, values) in enumerate(columns):
        rows = np.fromiter(map(index.__getitem__, words), dtype=np.int64, count=len(words))
        matrix[rows, column] = values   # a subset lists each word once
    return tuple(types), matrix


def subset_names(given: str | Sequence[str]) -> list[str]:
    """Subset names as given on a command line, by spaces (one item each) or commas, in order."""
    items = [given] if isinstance(given, str) else list(given)
    return [part.strip() for item in items for part in item.split(",") if part.strip()]


def parse_subsets(given: str | Sequence[str]) -> tuple[str, ...]:
    """``all`` or subset names (:func:`subset_names`), checked and returned in :data:`SUBSETS` order."""
    names = subset_names(given)
    if names == ["all"]:
        return SUBSETS
    for name in names:
        if name not in SUBSETS:
            raise AuditError(f"unknown LibriSpeech subset {name!r}; choose from {', '.join(SUBSETS)} or 'all'.")
    if not names:
        raise AuditError("name at least one LibriSpeech subset, or 'all'.")
    return tuple(name for name in SUBSETS if name in names)


# ------------------------------------------------------------------------------ the corpus
class LibriSpeechCorpus:
    """A folder in LibriSpeech layout (real or synthetic); nothing is read until asked."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).expanduser()
        self.base = find_librispeech_dir(self.root)

    def __repr__(self) -> str:
        return f"LibriSpeechCorpus({str(self.root)!r}, subsets={self.subset_names()})"

    def subset_names(self) -> tuple[str, ...]:
        """Subsets present as folders: the LibriSpeech ones in :data:`SUBSETS` order, then any
        other subset folder (a synthetic corpus such as the embedded eSpeak one) by name."""
        return _subset_folders(self.base)

    def transcript_files(self, subset: str) -> list[Path]:
        """Every ``<speaker>-<chapter>.trans.txt`` of a subset, sorted by speaker then chapter."""
        return [Path(p) for p in self._transcript_paths(subset)]

    def _transcript_paths(self, subset: str) -> list[str]:
        # Plain strings and os.scandir: pathlib costs more than the reading on ~6,000 chapters.
        folder = str(self._subset_dir(subset))
        files = []
        for speaker, speaker_dir in _numeric_dirs(folder):
            for chapter, chapter_dir in _numeric_dirs(speaker_dir):
                path = os.path.join(chapter_dir, f"{speaker}-{chapter}{TRANSCRIPT_SUFFIX}")
                if not os.path.lexists(path):
                    raise AuditError(f"{chapter_dir} has no transcript {os.path.basename(path)}; "
                                     f"it is not in LibriSpeech layout.")
                files.append(path)
        if not files:
            raise AuditError(f"the subset {subset} in {self.base} is empty: it has no "
                             f"<speaker>/<chapter>/<speaker>-<chapter>{TRANSCRIPT_SUFFIX} files.")
        return files

    def utterances(self, subset: str) -> Iterator[Utterance]:
        """Every transcript line of a subset with its normalised words and audio file."""
        for path in self.transcript_files(subset):
            speaker, chapter = path.parent.parent.name, path.parent.name
            for utterance_id, text in _transcript_lines(path, _read_bytes(path)):
                audio = path.parent / f"{utterance_id}.flac"
                yield Utterance(utterance_id, subset, speaker, chapter, tuple(text.lower().split()),
                                audio if audio.exists() else None)

    def count(self, subsets: Sequence[str] | None = None, *,
              cache_dir: str | os.PathLike | None = None) -> CorpusCounts:
        """Word counts per subset (all present subsets by default), from the cache when valid."""
        names = self._requested(subsets)
        return CorpusCounts(root=str(self.root),
                            subsets=tuple(count_subset(self, name, cache_dir=cache_dir) for name in names))

    # -------------------------------------------------------------------------- helpers
    def _requested(self, subsets: Sequence[str] | None) -> tuple[str, ...]:
        present = self.subset_names()
        if subsets is None:
            return present
        for name in subsets:
            if name not in present:
                raise AuditError(f"the subset {name} is not in {self.base} (it has {', '.join(present)}).")
        return tuple(name for name in present if name in subsets)

    def _subset_dir(self, subset: str) -> Path:
        if subset not in self.subset_names():
            raise AuditError(f"the subset {subset!r} is not in {self.base} (it has {', '.join(self.subset_names())}).")
        folder = self.base / subset
        if not folder.is_dir():
            raise AuditError(f"the subset {subset} is not in {self.base}.")
        return folder


def find_librispeech_dir(root: str | os.PathLike) -> Path:
    """``ROOT/LibriSpeech`` (or ``ROOT`` itself) when it holds at least one known subset folder."""
    root = Path(root).expanduser()
    if not root.exists():
        raise AuditError(f"{root}: no such folder.")
    if not root.is_dir():
        raise AuditError(f"{root} is a file, not a corpus folder in LibriSpeech layout.")
    for candidate in (root / "LibriSpeech", root):
        if candidate.is_dir() and _subset_folders(candidate):
            return candidate
    raise AuditError(f"{root} is not in LibriSpeech layout: expected {root}/LibriSpeech/<subset>/<speaker>/"
                     f"<chapter>/<speaker>-<chapter>{TRANSCRIPT_SUFFIX} with <subset> one of {', '.join(SUBSETS)} "
                     f"(or another subset folder holding numbered speaker folders).")


def _subset_folders(base: Path) -> tuple[str, ...]:
    """Standard subsets present, then other folders that hold numbered speaker folders."""
    standard = tuple(name for name in SUBSETS if (base / name).is_dir())
    try:
        others = sorted(e.name for e in os.scandir(base) if e.is_dir() and not e.name.startswith(".")
                        and e.name not in SUBSETS and _has_numbered_folder(e.path))
    except OSError:
        others = []
    return standard + tuple(others)


def _has_numbered_folder(folder: str) -> bool:
    try:
        return any(e.name.isdigit() and e.is_dir() for e in os.scandir(folder))
    except OSError:
        return False


def _numeric_dirs(folder: str) -> list[tuple[str, str]]:
    """``(name, path)`` of sub-folders named by digits (speakers, chapters), numerically sorted."""
    try:
        entries = [e for e in os.scandir(folder) if not e.name.startswith(".") and e.is_dir()]
    except OSError as exc:
        raise AuditError(f"{folder} cannot be read ({exc.strerror}).") from None
    for entry in entries:
        if not entry.name.isdigit():
            raise AuditError(f"{entry.path} is not in LibriSpeech layout: speaker and chapter folders are numbers.")
    return [(e.name, e.path) for e in sorted(entries, key=lambda e: int(e.name))]


def _read_bytes(path: str | Path) -> bytes:
    """A transcript's bytes: a regular file of at most :data:`MAX_TRANSCRIPT_BYTES`, checked before
    reading (a FIFO or a link to a device would block or never end)."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise AuditError(f"the transcript {path} is not a regular file.")
        if info.st_size > MAX_TRANSCRIPT_BYTES:
            raise AuditError(f"the transcript {path} is {_size(info.st_size)}; a LibriSpeech chapter transcript is a "
                             f"few KB, and transcripts are read up to {MAX_TRANSCRIPT_BYTES // 2**20} MB.")
        with open(path, "rb") as handle:
            data = handle.read(MAX_TRANSCRIPT_BYTES + 1)
    except OSError as exc:
        raise AuditError(f"{path} cannot be read ({exc.strerror or type(exc).__name__}).") from None
    if data.startswith(b"\xef\xbb\xbf"):   # a byte-order mark is skipped, as everywhere a text file is read
        data = data[3:]
    if len(data) > MAX_TRANSCRIPT_BYTES:   # it grew after the size was checked
        raise AuditError(f"the transcript {path} is larger than {MAX_TRANSCRIPT_BYTES // 2**20} MB; transcripts are "
                         f"read up to {MAX_TRANSCRIPT_BYTES // 2**20} MB.")
    return data


def _size(size: int) -> str:
    if size < 2**20:
        return f"{size:,} bytes"
    return f"{size / 2**20:,.1f} MB" if size < 2**30 else f"{size / 2**30:,.1f} GB"


def _shown(text: str, limit: int = 40) -> str:
    """``text`` quoted, cut so that its escaped form stays within about ``limit`` characters
    (40 NUL bytes are 160 characters once escaped)."""
    pieces, width = [], 0
    for char in text:
        piece = repr(char)[1:-1] if char not in "'\"" else char
        if width + len(piece) > limit:
            return "'" + "".join(pieces) + "...'"
        pieces.append(piece)
        width += len(piece)
    return repr(text)


def _transcript_lines(path: str | Path, data: bytes) -> Iterator[tuple[str, str]]:
    """``(utterance id, text)`` per non-blank line, checking the id belongs to this chapter."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AuditError(f"{path} is not UTF-8 text (byte {exc.start}).") from None
    prefix = os.path.basename(path)[:-len(TRANSCRIPT_SUFFIX)] + "-"
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        utterance_id, _, words = line.strip().partition(" ")
        if not utterance_id.startswith(prefix) or not utterance_id[len(prefix):].isdigit():
            raise AuditError(f"{path}, line {number}: the utterance id {_shown(utterance_id)} does not "
                             f"start with {prefix}<number>, so this is not a LibriSpeech transcript.")
        yield utterance_id, words


# ------------------------------------------------------------------------------ counting
def count_subset(corpus: LibriSpeechCorpus, subset: str, *,
                 cache_dir: str | os.PathLike | None = None) -> SubsetCounts:
    """Count one subset, reading the cache when its key matches the transcripts' bytes."""
    files = corpus._transcript_paths(subset)
    skip = len(str(corpus.base / subset)) + 1
    relative = [path[skip:].replace(os.sep, "/") for path in files]
    cache = Path(cache_dir) if cache_dir else None
    stat_key = settled = None
    if cache is not None:
        stat_key, settled = _stat_key(subset, files, relative)
        known = _read_text(cache / f"{subset}-stat-{stat_key[:40]}.txt")
        cached = _cache_read(cache / f"{subset}-{known[:40]}.npz", subset, known) if known else None
        if cached is not None:
            return cached
    # The sizes first (a stat each): a subset too large is refused before any transcript is read.
    stated = 0
    for path in files:
        try:
            size = os.stat(path).st_size
        except OSError:
            continue      # _read_bytes names the file
        if size > MAX_TRANSCRIPT_BYTES:
            _read_bytes(path)   # refuses it by its own bound, from its size
        stated += size
        if stated > MAX_SUBSET_BYTES:
            raise AuditError(f"the transcripts of {subset} under {corpus.base} pass {MAX_SUBSET_BYTES >> 30} GiB "
                             f"(at {path}); LibriSpeech's largest subset has about 30 MB of them.")
    digest = hashlib.sha256(f"{NORMALISATION_VERSION}\0{subset}\0".encode())
    contents, total = [], 0
    for path, name in zip(files, relative):
        data = _read_bytes(path)
        total += len(data)
        if total > MAX_SUBSET_BYTES:
            raise AuditError(f"the transcripts of {subset} under {corpus.base} pass {MAX_SUBSET_BYTES >> 30} GiB "
                             f"(at {path}); LibriSpeech's largest subset has about 30 MB of them.")
        digest.update(name.encode() + b"\0" + str(len(data)).encode() + b"\0")
        digest.update(data)
        contents.append((path, data))
    fingerprint = digest.hexdigest()
    counts = _cache_read(cache / f"{subset}-{fingerprint[:40]}.npz", subset, fingerprint) if cache else None
    if counts is None:
        counts = _count_contents(subset, contents, fingerprint)
        if cache is not None:
            _cache_write(cache / f"{subset}-{fingerprint[:40]}.npz", counts)
    if cache is not None and settled:
        _write_text(cache / f"{subset}-stat-{stat_key[:40]}.txt", fingerprint)
    return counts


def _stat_key(subset: str, files: list[str], relative: list[str]) -> tuple[str, bool]:
    """A key over every transcript's path, size, inode, mtime and ctime, and whether it is settled.

    ctime changes on every write and cannot be set back, so an unchanged key means unchanged
    files, except for a write in the same clock tick as the stat: files changed in the last
    :data:`_RACY_SECONDS` are "unsettled" and their key is not recorded (as git does for its
    index), so the next count hashes their bytes again.
    """
    digest = hashlib.sha256(f"{NORMALISATION_VERSION}\0{subset}\0".encode())
    newest = 0
    for path, name in zip(files, relative):
        try:
            info = os.stat(path)
        except OSError as exc:
            raise AuditError(f"{path} cannot be read ({exc.strerror}).") from None
        newest = max(newest, info.st_mtime_ns, info.st_ctime_ns)
        digest.update(f"{name}\0{info.st_size}\0{info.st_ino}\0{info.st_mtime_ns}\0{info.st_ctime_ns}\n".encode())
    settled = newest < time.time_ns() - int(_RACY_SECONDS * 1e9)
    return digest.hexdigest(), settled


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip() or None
    except (OSError, ValueError):
        return None


def _write_text(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text + "\n", what="word-count cache")
    except (OSError, AuditError) as exc:
        logging.getLogger(__name__).warning("could not write the word-count cache %s (%s)", path, exc)


def _count_contents(subset: str, contents: list[tuple[str, bytes]], fingerprint: str) -> SubsetCounts:
    counter: Counter[str] = Counter()
    utterances = 0
    for path, data in contents:
        texts = [text for _, text in _transcript_lines(path, data)]
        utterances += len(texts)
        # One lower() and split() per file keeps the per-token work inside C.
        counter.update(" ".join(texts).lower().split())
    if not counter:
        raise AuditError(f"the subset {subset} has transcripts but no words.")
    words = sorted(counter)
    counts = np.fromiter((counter[w] for w in words), dtype=np.int64, count=len(words))
    return SubsetCounts(name=subset, words=tuple(words), counts=counts, transcripts=len(contents),
                        utterances=utterances, tokens=int(counts.sum()), fingerprint=fingerprint)


def _cache_read(path: Path, subset: str, fingerprint: str) -> SubsetCounts | None:
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            meta = json.loads(str(archive["meta"]))
            words = tuple(archive["words"].tolist())
            counts = archive["counts"].astype(np.int64)
    except (OSError, ValueError, KeyError):
        return None  # a damaged cache entry is recounted, never trusted
    if meta.get("fingerprint") != fingerprint or meta.get("subset") != subset or len(words) != len(counts):
        return None
    return SubsetCounts(name=subset, words=words, counts=counts, transcripts=int(meta["transcripts"]),
                        utterances=int(meta["utterances"]), tokens=int(counts.sum()), fingerprint=fingerprint)


def _cache_write(path: Path, counts: SubsetCounts) -> None:
    meta = {"subset": counts.name, "fingerprint": counts.fingerprint, "transcripts": counts.transcripts,
            "utterances": counts.utterances, "normalisation": NORMALISATION_VERSION}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_npz(path, {"words": np.array(counts.words, dtype=str), "counts": counts.counts,
                                "meta": np.array(json.dumps(meta))}, what="word-count cache")
    except (OSError, AuditError) as exc:
        # The counts are right either way; a read-only cache only costs a recount next time.
        logging.getLogger(__name__).warning("warning: could not write the word-count cache %s (%s); the results are "
                                            "right without it.", path, getattr(exc, "strerror", None) or exc)
