"""Raw acoustic similarity of spoken homophones: the 'Raw' column of the reality check's Table 2.

The paper compares the two words of each homophone pair as *audio* (cosine of wav2vec
features) to show that homophones sound alike before any embedding model sees them. Here the
two words' spoken segments come from a corpus in LibriSpeech layout with word alignments (the
embedded eSpeak NG corpus by default), and two similarities are measured:

- ``mfcc_dtw`` (always): 1 - the path-length-normalised DTW cost of the two segments' MFCC
  frames with cosine frame distance (:mod:`audit.speech.dtw`), i.e. the mean cosine similarity of
  the aligned frames; 1 means the same frames in the same order;
- ``wav2vec2`` (with a local model directory): cosine of the two segments' wav2vec 2.0 last
  hidden states, mean-pooled over time.

A pair's value is the mean over instance pairs (one segment of each word) spoken by the same
speaker, so that voice does not count as a difference; a pair whose words share no speaker is
averaged over all cross-speaker instance pairs and flagged. At most ``max_instances``
segments of each word are used (a seeded choice). The same is measured for as many random
pairs of corpus words (seeded, homophone pairs excluded) as a reference.

:func:`raw_similarity` works on a frame store (:class:`audit.speech.frames.FrameStore`);
:func:`raw_similarity_for_corpus` first builds (or reuses) the corpus and its store in the data
dir, where the reproduction keeps them too.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audit.core.datadir import data_dir as resolve_data_dir
from audit.core.errors import AuditError, ParameterError
from audit.core.results import Result, result_type, today
from audit.corpora.spoken import build_corpus, default_corpus_dir
from audit.speech.dtw import dtw_costs, unit_frames
from audit.speech.frames import FrameStore, build_frame_store, frame_store_path, read_audio, read_frame_store

DEFAULT_MAX_INSTANCES = 8
SAMPLE_RATE = 16000   # wav2vec 2.0's input rate


@dataclass(frozen=True)
class RawPairSimilarity:
    word1: str
    word2: str
    instances1: int
    instances2: int
    comparisons: int
    same_speaker: bool
    mfcc_dtw: float
    wav2vec2: float             # NaN when no model was given
    paper_raw: float            # the paper's Raw (wav2vec) value, NaN when it has none


@dataclass(frozen=True)
class RawSummary:
    mean: float
    std: float
    n: int

    @classmethod
    def of(cls, values) -> "RawSummary":
        values = np.asarray([v for v in values if not math.isnan(v)], dtype=np.float64)
        if not len(values):
            return cls(math.nan, math.nan, 0)
        return cls(float(values.mean()), float(values.std()), int(len(values)))


@result_type("homophones-raw")
@dataclass(frozen=True)
class RawSimilarityResult(Result):
    pairs_source: str
    frames_path: str
    frames_sha256: str
    corpus_root: str
    pairs_found: int
    pairs_missing: tuple[str, ...]      # "word1/word2" of pairs with a word not spoken in the corpus
    similarity: str                     # how a pair's number is defined
    max_instances: int
    seed: int
    wav2vec2_model: str                 # the model directory, "" when not used
    homophone_mfcc_dtw: RawSummary
    random_mfcc_dtw: RawSummary
    homophone_wav2vec2: RawSummary
    random_wav2vec2: RawSummary
    pairs: tuple[RawPairSimilarity, ...]
    random_pairs: tuple[RawPairSimilarity, ...]
    date: str


SIMILARITY = ("mean over same-speaker instance pairs of 1 - path-length-normalised DTW cost of the MFCC "
              "frames (cosine frame distance); wav2vec2: mean cosine of time-averaged last hidden states")


def raw_similarity_for_corpus(pairs, corpus_root: str | os.PathLike | None = None, *,
                              wav2vec2_dir: str | os.PathLike | None = None,
                              data_dir: str | os.PathLike | None = None, seed: int = 0,
                              max_instances: int = DEFAULT_MAX_INSTANCES, progress=None) -> RawSimilarityResult:
    """:func:`raw_similarity` of ``pairs`` spoken in a corpus (the embedded eSpeak NG one when
    ``corpus_root`` is None), building or reusing the corpus and its MFCC frame store in the
    data dir, exactly where the reproduction keeps them."""
    if corpus_root is None:
        corpus_root = build_corpus(default_corpus_dir(data_dir), progress=progress)
    corpus_root = Path(corpus_root)
    store_path = frame_store_path(resolve_data_dir(data_dir), corpus_root)
    build_frame_store(corpus_root, store_path, progress=progress)
    return raw_similarity(pairs, read_frame_store(store_path), corpus_root=corpus_root, wav2vec2_dir=wav2vec2_dir,
                          max_instances=max_instances, seed=seed)


def raw_similarity(pairs, segments: FrameStore, *, corpus_root: str | os.PathLike | None = None,
                   wav2vec2_dir: str | os.PathLike | None = None, max_instances: int = DEFAULT_MAX_INSTANCES,
                   seed: int = 0) -> RawSimilarityResult:
    """Raw similarity of each pair of ``pairs`` (a :class:`homophones.PairSet`) spoken in ``segments``.

    ``segments`` is a frame store (with ``utterances``, ``utterance_ids``, ``starts`` and ``ends``
    when wav2vec2 is used); ``corpus_root`` is the corpus whose audio the store was cut from
    (needed for wav2vec2).
    """
    if max_instances < 1:
        raise ParameterError("max_instances", "must be at least 1.")
    rng = np.random.default_rng(seed)
    by_word = _segments_by_word(segments)
    found, missing = [], []
    for pair in pairs.pairs:
        if pair.word1.lower() in by_word and pair.word2.lower() in by_word:
            found.append(pair)
        else:
            missing.append(f"{pair.word1}/{pair.word2}")
    if not found:
        raise AuditError(f"no pair of {pairs.source} has both words spoken in the corpus.")
    random_words = _random_pairs(by_word, {(p.word1.lower(), p.word2.lower()) for p in found}, len(found), rng)
    chosen = {w: _choose(by_word[w], max_instances, rng) for pair in
              [(p.word1.lower(), p.word2.lower()) for p in found] + random_words for w in pair}
    plans = [_plan(segments, chosen[a.lower()], chosen[b.lower()]) for a, b in
             [(p.word1, p.word2) for p in found] + random_words]
    mfcc = _pair_means(plans, _dtw_similarities(segments, plans))
    features = None
    if wav2vec2_dir is not None:
        features = _wav2vec2_cosines(segments, plans, corpus_root, wav2vec2_dir)
    wav = _pair_means(plans, features) if features is not None else [math.nan] * len(plans)
    rows = []
    for k, (a, b) in enumerate([(p.word1, p.word2) for p in found] + random_words):
        paper = found[k].paper.raw_wav2vec if k < len(found) and found[k].paper is not None else math.nan
        first, second, same_speaker = plans[k]
        rows.append(RawPairSimilarity(word1=a, word2=b, instances1=len(chosen[a.lower()]),
                                      instances2=len(chosen[b.lower()]), comparisons=len(first),
                                      same_speaker=same_speaker, mfcc_dtw=mfcc[k], wav2vec2=wav[k], paper_raw=paper))
    homophone_rows, random_rows = tuple(rows[:len(found)]), tuple(rows[len(found):])
    return RawSimilarityResult(
        pairs_source=pairs.source, frames_path=str(getattr(segments, "path", "")),
        frames_sha256=str(getattr(segments, "sha256", "")), corpus_root=str(corpus_root or ""),
        pairs_found=len(found), pairs_missing=tuple(missing), similarity=SIMILARITY, max_instances=max_instances,
        seed=seed, wav2vec2_model=str(wav2vec2_dir or ""),
        homophone_mfcc_dtw=RawSummary.of(r.mfcc_dtw for r in homophone_rows),
        random_mfcc_dtw=RawSummary.of(r.mfcc_dtw for r in random_rows),
        homophone_wav2vec2=RawSummary.of(r.wav2vec2 for r in homophone_rows),
        random_wav2vec2=RawSummary.of(r.wav2vec2 for r in random_rows),
        pairs=homophone_rows, random_pairs=random_rows, date=today())


# ----------------------------------------------------------------------------- pairing
def _segments_by_word(segments) -> dict[str, np.ndarray]:
    """Lowercased word -> its segment indices (the store keeps the transcripts' spelling)."""
    words = np.char.lower(np.asarray(segments.vocabulary).astype(str))[np.asarray(segments.word_ids)]
    order = np.argsort(words, kind="stable")
    names, starts = np.unique(words[order], return_index=True)
    return {str(w): order[s:e] for w, s, e in zip(names, starts, np.r_[starts[1:], len(order)])}


def _choose(indices: np.ndarray, limit: int, rng: np.random.Generator) -> np.ndarray:
    return np.sort(rng.choice(indices, size=limit, replace=False)) if len(indices) > limit else indices


def _random_pairs(by_word, excluded: set, count: int, rng: np.random.Generator) -> list[tuple[str, str]]:
    words = sorted(by_word)
    if len(words) < 2:
        return []
    chosen: list[tuple[str, str]] = []
    for _ in range(count * 20):
        if len(chosen) == count:
            break
        a, b = rng.choice(len(words), size=2, replace=False)
        pair = (words[a], words[b])
        if pair not in excluded and pair[::-1] not in excluded:
            chosen.append(pair)
    return chosen


def _plan(segments, first: np.ndarray, second: np.ndarray):
    """The instance pairs to compare: same speaker when possible, else every cross pair."""
    a, b = np.repeat(first, len(second)), np.tile(second, len(first))
    speakers = getattr(segments, "speaker_ids", None)
    if speakers is not None:
        speakers = np.asarray(speakers)
        same = speakers[a] == speakers[b]
        if same.any():
            return a[same], b[same], True
    return a, b, False


def _pair_means(plans, values: np.ndarray) -> list[float]:
    sizes = [len(p[0]) for p in plans]
    bounds = np.r_[0, np.cumsum(sizes)]
    return [float(values[lo:hi].mean()) if hi > lo else math.nan for lo, hi in zip(bounds[:-1], bounds[1:])]


def _dtw_similarities(segments, plans) -> np.ndarray:
    first = np.concatenate([p[0] for p in plans])
    second = np.concatenate([p[1] for p in plans])
    return 1.0 - dtw_costs(unit_frames(np.asarray(segments.frames)), np.asarray(segments.offsets), first, second)


# ----------------------------------------------------------------------------- wav2vec 2.0
def _wav2vec2_cosines(segments, plans, corpus_root, model_dir) -> np.ndarray:
    if corpus_root is None:
        raise AuditError("wav2vec2 features need the corpus audio; give the corpus root.")
    needed = np.unique(np.concatenate([np.r_[p[0], p[1]] for p in plans]))
    audio = segment_audio(segments, needed, corpus_root)
    vectors = wav2vec2_features(model_dir, [audio[i] for i in needed])
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    row = {int(s): k for k, s in enumerate(needed)}
    first = np.array([row[int(i)] for p in plans for i in p[0]], dtype=np.int64)
    second = np.array([row[int(i)] for p in plans for i in p[1]], dtype=np.int64)
    return np.einsum("ij,ij->i", vectors[first], vectors[second]) if len(first) else np.zeros(0)


def segment_audio(segments, indices, corpus_root) -> dict[int, np.ndarray]:
    """16 kHz samples of each segment, cut from its utterance's audio file in the corpus."""
    files = {p.stem: p for suffix in ("*.flac", "*.wav") for p in Path(corpus_root).rglob(suffix)}
    utterances = np.asarray(segments.utterances).astype(str)
    out: dict[int, np.ndarray] = {}
    cache: dict[str, np.ndarray] = {}
    for i in indices:
        name = utterances[segments.utterance_ids[i]]
        if name not in cache:
            if name not in files:
                raise AuditError(f"the utterance {name} is not in the corpus {corpus_root}.")
            cache[name] = read_audio(files[name], SAMPLE_RATE)
        lo = int(round(float(segments.starts[i]) * SAMPLE_RATE))
        hi = int(round(float(segments.ends[i]) * SAMPLE_RATE))
        out[int(i)] = cache[name][lo:max(hi, lo + 1)]
    return out


def wav2vec2_features(model_dir, waveforms: list[np.ndarray]) -> np.ndarray:
    """Mean-pooled last hidden state of each 16 kHz waveform; the model is read offline only."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")          # never reach the network at run time
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from transformers import Wav2Vec2Model
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()   # the audit prints its own output; no loading bars on stderr

    model_dir = Path(model_dir)
    if not (model_dir / "config.json").is_file():
        raise AuditError(f"{model_dir} is not a local wav2vec 2.0 model directory (no config.json).")
    try:
        model = Wav2Vec2Model.from_pretrained(model_dir, local_files_only=True).eval()
    except (OSError, ValueError) as exc:
        raise AuditError(f"cannot load a wav2vec 2.0 model from {model_dir} ({str(exc).splitlines()[0]}).") from None
    normalise = _feature_normalisation(model_dir)
    shortest = _shortest_input(model.config)
    out = []
    with torch.inference_mode():
        for wave in waveforms:
            wave = np.asarray(wave, dtype=np.float32)
            if normalise:   # the feature extractor's zero-mean, unit-variance step
                wave = (wave - wave.mean()) / np.sqrt(wave.var() + 1e-7)
            if len(wave) < shortest:   # shorter than the convolutions' receptive field
                wave = np.pad(wave, (0, shortest - len(wave)))
            hidden = model(torch.from_numpy(wave)[None]).last_hidden_state[0]
            out.append(hidden.mean(dim=0).double().numpy())
    return np.stack(out)


def _feature_normalisation(model_dir: Path) -> bool:
    """The model's own preprocessing choice when saved with it; wav2vec 2.0's default otherwise."""
    config = model_dir / "preprocessor_config.json"
    if config.is_file():
        try:
            return bool(json.loads(config.read_text(encoding="utf-8")).get("do_normalize", True))
        except ValueError:
            pass
    return True


def _shortest_input(config) -> int:
    """Samples needed for one output frame through the feature encoder's convolutions."""
    need = 1
    for kernel, stride in reversed(list(zip(config.conv_kernel, config.conv_stride))):
        need = (need - 1) * stride + kernel
    return need
