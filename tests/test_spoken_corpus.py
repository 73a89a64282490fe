"""The embedded eSpeak NG corpus and the frame store built from it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from audit.core.errors import AuditError
from audit.speech.alignments import read_librispeech_alignments
from audit.corpora import spoken as spoken_corpus
from audit.speech.frames import FrameStore, build_frame_store, iter_utterances
from audit.speech.mfcc import MfccSettings, mfcc_frames
from audit.corpora.spoken import SIZES, build_corpus, corpus_sentences, homophone_words


def tiny_corpus(tmp_path_factory):
    """The tiny corpus, built once per session (the reproduction tests reuse the same folder)."""
    root = tmp_path_factory.getbasetemp() / "speech2vec-cache" / "corpora" / "espeak-tiny-seed0"
    return build_corpus(root, size="tiny", seed=0)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return tiny_corpus(tmp_path_factory)


@pytest.fixture(scope="module")
def store(corpus, tmp_path_factory):
    return FrameStore.load(build_frame_store(corpus, tmp_path_factory.mktemp("store") / "frames.npz"))


def test_librispeech_layout_with_uppercase_transcripts_and_alignments(corpus):
    chapters = sorted((corpus / "LibriSpeech" / spoken_corpus.SUBSET).glob("*/*"))
    assert len({c.parent.name for c in chapters}) == SIZES["tiny"].speakers
    for chapter in chapters:
        speaker = chapter.parent.name
        transcript = (chapter / f"{speaker}-{chapter.name}.trans.txt").read_text().split("\n")
        alignments = read_librispeech_alignments(chapter / f"{speaker}-{chapter.name}.alignment.txt")
        for line in filter(None, transcript):
            utterance, *words = line.split(" ")
            assert utterance.startswith(f"{speaker}-{chapter.name}-")
            assert (chapter / f"{utterance}.flac").exists()
            assert [s.word for s in alignments[utterance]] == words
            assert all(w == w.upper() for w in words)


def test_every_listed_homophone_word_is_spoken_at_least_repeats_times(corpus):
    spoken = []
    for path in (corpus / "LibriSpeech").rglob("*.trans.txt"):
        spoken += [w.lower() for line in path.read_text().split("\n") if line for w in line.split(" ")[1:]]
    counts = {w: spoken.count(w) for w in homophone_words(SIZES["tiny"].homophone_pairs)}
    assert len(counts) >= 20 and min(counts.values()) >= SIZES["tiny"].repeats


def test_alignments_are_exact_word_boundaries(corpus):
    """Audio inside the spans carries the speech; the pauses between them are silent."""
    import soundfile
    utterance = next(iter_utterances(corpus))
    audio, rate = soundfile.read(utterance.audio)
    inside = np.zeros(len(audio), dtype=bool)
    for span in utterance.spans:
        inside[int(span.start * rate):int(span.end * rate)] = True
    speech_rms = np.sqrt(np.mean(audio[inside] ** 2))
    # resampling rings a few samples into the pauses: leave 3 ms at each edge out
    edge = np.convolve(inside, np.ones(2 * int(0.003 * rate) + 1), mode="same") > 0
    silence = audio[~edge]
    assert len(silence) > 0.1 * rate
    assert np.sqrt(np.mean(silence ** 2)) < 0.01 * speech_rms


def test_text_and_audio_are_deterministic_for_a_seed():
    assert corpus_sentences(SIZES["tiny"], 0) == corpus_sentences(SIZES["tiny"], 0)
    assert corpus_sentences(SIZES["tiny"], 0) != corpus_sentences(SIZES["tiny"], 1)
    from audit.corpora.espeak import fresh_synthesiser, synthesise
    synthesise("something else first")   # the process-wide instance's state must not matter
    speaker = {"voice": "en-us", "rate": 170, "pitch": 50}
    first = spoken_corpus._utterance_audio(fresh_synthesiser(), ["meat", "meet"], speaker, np.random.default_rng(5))
    second = spoken_corpus._utterance_audio(fresh_synthesiser(), ["meat", "meet"], speaker, np.random.default_rng(5))
    assert np.array_equal(first[0], second[0]) and first[1] == second[1]


def test_a_breathy_voice_is_the_same_in_engines_created_seconds_apart():
    # eSpeak seeds its random generator from the clock in seconds; the breath noise of en+f2 (the
    # demo's speaker 1003) and en-us+f3 then differed from run to run.
    import time

    from audit.corpora.espeak import fresh_synthesiser

    def speak():
        synthesiser = fresh_synthesiser()
        return [synthesiser(word, voice=voice, rate=160, pitch=55)
                for voice in ("en+f2", "en-us+f3") for word in ("night", "knight", "seven")]

    first = speak()
    time.sleep(1.05)   # the next second on the clock
    second = speak()
    assert all(np.array_equal(a, b) for a, b in zip(first, second))


def test_homophones_are_spoken_alike():
    """eSpeak says ate/eight with the same duration (FACTS.md: 0.306 s each)."""
    from audit.corpora.espeak import synthesise
    ate, rate = synthesise("ate", voice="en-us")
    eight, _ = synthesise("eight", voice="en-us")
    assert abs(len(ate) - len(eight)) / rate < 0.005


def test_a_complete_corpus_is_reused(corpus):
    manifest = corpus / spoken_corpus.MANIFEST
    before = manifest.stat().st_mtime_ns
    assert build_corpus(corpus, size="tiny", seed=0) == corpus
    assert manifest.stat().st_mtime_ns == before


def test_frame_store_matches_librosa_on_cut_words(corpus, store):
    """Stored frames equal librosa.feature.mfcc(n_fft=512) of the word cut from the flac."""
    import librosa
    import soundfile
    utterance = next(iter_utterances(corpus))
    audio, rate = soundfile.read(utterance.audio, dtype="float32")
    first = int(np.flatnonzero(store.utterances == utterance.utterance)[0])
    rows = np.flatnonzero(store.utterance_ids == first)
    assert len(rows) == len(utterance.spans)
    for row, span in zip(rows[:4], utterance.spans):
        segment = audio[int(round(span.start * rate)):int(round(span.end * rate))]
        expected = librosa.feature.mfcc(y=segment, sr=16000, n_mfcc=13, n_fft=512).T
        assert np.allclose(store.word_frames(row), expected, atol=2e-3), span
        assert str(store.vocabulary[store.word_ids[row]]) == span.word


def test_frame_store_layout(store):
    assert store.frames.dtype == np.float32 and store.frames.shape[1] == 13
    assert store.offsets[0] == 0 and store.offsets[-1] == len(store.frames)
    assert len(store.word_ids) == len(store.speaker_ids) == len(store.positions) == len(store)
    # about 10 frames per word, as the reality-check paper reports for LibriSpeech
    assert 6 <= store.lengths.mean() <= 16
    assert store.settings == MfccSettings(sample_rate=16000, n_mfcc=13, n_fft=512, hop_length=512)


def test_batched_mfcc_handles_words_shorter_than_a_window():
    import librosa
    rng = np.random.default_rng(0)
    segments = [rng.standard_normal(n).astype(np.float32) * 0.1 for n in (60, 512, 513, 4800)]
    for ours, segment in zip(mfcc_frames(segments), segments):
        with pytest.warns(UserWarning) if len(segment) < 512 else _nothing():
            expected = librosa.feature.mfcc(y=segment, sr=16000, n_mfcc=13, n_fft=512).T
        assert ours.shape == expected.shape and np.allclose(ours, expected, atol=2e-3)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_bad_corpus_roots(tmp_path):
    from audit.core.errors import AuditError
    with pytest.raises(AuditError, match="is not a folder"):
        list(iter_utterances(tmp_path / "missing"))
    with pytest.raises(AuditError, match="no LibriSpeech layout"):
        list(iter_utterances(tmp_path))


def test_real_corpus_path_reads_wav_alignment_files_and_textgrids(tmp_path):
    """A LibriSpeech-layout folder: alignment.txt for one utterance, an MFA TextGrid for another,
    none for a third (skipped); 8 kHz wav is resampled to 16 kHz."""
    import soundfile
    from audit.core.errors import AuditError
    from audit.speech.frames import find_subsets
    chapter = tmp_path / "LibriSpeech" / "dev-clean" / "84" / "121"
    chapter.mkdir(parents=True)
    tone = (0.3 * np.sin(np.arange(16000) * 0.05)).astype(np.float32)
    for n in range(3):
        soundfile.write(chapter / f"84-121-000{n}.wav", tone, 8000)
    (chapter / "84-121.alignment.txt").write_text('84-121-0000 ",ATE,EIGHT" "0.5,1.0,1.6"\n')
    (chapter / "84-121-0001.TextGrid").write_text(
        '"ooTextFile"\n"TextGrid"\n0\n2\n<exists>\n1\n"IntervalTier"\n"words"\n0\n2\n2\n0\n1.2\n"meat"\n1.2\n2\n""\n')
    store = FrameStore.load(build_frame_store(tmp_path, tmp_path / "s.npz"))
    words = [str(store.vocabulary[i]) for i in store.word_ids]
    assert words == ["ATE", "EIGHT", "meat"]
    assert store.positions.tolist() == [0, 1, 0] and set(store.speakers.tolist()) == {"84"}
    # 0.5 s at 16 kHz with hop 512: 1 + 8000 // 512 frames
    assert store.lengths.tolist() == [1 + 8000 // 512, 1 + 9600 // 512, 1 + 19200 // 512]
    with pytest.raises(AuditError, match="no subset 'train-other-500'"):
        find_subsets(tmp_path, ["train-other-500"])


def test_an_espeak_library_that_cannot_be_seeded_is_named(monkeypatch):
    # Without espeak_ng_SetRandSeed the corpus would not be reproducible: one sentence, no traceback.
    import ctypes

    import audit.corpora.espeak as espeak

    real = ctypes.CDLL

    class Unseedable:
        def __init__(self, library):
            self._library = real(library)

        def __getattr__(self, name):
            if name == "espeak_ng_SetRandSeed":
                raise AttributeError(name)
            return getattr(self._library, name)

    monkeypatch.setattr(espeak.ctypes, "CDLL", Unseedable)
    with pytest.raises(AuditError, match="cannot seed its random generator"):
        espeak.fresh_synthesiser()


def test_a_corpus_that_cannot_be_written_is_one_sentence_and_leaves_no_half_subset(tmp_path, monkeypatch):
    """A full disk while synthesising (libsndfile: "System error") was an internal error and left a
    half-built subset with a truncated flac; now one sentence, and the subset folder is gone."""
    import errno
    import soundfile
    from audit.corpora.spoken import build_corpus
    from audit.core.errors import AuditError

    calls = []

    def full(path, *args, **kwargs):
        calls.append(path)
        if len(calls) > 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        Path(path).write_bytes(b"fLaC")
    monkeypatch.setattr(soundfile, "write", full)
    root = tmp_path / "corpus"
    with pytest.raises(AuditError, match=r"cannot build the spoken corpus under .*No space left on device.*nothing "
                                         r"of it was kept"):
        build_corpus(root, size="tiny", seed=0)
    assert not (root / "LibriSpeech").exists() or not any((root / "LibriSpeech").iterdir())
