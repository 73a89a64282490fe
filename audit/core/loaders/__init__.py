"""Strict, fast loaders for released embedding files: :func:`load` reads any of them.

Formats are detected from the content, not the file name (:mod:`.detect`):

=================  ==============================================================
``word2vec-text``  first line ``<words> <dim>``, then ``word v1 ... vdim`` per line (:mod:`.text`)
``glove-text``     the same lines without a header (:mod:`.text`)
``word2vec-bin``   header line, then ``word<space>`` + dim little-endian float32 (:mod:`.word2vec_bin`)
``fasttext-bin``   fastText's native ``.bin`` model: the vocabulary's vectors (:mod:`.fasttext_bin`)
``npz``            numpy archive with ``words`` and ``matrix``, no pickles (:mod:`.npz`)
``gensim``         gensim's native ``KeyedVectors.save`` file, a pickle (:mod:`.gensim_native`)
``pickle``         a pickled ``{word: vector}`` dict (:mod:`.pickled`)
=================  ==============================================================

Any of them may be gzip- or bz2-compressed (:mod:`._input` opens every input, pipes included,
and hashes it). Pickles can run code when loaded, so they are read only with
``allow_pickle=True``. :mod:`.cache` keeps parsed files for repeat loads. Errors are
:class:`~audit.core.errors.AuditError` sentences in terms of the data and these parameters
(:class:`~.options.OptionError` when a parameter is the remedy, for callers to rename).
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from pathlib import Path

import numpy as np

from audit.core.errors import AuditError, ParameterError
from audit.core.loaders._input import Input
from audit.core.loaders.cache import cache_key, cache_read, cache_slot, cache_write, check_cache_dir
from audit.core.loaders.detect import FORMAT_NAMES as FORMATS
from audit.core.loaders.detect import detect_format
from audit.core.loaders.fasttext_bin import parse_fasttext_bin
from audit.core.loaders.gensim_native import parse_gensim
from audit.core.loaders.npz import parse_npz
from audit.core.loaders.options import (CASE_POLICIES, DUPLICATE_POLICIES, NONFINITE_POLICIES, UNICODE_ERRORS,
                                        OptionError, check_choice)
from audit.core.loaders.pickled import parse_pickle
from audit.core.loaders.text import TextResult, parse_text
from audit.core.loaders.word2vec_bin import parse_word2vec_binary
from audit.core.loaders.writers import save_npz, save_word2vec_text
from audit.core.vectors import SourceInfo, Vectors

__all__ = ["load", "detect_format", "save_word2vec_text", "save_npz", "FORMATS", "DUPLICATE_POLICIES",
           "CASE_POLICIES", "NONFINITE_POLICIES", "UNICODE_ERRORS", "OptionError"]

CACHED_FORMATS = ("word2vec-text", "glove-text", "word2vec-bin", "fasttext-bin")


def load(path: str | os.PathLike, *, format: str | None = None, limit: int | None = None,
         case: str = "keep", duplicates: str = "error", nonfinite: str = "reject",
         allow_pickle: bool = False, cache_dir: str | os.PathLike | None = None,
         unicode_errors: str = "strict") -> Vectors:
    """Read an embedding file into a :class:`Vectors`.

    ``limit`` keeps the first N words; ``case='lower'`` lowercases words (collisions are then
    duplicates); ``duplicates`` is ``error`` (default), ``keep-first`` or ``keep-last``;
    ``nonfinite`` is ``reject`` (default: NaN/inf values are an error) or ``exclude`` (rows
    are loaded, counted and left out of every similarity). ``unicode_errors`` is what to do
    with a word that is not UTF-8, as in gensim: ``strict`` (default: an error), ``replace``
    (U+FFFD for the bad bytes) or ``ignore`` (drop them); the count is in ``source``. With
    ``cache_dir`` a parsed file (text, word2vec binary, fastText) is kept there and a repeat
    load of the same unchanged file with the same options maps it back in.
    """
    check_choice("duplicate policy", duplicates, DUPLICATE_POLICIES)
    check_choice("case policy", case, CASE_POLICIES)
    check_choice("non-finite policy", nonfinite, NONFINITE_POLICIES)
    check_choice("unicode error policy", unicode_errors, UNICODE_ERRORS)
    if format is not None:
        check_choice("format", format, FORMATS)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ParameterError("limit", f"is {limit!r}; it must be a positive number of words.")
    path = Path(path)
    cache_folder = check_cache_dir(cache_dir) if cache_dir is not None else None
    key = None
    if cache_folder is not None:
        try:
            info = os.stat(path)
        except OSError:
            info = None   # Input names the problem
        if info is not None and os.path.isfile(path):
            key = cache_key(path, info, format=format, limit=limit, unicode_errors=unicode_errors)
            hit = cache_read(cache_folder, key)
            if hit is not None:
                parsed, meta, norms = hit
                return _finish(parsed, path=path, sha256=meta["sha256"], fmt=meta["format"], limit=limit,
                               case=case, duplicates=duplicates, nonfinite=nonfinite,
                               unicode_errors=unicode_errors, norms=norms, unique=meta.get("unique") is True)
    with Input(path) as source:
        detected = format or detect_format(source.head, path)
        if detected in ("word2vec-text", "glove-text"):
            _import_ahead("polars")
        if detected in ("gensim", "pickle") and not allow_pickle:
            kind = ("a gensim native KeyedVectors file, which is a Python pickle" if detected == "gensim"
                    else "a Python pickle")
            raise OptionError(f"{path} is {kind}; a pickle can run arbitrary code when it is loaded, so it is "
                              f"only read with {{remedy}}; pass it only for a file you trust.",
                              "allow_pickle", (True,))
        if detected in ("word2vec-text", "glove-text"):
            parsed = parse_text(source, header=detected == "word2vec-text", limit=limit,
                                unicode_errors=unicode_errors)
        elif detected == "word2vec-bin":
            parsed = parse_word2vec_binary(source, limit=limit, unicode_errors=unicode_errors)
        elif detected == "fasttext-bin":
            parsed = parse_fasttext_bin(source, limit=limit, unicode_errors=unicode_errors)
        else:
            reader = {"npz": parse_npz, "gensim": parse_gensim, "pickle": parse_pickle}[detected]
            words, matrix, _ = reader(source, limit=limit)
            parsed = TextResult(words=words, matrix=matrix)
        sha256 = source.sha256()
        compression = source.compression
    fmt = detected + (f"+{compression}" if compression else "")
    norms = _row_norms(parsed.matrix)
    unique = _distinct(parsed)
    if key is not None and detected in CACHED_FORMATS:
        cache_write(cache_folder, key, parsed, norms,
                    {"sha256": sha256, "format": fmt, "words": len(parsed.words), "header_words": parsed.header_words,
                     "words_with_spaces": parsed.words_with_spaces, "undecodable": parsed.undecodable,
                     "unique": unique,
                     "slot": cache_slot(path, format=format, limit=limit, unicode_errors=unicode_errors)})
    return _finish(parsed, path=path, sha256=sha256, fmt=fmt, limit=limit, case=case, duplicates=duplicates,
                   nonfinite=nonfinite, unicode_errors=unicode_errors, norms=norms, unique=unique)


def _distinct(parsed: TextResult) -> bool:
    """Whether the parse's words are distinct: the text parser says so when polars read its words
    (one hash pass); otherwise one Python set (about half the cost of the dict it spares)."""
    if parsed.unique is not None:
        return parsed.unique
    return len(set(parsed.words)) == len(parsed.words)


def _import_ahead(module: str) -> None:
    """Import the text parser in a thread while the input is read and scanned (the parse's own
    import then waits for this one, Python's per-module import lock)."""
    if module not in sys.modules:
        threading.Thread(target=importlib.import_module, args=(module,), name=f"import-{module}",
                         daemon=True).start()


def _row_norms(matrix: np.ndarray) -> np.ndarray:
    """The rows' norms (the same expression as Vectors.norms, handed over): float32 squares
    summed in float64 cannot overflow, and any inf or NaN makes the norm so."""
    return np.sqrt(np.einsum("ij,ij->i", matrix, matrix, dtype=np.float64))


def _finish(parsed: TextResult, *, path, sha256, fmt, limit, case, duplicates, nonfinite, unicode_errors,
            norms, unique: bool) -> Vectors:
    """The policies applied to a parse. ``unique``: the words are distinct (:func:`_distinct`, or
    a cached parse's record), so with ``case='keep'`` no index is built here; Vectors
    builds it when a caller first looks a word up (a million-word dict costs about a second)."""
    words, matrix = parsed.words, parsed.matrix
    if len(words) == 0:
        raise AuditError(f"{path} has no vectors.")
    if matrix.shape[1] == 0:   # every format: the text parsers refuse a header of 0, .npz and pickles did not
        raise AuditError(f"{path}: its vectors have dimension 0.")
    finite_rows = np.isfinite(norms)
    nonfinite_rows = int((~finite_rows).sum())
    if nonfinite_rows and nonfinite == "reject":
        first = int(np.flatnonzero(~finite_rows)[0])
        how_many = "it is the only row that does" if nonfinite_rows == 1 else f"{nonfinite_rows:,} rows do"
        raise OptionError(f"{path}: the vector of {words[first]!r} (entry {first + 1}) has NaN or infinite "
                          f"values; {how_many} (pass {{remedy}} to load them and leave them out "
                          f"of every similarity).", "nonfinite", ("exclude",))
    if case == "lower":
        words = [w.lower() for w in words]
    elif unique:
        return Vectors(words, matrix, _source(parsed, path=path, sha256=sha256, fmt=fmt, words=words, dim=matrix.shape[1],
                                              dropped=0, duplicates=duplicates, case=case, norms=norms,
                                              finite_rows=finite_rows, nonfinite=nonfinite, limit=limit,
                                              unicode_errors=unicode_errors),
                       copy=False, norms=norms)
    dropped = 0
    index = dict(zip(words, range(len(words))))   # C speed; the loop below only runs on duplicates
    unique = len(index) == len(words)
    if not unique:
        index = {}
    for i, w in enumerate(() if unique else words):
        if w in index:
            if duplicates == "error":
                raise OptionError(f"{path}: the word {w!r} appears more than once (entries {index[w] + 1} and "
                                  f"{i + 1}); pass {{remedy}} to choose one.", "duplicates", ("keep-first", "keep-last"))
            dropped += 1
            if duplicates == "keep-last":
                index[w] = i
        else:
            index[w] = i
    if dropped:
        rows = np.array(sorted(index.values()), dtype=np.int64)
        words = [words[i] for i in rows]
        matrix = matrix[rows]
        finite_rows = finite_rows[rows]
        norms = norms[rows]
    source = _source(parsed, path=path, sha256=sha256, fmt=fmt, words=words, dim=matrix.shape[1], dropped=dropped,
                     duplicates=duplicates, case=case, norms=norms, finite_rows=finite_rows, nonfinite=nonfinite,
                     limit=limit, unicode_errors=unicode_errors)
    if dropped:
        index = {w: i for i, w in enumerate(words)}
    return Vectors(words, matrix, source, copy=False, key_to_index=index, norms=norms)


def _source(parsed, *, path, sha256, fmt, words, dim, dropped, duplicates, case, norms, finite_rows, nonfinite,
            limit, unicode_errors) -> SourceInfo:
    return SourceInfo(path=str(path), sha256=sha256, format=fmt, words=len(words), dim=int(dim),
                      duplicates_dropped=dropped, duplicate_policy=duplicates, case=case,
                      zero_rows=int((finite_rows & (norms == 0)).sum()), nonfinite_rows=int((~finite_rows).sum()),
                      nonfinite_policy=nonfinite, words_with_spaces=parsed.words_with_spaces,
                      limit=limit, header_words=parsed.header_words,
                      unicode_errors=unicode_errors, undecodable_words=parsed.undecodable)
