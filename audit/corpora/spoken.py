"""The embedded spoken corpus: English text spoken by eSpeak NG, in LibriSpeech layout.

Text: the sentences of the Lee news corpus that gensim ships with its tests
(``lee_background.cor``, 2,619 sentences of real English). gensim's text8 excerpt
(``head500.noblanks.cor``) was the first choice, but it is *stemmed* ("anarch", "societi"),
and spoken stems would not match any benchmark or homophone word. Plus
sentences that use every word of the paper's homophone list (``homophones.load_pairs``), each
word ``repeats`` times so that it passes the vocabulary's minimum count. Speakers: eSpeak NG
voice variants with their own rate and pitch; each spoken word also gets a small random change
of rate and pitch, so two instances of a word are not identical.

Words are synthesised one at a time, trimmed of the synthesiser's leading and trailing silence
and joined with short pauses, so the word boundaries written to the alignment files are exact.
Layout (what :mod:`audit.speech.frames` reads for real LibriSpeech too)::

    root/LibriSpeech/<subset>/<speaker>/<chapter>/<speaker>-<chapter>-<utt>.flac
    root/LibriSpeech/<subset>/<speaker>/<chapter>/<speaker>-<chapter>.trans.txt
    root/LibriSpeech/<subset>/<speaker>/<chapter>/<speaker>-<chapter>.alignment.txt
    root/manifest.json     (written last: its presence means the corpus is complete)
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from audit.speech.alignments import WordSpan, write_librispeech_alignments
from audit.core.datadir import data_dir as resolve_data_dir
from audit.core.errors import AuditError
from audit.core.files import atomic_write_json
from audit.core.paper import read_table
from audit.corpora.espeak import fresh_synthesiser
from audit.corpora.offline import gensim_test_file

SUBSET = "train-espeak"
SAMPLE_RATE = 16000
MANIFEST = "manifest.json"
CORPUS_VERSION = 3   # 3: eSpeak's random generator seeded, not the clock (audit.corpora.espeak)
UTTERANCES_PER_CHAPTER = 40
VOICES = ("en-us", "en", "en-us+m3", "en+f2", "en-us+f3", "en+m1", "en-us+m7", "en+f4")


@dataclass(frozen=True)
class CorpusSize:
    text_tokens: int          # tokens of news text spoken as ordinary sentences (whole sentences)
    homophone_pairs: int      # how many pairs of the paper's list (0 = all)
    repeats: int              # sentences per homophone word
    speakers: int


SIZES = {
    "tiny": CorpusSize(text_tokens=1500, homophone_pairs=12, repeats=4, speakers=3),
    "small": CorpusSize(text_tokens=20000, homophone_pairs=0, repeats=4, speakers=8),
    "medium": CorpusSize(text_tokens=60302, homophone_pairs=0, repeats=8, speakers=16),   # all of it
}


def default_corpus_dir(data_dir: str | os.PathLike | None = None, *, size: str = "small", seed: int = 0) -> Path:
    """Where the embedded corpus of this size and seed lives inside the data dir."""
    return resolve_data_dir(data_dir) / "corpora" / f"espeak-{size}-seed{seed}"


def build_corpus(root: str | os.PathLike, *, size: str = "small", seed: int = 0,
                 progress: Callable[[str], None] | None = None) -> Path:
    """Build the corpus under ``root`` (or reuse a complete one with the same parameters)."""
    if size not in SIZES:
        raise AuditError(f"unknown corpus size {size!r}; choose one of {', '.join(SIZES)}.")
    root = Path(root)
    parameters = {"version": CORPUS_VERSION, "size": size, "seed": seed, "subset": SUBSET,
                  "sample_rate": SAMPLE_RATE, **SIZES[size].__dict__}
    manifest_path = root / MANIFEST
    if manifest_path.exists():
        try:
            if json.loads(manifest_path.read_text(encoding="utf-8")).get("parameters") == parameters:
                return root
        except ValueError:
            pass
        manifest_path.unlink()
    subset_dir = root / "LibriSpeech" / SUBSET
    sentences = corpus_sentences(SIZES[size], seed)
    speakers = _speakers(SIZES[size].speakers, seed)
    try:
        if subset_dir.exists():
            shutil.rmtree(subset_dir)   # an incomplete or different build of our own subset
        subset_dir.mkdir(parents=True)
        counts = _write_utterances(subset_dir, sentences, speakers, seed, progress)
    except Exception as exc:
        # a full disk or a read-only folder (libsndfile reports it as its own "System error"): one
        # sentence, and no half-built subset left to be read as a corpus
        if not isinstance(exc, OSError) and type(exc).__module__.split(".")[0] != "soundfile":
            raise
        shutil.rmtree(subset_dir, ignore_errors=True)
        reason = getattr(exc, "strerror", None) or str(exc).strip() or type(exc).__name__
        raise AuditError(f"cannot build the spoken corpus under {root} ({reason}); nothing of it was kept.") from None
    manifest = {"parameters": parameters, "speakers": {str(k): v for k, v in speakers.items()}, **counts}
    atomic_write_json(manifest_path, manifest, what="corpus manifest")
    return root


# ------------------------------------------------------------------------------------- text
def news_sentences() -> list[list[str]]:
    """The Lee background corpus split into sentences of lowercase alphabetic tokens."""
    text = gensim_test_file("lee_background.cor").read_text(encoding="utf-8")
    pieces = re.split(r"(?<=[.!?])\s+|\n", text)
    return [tokens for tokens in (re.findall(r"[^\W\d_]+", p.lower()) for p in pieces) if tokens]


def homophone_words(pairs_limit: int = 0) -> list[str]:
    """Every word of the paper's homophone list (first ``pairs_limit`` pairs when > 0), sorted."""
    pairs = [(row["word1"], row["word2"]) for row in read_table("homophones-307.tsv")]
    if pairs_limit:
        pairs = pairs[:pairs_limit]
    return sorted({w.lower() for pair in pairs for w in pair})


def corpus_sentences(size: CorpusSize, seed: int) -> list[list[str]]:
    """News sentences up to ``text_tokens``, then homophone sentences (3 list words in 5 news words)."""
    rng = np.random.default_rng([seed, 1])
    news = news_sentences()
    sentences, total = [], 0
    for sentence in news:
        if total >= size.text_tokens:
            break
        sentences.append(sentence)
        total += len(sentence)
    stream = [token for sentence in news for token in sentence]
    words = homophone_words(size.homophone_pairs)
    slots = [w for w in words for _ in range(size.repeats)]
    rng.shuffle(slots)
    for start in range(0, len(slots), 3):
        at = int(rng.integers(0, len(stream) - 5))
        sentence = list(stream[at:at + 5])
        for word in slots[start:start + 3]:
            sentence.insert(int(rng.integers(0, len(sentence) + 1)), word)
        sentences.append(sentence)
    return sentences


def _speakers(count: int, seed: int) -> dict[int, dict]:
    rng = np.random.default_rng([seed, 2])
    return {1000 + i: {"voice": VOICES[i % len(VOICES)], "rate": int(rng.integers(150, 200)),
                       "pitch": int(rng.integers(30, 71))} for i in range(count)}


# ------------------------------------------------------------------------------------ audio
def _speak_word(synthesiser, word: str, speaker: dict, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    rate = int(speaker["rate"] * rng.uniform(0.92, 1.08))
    pitch = int(np.clip(speaker["pitch"] + rng.integers(-6, 7), 0, 99))
    samples = synthesiser(word, voice=speaker["voice"], rate=rate, pitch=pitch)
    return _trim_silence(samples, synthesiser.sample_rate), synthesiser.sample_rate


def _trim_silence(samples: np.ndarray, rate_hz: int) -> np.ndarray:
    """Cut the synthesiser's leading and trailing silence, keeping 5 ms around the speech."""
    if not len(samples):
        return samples
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > max(64, 0.02 * np.abs(samples).max()))
    if not len(loud):
        return samples[:0]
    margin = int(0.005 * rate_hz)
    return samples[max(0, loud[0] - margin):loud[-1] + margin + 1]


def _utterance_audio(synthesiser, words: list[str], speaker: dict, rng: np.random.Generator):
    """16 kHz float audio of the words with pauses, and the exact word spans in seconds."""
    from scipy.signal import resample_poly   # heavy (scipy.signal ~0.3 s): only when synthesising
    pieces, spans, cursor = [], [], 0
    synth_rate = None
    for i, word in enumerate(words):
        audio, synth_rate = _speak_word(synthesiser, word, speaker, rng)
        pause = int(synth_rate * (0.15 if i == 0 else rng.uniform(0.04, 0.12)))
        pieces.append(np.zeros(pause, dtype=np.int16))
        cursor += pause
        spans.append((word.upper(), cursor, cursor + len(audio)))
        pieces.append(audio)
        cursor += len(audio)
    pieces.append(np.zeros(int(synth_rate * 0.15), dtype=np.int16))
    signal = np.concatenate(pieces).astype(np.float32) / 32768.0
    g = math.gcd(SAMPLE_RATE, synth_rate)
    audio16 = resample_poly(signal, SAMPLE_RATE // g, synth_rate // g).astype(np.float32)
    word_spans = [WordSpan(w, round(s / synth_rate, 3), round(e / synth_rate, 3)) for w, s, e in spans]
    return np.clip(audio16, -1.0, 1.0), word_spans


def _write_utterances(subset_dir: Path, sentences, speakers, seed, progress) -> dict:
    import soundfile   # optional (speech extra): only when synthesising
    synthesiser = fresh_synthesiser()
    rng = np.random.default_rng([seed, 3])
    speaker_ids = sorted(speakers)
    owner = rng.integers(0, len(speaker_ids), size=len(sentences))
    by_chapter: dict[tuple[int, int], list[list[str]]] = {}
    spoken: dict[int, int] = {}
    for sentence, index in zip(sentences, owner):
        speaker = speaker_ids[int(index)]
        spoken[speaker] = spoken.get(speaker, 0) + 1
        by_chapter.setdefault((speaker, 100 + (spoken[speaker] - 1) // UTTERANCES_PER_CHAPTER), []).append(sentence)
    from audit.core.progress import bar
    done = words = 0
    seconds = 0.0
    shown = bar(total=len(sentences), desc="synthesising speech", unit="utt")
    for (speaker, chapter), chapter_sentences in sorted(by_chapter.items()):
        folder = subset_dir / str(speaker) / str(chapter)
        folder.mkdir(parents=True, exist_ok=True)
        transcripts, alignments = [], {}
        for number, sentence in enumerate(chapter_sentences):
            utterance = f"{speaker}-{chapter}-{number:04d}"
            audio, spans = _utterance_audio(synthesiser, sentence, speakers[speaker], rng)
            soundfile.write(folder / f"{utterance}.flac", audio, SAMPLE_RATE, subtype="PCM_16")
            transcripts.append(f"{utterance} {' '.join(w.upper() for w in sentence)}")
            alignments[utterance] = spans
            words += len(sentence)
            seconds += len(audio) / SAMPLE_RATE
            shown.update(1)
        (folder / f"{speaker}-{chapter}.trans.txt").write_text("\n".join(transcripts) + "\n", encoding="utf-8")
        write_librispeech_alignments(folder / f"{speaker}-{chapter}.alignment.txt", alignments)
        done += len(chapter_sentences)
    shown.close()
    if progress:
        progress(f"synthesised {done} utterances ({seconds / 60:.1f} min of speech)")
    return {"utterances": len(sentences), "words": words, "seconds": round(seconds, 1)}
