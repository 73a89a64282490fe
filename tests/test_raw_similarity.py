"""Raw acoustic similarity of spoken homophones: MFCC-DTW and wav2vec 2.0, on words spoken by eSpeak NG.

The corpus is made here: a few words, each spoken twice by two eSpeak NG voices, written in
LibriSpeech layout with exact word alignments and featurised by the reproduction's frame-store
builder. Expected values are recomputed independently (plain-Python DTW, transformers called
directly on the cut audio).
"""

from __future__ import annotations

import functools
import json
import math

import numpy as np
import pytest

from audit.core.errors import AuditError
from audit.core.results import load_result

WORDS = ("ate", "eight", "meat", "meet", "sea", "see", "banana", "window", "thirteen", "cat")
HOMOPHONES = (("ate", "eight"), ("meat", "meet"), ("sea", "see"), ("absent", "abscent"))
VOICES = ("en-us", "en+f2")


def _trim(samples: np.ndarray) -> np.ndarray:
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > 0.02 * np.abs(samples).max())
    return samples[loud[0]:loud[-1] + 1]


@pytest.fixture(scope="module")
def spoken(tmp_path_factory):
    pytest.importorskip("espeakng_loader")
    import soundfile
    from scipy.signal import resample_poly

    from audit.speech.alignments import WordSpan, write_librispeech_alignments
    from audit.corpora.espeak import synthesise
    from audit.speech.frames import build_frame_store, read_frame_store

    root = tmp_path_factory.mktemp("spoken")
    for number, voice in enumerate(VOICES):
        speaker, chapter = str(100 + number), "1"
        folder = root / "LibriSpeech" / "test-tiny" / speaker / chapter
        folder.mkdir(parents=True)
        alignments = {}
        for take, rate in enumerate((160, 185)):
            utterance = f"{speaker}-{chapter}-{take:04d}"
            pieces, spans, cursor = [], [], 0.0
            for word in WORDS:
                samples, synth_rate = synthesise(word, voice=voice, rate=rate)
                audio = resample_poly(_trim(samples).astype(np.float32) / 32768, 160, synth_rate // 100)
                pause = np.zeros(1600, np.float32)
                pieces += [pause, audio]
                start = cursor + len(pause) / 16000
                spans.append(WordSpan(word.upper(), round(start, 4), round(start + len(audio) / 16000, 4)))
                cursor = start + len(audio) / 16000
            pieces.append(np.zeros(1600, np.float32))
            soundfile.write(folder / f"{utterance}.flac", np.concatenate(pieces), 16000, subtype="PCM_16")
            alignments[utterance] = spans
        write_librispeech_alignments(folder / f"{speaker}-{chapter}.alignment.txt", alignments)
    store = build_frame_store(root, root / "frames.npz")
    return root, read_frame_store(store)


def pair_set():
    from homophones.pairs import HomophonePair, PairSet
    return PairSet(source="test", description="spoken in the test",
                   pairs=tuple(HomophonePair(a, b) for a, b in HOMOPHONES))


def python_dtw_similarity(x, y):
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    y = y / np.linalg.norm(y, axis=1, keepdims=True)
    cost = np.full((len(x) + 1, len(y) + 1), np.inf)
    steps = np.zeros_like(cost)
    cost[0, 0] = 0
    for i in range(1, len(x) + 1):
        for j in range(1, len(y) + 1):
            best = min(((cost[i - 1, j - 1], steps[i - 1, j - 1]), (cost[i, j - 1], steps[i, j - 1]),
                        (cost[i - 1, j], steps[i - 1, j])), key=lambda o: o[0])
            cost[i, j] = 1 - x[i - 1] @ y[j - 1] + best[0]
            steps[i, j] = best[1] + 1
    return 1 - cost[-1, -1] / steps[-1, -1]


def same_speaker_instances(store, word1, word2):
    words = np.char.lower(store.vocabulary.astype(str))[store.word_ids]
    a, b = np.flatnonzero(words == word1), np.flatnonzero(words == word2)
    return [(i, j) for i in a for j in b if store.speaker_ids[i] == store.speaker_ids[j]]


def test_mfcc_dtw_pair_values_equal_independent_dtw(spoken):
    from homophones.raw import raw_similarity
    root, store = spoken
    result = raw_similarity(pair_set(), store, corpus_root=root, seed=1)
    assert result.pairs_found == 3 and result.pairs_missing == ("absent/abscent",)
    for row in result.pairs:
        plan = same_speaker_instances(store, row.word1, row.word2)
        want = np.mean([python_dtw_similarity(store.frames[store.offsets[i]:store.offsets[i + 1]],
                                              store.frames[store.offsets[j]:store.offsets[j + 1]])
                        for i, j in plan])
        assert row.same_speaker and row.comparisons == len(plan) == 8
        assert row.mfcc_dtw == pytest.approx(want, abs=1e-5)
        assert math.isnan(row.wav2vec2)
    assert len(result.random_pairs) == 3


def test_spoken_homophones_are_closer_than_random_words(spoken):
    from homophones.raw import raw_similarity
    root, store = spoken
    result = raw_similarity(pair_set(), store, seed=0)
    assert result.homophone_mfcc_dtw.mean > result.random_mfcc_dtw.mean
    # eSpeak NG speaks ate/eight with the same phonemes: at the same rate, the same frames.
    ate = next(r for r in result.pairs if r.word1 == "ate")
    assert ate.mfcc_dtw > 0.99 and ate.mfcc_dtw > max(r.mfcc_dtw for r in result.random_pairs)
    assert load_result(json.loads(result.to_json())) == result


def tiny_wav2vec2(path):
    transformers = pytest.importorskip("transformers")
    import torch
    torch.manual_seed(0)
    config = transformers.Wav2Vec2Config(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                         intermediate_size=37, conv_dim=(8, 8), conv_kernel=(10, 3),
                                         conv_stride=(5, 2), num_conv_pos_embeddings=16,
                                         num_conv_pos_embedding_groups=2, vocab_size=10)
    transformers.Wav2Vec2Model(config).save_pretrained(path)
    return path


@pytest.fixture
def one_torch_thread():
    """A tiny model on a shared 2-core machine runs ~7x faster on one thread than on two."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_wav2vec2_cosine_equals_transformers_called_directly(spoken, tmp_path, monkeypatch, one_torch_thread):
    import soundfile
    import torch
    from transformers import Wav2Vec2Model

    from homophones.raw import raw_similarity
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    root, store = spoken
    model_dir = tiny_wav2vec2(tmp_path / "w2v")
    result = raw_similarity(pair_set(), store, corpus_root=root, wav2vec2_dir=model_dir, seed=1)
    model = Wav2Vec2Model.from_pretrained(model_dir, local_files_only=True).eval()
    files = {p.stem: p for p in root.rglob("*.flac")}

    @functools.lru_cache(maxsize=None)
    def feature(i):
        audio, _ = soundfile.read(files[store.utterances[store.utterance_ids[i]]], dtype="float32")
        wave = audio[int(round(store.starts[i] * 16000)):int(round(store.ends[i] * 16000))]
        wave = (wave - wave.mean()) / np.sqrt(wave.var() + 1e-7)
        with torch.no_grad():
            return model(torch.from_numpy(wave)[None]).last_hidden_state[0].mean(0).numpy()

    for row in result.pairs:
        cosines = []
        for i, j in same_speaker_instances(store, row.word1, row.word2):
            a, b = feature(i), feature(j)
            cosines.append(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
        assert row.wav2vec2 == pytest.approx(np.mean(cosines), abs=1e-4)
    assert result.homophone_wav2vec2.n == 3 and result.wav2vec2_model == str(model_dir)


def test_bad_inputs(spoken, tmp_path):
    from homophones.pairs import HomophonePair, PairSet
    from homophones.raw import raw_similarity
    root, store = spoken
    with pytest.raises(AuditError, match="no pair"):
        raw_similarity(PairSet(source="x", description="", pairs=(HomophonePair("absent", "abscent"),)), store)
    with pytest.raises(AuditError, match="not a local wav2vec 2.0 model"):
        raw_similarity(pair_set(), store, corpus_root=root, wav2vec2_dir=tmp_path / "nothing")
    with pytest.raises(AuditError, match="corpus audio"):
        raw_similarity(pair_set(), store, wav2vec2_dir=tmp_path)


def test_homophones_command_adds_the_raw_column(spoken, tmp_path, run_cli):
    from homophones.raw import raw_similarity
    root, store = spoken
    rng = np.random.default_rng(0)
    vectors = tmp_path / "v.txt"
    vectors.write_text("".join(f"{w} " + " ".join(f"{x:.4f}" for x in rng.normal(size=4)) + "\n" for w in WORDS),
                       encoding="utf-8")
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("".join(f"{a}\t{b}\n" for a, b in HOMOPHONES[:3]), encoding="utf-8")
    raw_json = tmp_path / "raw.json"
    code, out, err = run_cli("homophones", vectors, "--pairs", pairs, "--raw-corpus", root,
                             "--raw-json", raw_json, "--data-dir", tmp_path / "cache")
    assert code == 0, err
    written = load_result(json.loads(raw_json.read_text()))
    direct = raw_similarity(pair_set(), store, corpus_root=root, seed=0)
    assert {r.word1: r.mfcc_dtw for r in written.pairs} == pytest.approx(
        {r.word1: r.mfcc_dtw for r in direct.pairs if r.word1 in {a for a, _ in HOMOPHONES[:3]}}, abs=1e-6)
