"""Finding, parsing and caching the benchmark files.

A benchmark file has one pair per line: ``word1 word2 score``, separated by tabs or spaces.
The served files mix LF and CRLF endings and some lack a final newline; all of that is
accepted, and anything else (a line with other than three fields, a score that is not a
finite number) is an error naming the file and line.

Duplicate pairs: a file may list the same (word1, word2) pair twice (WS-353 rates money/cash
9.15 and 9.08). The reference scripts (wordvectors.org, the reality check) key pairs by
(word1, word2) after lowercasing, so the last line wins; ``duplicates="last"`` reads a file that
way (WS-353: 352 pairs), ``"keep"`` keeps every line. Reversed pairs (b, a) are distinct keys.

Parsed files are cached per process, keyed by path, size and modification time, because the
reproduction trainer evaluates every epoch and re-reading 13 files each time would dominate.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.util
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from audit.core.datadir import data_dir as resolve_data_dir
from audit.core.errors import AuditError
from benchmarks.registry import OFFLINE_COPIES, REGISTRY, BenchmarkSpec, OfflineCopy

SUBFOLDER = "word-sim"
FETCH_HINT = "run `audit data fetch benchmarks` or pass --data-dir DIR"
# "last": a pair listed twice keeps its last line (the reference scripts' dict keyed by
# (word1, word2)); "keep": every line is a pair.
DUPLICATE_POLICIES = {"last": "duplicate pairs: last wins", "keep": "duplicate pairs: every line kept"}


@dataclass(frozen=True, eq=False)
class Benchmark:
    """One benchmark's pairs as read from its file: ``left[i]``, ``right[i]`` rated ``scores[i]``."""

    spec: BenchmarkSpec
    path: str
    sha256: str
    lowercase: bool
    left: np.ndarray      # str array, read-only
    right: np.ndarray     # str array, read-only
    scores: np.ndarray    # float64, read-only
    duplicates: str = "keep"      # a key of DUPLICATE_POLICIES
    duplicate_pairs: int = 0      # lines of the file that repeat an earlier line's (word1, word2)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def checksum_ok(self) -> bool:
        """True when the file is byte-for-byte the registered one."""
        return self.sha256 == self.spec.sha256

    def __len__(self) -> int:
        return len(self.scores)

    def pairs(self) -> list[tuple[str, str, float]]:
        return [(str(a), str(b), float(s)) for a, b, s in zip(self.left, self.right, self.scores)]


# Bounds on a benchmark file, checked while it is read (never after a whole file is in memory).
# The 13 wordvectors.org files are 0.5-64 KB (SimVerb-3500 the largest) with lines of at most 39
# characters; 8 MB is over 100 times the largest, and its worst case (1.4 million pairs of one-letter
# words) still loads in a few hundred MB.
MAX_BENCHMARK_BYTES = 8 * 2**20
MAX_LINE_BYTES = 4096


def parse_pairs(text: str, source: str = "<text>", comment: str | None = None) -> tuple[list[str], list[str], list[float]]:
    """Split benchmark text into words and scores; ``source`` names the file in errors.
    ``comment``: lines starting with it are headers, skipped (the gensim copies' ``#`` lines)."""
    # split("\n"), not splitlines(): U+2028 or U+0085 inside a word must not end a line.
    return _parse_lines(text.split("\n"), source, comment)


def _parse_lines(lines: Iterable[str], source: str, comment: str | None) -> tuple[list[str], list[str], list[float]]:
    """The pairs of ``lines`` (each without its "\n"), refusing the first bad line as it comes."""
    left, right, scores = [], [], []
    for number, line in enumerate(lines, start=1):
        if number == 1:
            line = line.lstrip("\ufeff")
        fields = line.split()
        if not fields or (comment and line.startswith(comment)):
            continue
        if len(fields) != 3:
            raise AuditError(f"{source}, line {number}: expected 'word1 word2 score', "
                             f"found {len(fields)} fields.")
        try:
            score = float(fields[2])
        except ValueError:
            raise AuditError(f"{source}, line {number}: the score {_short(fields[2])} is not a number.") from None
        if not math.isfinite(score):
            raise AuditError(f"{source}, line {number}: the score {_short(fields[2])} is not finite.")
        left.append(fields[0])
        right.append(fields[1])
        scores.append(score)
    if not scores:
        raise AuditError(f"{source} contains no word pairs.")
    return left, right, scores


def _short(text: str, keep: int = 40) -> str:
    """``text`` quoted for a message, cut to ``keep`` characters."""
    return repr(text) if len(text) <= keep else f"{text[:keep]!r}... ({len(text):,} characters)"


def _file_lines(handle, path: str, digest) -> Iterable[str]:
    """The decoded lines of an open benchmark file, read one at a time within the bounds above;
    every byte read goes into ``digest``."""
    total, number = 0, 0
    while True:
        chunk = handle.readline(MAX_LINE_BYTES + 1)
        if not chunk:
            return
        number += 1
        total += len(chunk)
        digest.update(chunk)
        if total > MAX_BENCHMARK_BYTES:   # the file grew after its size was checked
            raise AuditError(f"the benchmark file {path} is larger than {MAX_BENCHMARK_BYTES // 2**20} MB; "
                             f"benchmark files are read up to {MAX_BENCHMARK_BYTES // 2**20} MB.")
        body = chunk[:-1] if chunk.endswith(b"\n") else chunk
        if len(body) > MAX_LINE_BYTES:
            raise AuditError(f"{path}, line {number}: the line is longer than {MAX_LINE_BYTES:,} bytes; a benchmark "
                             f"line is 'word1 word2 score'.")
        try:
            yield body.decode("utf-8")
        except UnicodeDecodeError:
            raise AuditError(f"{path} is not UTF-8 text (line {number}).") from None


def candidate_dirs(data_dir: str | os.PathLike | None = None) -> tuple[Path, Path]:
    """Where benchmark files are looked for: DIR itself, then DIR/word-sim."""
    base = resolve_data_dir(data_dir)
    return base, base / SUBFOLDER


def locate(spec: BenchmarkSpec, data_dir: str | os.PathLike | None = None) -> Path:
    """The path of ``spec``'s file, or an error telling the user how to get it."""
    base, sub = candidate_dirs(data_dir)
    for folder in (base, sub):
        if (folder / spec.file).is_file():
            return folder / spec.file
    if not base.is_dir():
        raise AuditError(f"the data folder {base} does not exist, so the benchmark {spec.name} "
                         f"cannot be read; {FETCH_HINT}.")
    raise AuditError(f"the benchmark file {spec.file} ({spec.name}) is in neither {base} nor {sub}; "
                     f"{FETCH_HINT}.")


def load_benchmark(name: str, data_dir: str | os.PathLike | None = None, lowercase: bool = True,
                   duplicates: str = "keep") -> Benchmark:
    """Read one benchmark (by display name, any case, or file name) from the data dir.

    ``duplicates``: "keep" every line (the file as written), or "last": a (word1, word2) pair
    listed more than once keeps only its last line, as the reference scripts score it.
    """
    if duplicates not in DUPLICATE_POLICIES:
        raise AuditError(f"unknown duplicate-pair policy {duplicates!r} (known: {', '.join(DUPLICATE_POLICIES)}).")
    spec = REGISTRY[name]
    path = locate(spec, data_dir).resolve()
    stat = path.stat()
    bench = _load_cached(spec, str(path), stat.st_size, stat.st_mtime_ns, bool(lowercase))
    return _last_wins(bench) if duplicates == "last" else bench


def load_benchmarks(data_dir: str | os.PathLike | None = None, only: str | Iterable[str] | None = None,
                    lowercase: bool = True, duplicates: str = "keep") -> tuple[Benchmark, ...]:
    """The selected benchmarks (all by default), in registry order."""
    return tuple(load_benchmark(spec.name, data_dir, lowercase, duplicates) for spec in REGISTRY.select(only))


def benchmark_pairs(data_dir: str | os.PathLike | None = None, only: str | Iterable[str] | None = None,
                    lowercase: bool = True) -> dict[str, list[tuple[str, str, float]]]:
    """Display name -> list of (word1, word2, gold score), in registry order."""
    return {bench.name: bench.pairs() for bench in load_benchmarks(data_dir, only, lowercase)}


def any_file_present(data_dir: str | os.PathLike | None = None) -> bool:
    """Whether any of the 13 wordvectors.org files is in the data dir (then no offline copy is used)."""
    base, sub = candidate_dirs(data_dir)
    return any((folder / spec.file).is_file() for spec in REGISTRY.specs() for folder in (base, sub))


def offline_copy_path(copy: OfflineCopy) -> Path:
    """Where ``copy`` lies inside its installed package (found without importing the package)."""
    found = importlib.util.find_spec(copy.package)
    locations = list(found.submodule_search_locations or []) if found is not None else []
    if not locations:
        raise AuditError(f"the offline copy {copy.spec.name} needs the package {copy.package}, which is not "
                         f"installed; {FETCH_HINT}.")
    path = Path(locations[0]) / copy.spec.file
    if not path.is_file():
        raise AuditError(f"the offline copy {copy.spec.name} is not at {path} (this {copy.package} does not ship "
                         f"it); {FETCH_HINT}.")
    return path


def load_offline_benchmarks(lowercase: bool = True, duplicates: str = "keep") -> tuple[Benchmark, ...]:
    """The benchmark copies that installed packages ship (:data:`OFFLINE_COPIES`), each under its own
    name and checked against its own sha256 (``checksum_ok``)."""
    if duplicates not in DUPLICATE_POLICIES:
        raise AuditError(f"unknown duplicate-pair policy {duplicates!r} (known: {', '.join(DUPLICATE_POLICIES)}).")
    loaded = []
    for copy in OFFLINE_COPIES:
        path = offline_copy_path(copy).resolve()
        stat = path.stat()
        bench = _load_cached(copy.spec, str(path), stat.st_size, stat.st_mtime_ns, bool(lowercase),
                             copy.comment_prefix)
        loaded.append(_last_wins(bench) if duplicates == "last" else bench)
    return tuple(loaded)


def offline_pairs(lowercase: bool = True) -> dict[str, list[tuple[str, str, float]]]:
    """Display name -> (word1, word2, gold score) of the offline copies."""
    return {bench.name: bench.pairs() for bench in load_offline_benchmarks(lowercase)}


@functools.lru_cache(maxsize=64)
def _load_cached(spec: BenchmarkSpec, path: str, size: int, mtime_ns: int, lowercase: bool,
                 comment: str | None = None) -> Benchmark:
    # size and mtime_ns are part of the key so that a replaced file is read again.
    if size > MAX_BENCHMARK_BYTES:
        raise AuditError(f"the benchmark file {path} is {_megabytes(size)}; benchmark files are read up to "
                         f"{MAX_BENCHMARK_BYTES // 2**20} MB (the largest registered one is 64 KB).")
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            left, right, scores = _parse_lines(_file_lines(handle, path, digest), path, comment)
    except OSError as exc:
        raise AuditError(f"{path}: cannot be read ({exc.strerror}).") from None
    if lowercase:
        left = [w.lower() for w in left]
        right = [w.lower() for w in right]
    return Benchmark(spec=spec, path=path, sha256=digest.hexdigest(), lowercase=lowercase,
                     left=_frozen(_word_array(left)), right=_frozen(_word_array(right)),
                     scores=_frozen(np.array(scores, dtype=np.float64)),
                     duplicate_pairs=len(scores) - len(set(zip(left, right))))


def _megabytes(size: int) -> str:
    """A size for a message; in bytes when one decimal would round it onto the bound it exceeds
    ("is 8.0 MB; read up to 8 MB" for 8 MiB + 1 byte)."""
    shown = f"{size / 2**20:,.1f} MB" if size < 2**30 else f"{size / 2**30:,.1f} GB"
    return f"{size:,} bytes" if shown.startswith(f"{MAX_BENCHMARK_BYTES // 2**20}.0 ") else shown


def _word_array(words: list[str]) -> np.ndarray:
    """An object array of the words: a fixed-width str array would give every word the longest
    word's width (lines x longest x 4 bytes)."""
    array = np.empty(len(words), dtype=object)
    array[:] = words
    return array


@functools.lru_cache(maxsize=64)
def _last_wins(bench: Benchmark) -> Benchmark:
    """``bench`` with each (word1, word2) pair once, at its last line's score, in file order of
    those last lines (cached per benchmark object, so the evaluation's word index stays cached)."""
    last: dict[tuple[str, str], int] = {}
    for line, key in enumerate(zip(bench.left.tolist(), bench.right.tolist())):
        last[key] = line
    kept = np.sort(np.fromiter(last.values(), dtype=np.int64, count=len(last)))
    return dataclasses.replace(bench, left=_frozen(bench.left[kept]), right=_frozen(bench.right[kept]),
                               scores=_frozen(bench.scores[kept]), duplicates="last")


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array
