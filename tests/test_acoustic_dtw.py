"""Batched DTW against a plain-Python recurrence, a hand-computed case, and the same-different AP."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from audit.checks import acoustic
from audit.speech import dtw, frames
from audit.core.errors import AuditError


def reference_dtw(x, y):
    """Textbook DTW, one cell at a time: (accumulated cost, path length) with cosine distance."""
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    y = y / np.linalg.norm(y, axis=1, keepdims=True)
    rows, cols = len(x), len(y)
    cost = [[np.inf] * (cols + 1) for _ in range(rows + 1)]
    length = [[0] * (cols + 1) for _ in range(rows + 1)]
    cost[0][0] = 0.0
    for i in range(1, rows + 1):
        for j in range(1, cols + 1):
            options = [(cost[i - 1][j - 1], length[i - 1][j - 1]), (cost[i][j - 1], length[i][j - 1]),
                       (cost[i - 1][j], length[i - 1][j])]
            best = min(range(3), key=lambda k: options[k][0])
            cost[i][j] = float(1 - x[i - 1] @ y[j - 1]) + options[best][0]
            length[i][j] = options[best][1] + 1
    return cost[rows][cols], length[rows][cols]


def segments_of(sequences, words, speakers=None):
    lengths = np.array([len(s) for s in sequences])
    vocabulary = np.array(sorted(set(words)))
    return frames.FrameStore(frames=np.concatenate(sequences).astype(np.float32),
                            offsets=np.r_[0, np.cumsum(lengths)],
                            word_ids=np.searchsorted(vocabulary, words), vocabulary=vocabulary)


def test_batched_dtw_equals_plain_recurrence():
    rng = np.random.default_rng(0)
    sequences = [rng.standard_normal((rng.integers(1, 15), 5)) for _ in range(14)]
    seg = segments_of(sequences, [f"w{i}" for i in range(14)])
    first, second = np.triu_indices(14, 1)
    ours = dtw.dtw_costs(dtw.unit_frames(seg.frames), seg.offsets, first, second, batch=17)
    for k, (a, b) in enumerate(zip(first, second)):
        cost, length = reference_dtw(sequences[a].astype(np.float32), sequences[b].astype(np.float32))
        assert ours[k] == pytest.approx(cost / length, abs=1e-5)


def test_dtw_by_hand():
    e1, e2 = [1.0, 0.0], [0.0, 1.0]
    x = np.array([e1, e2])
    y = np.array([e1, e1, e2])
    # Best path: x0-y0, x0-y1, x1-y2, all distance 0, 3 cells -> normalised cost 0.
    seg = segments_of([x, y, np.array([e2, e2])], ["a", "b", "c"])
    costs = dtw.dtw_costs(dtw.unit_frames(seg.frames), seg.offsets, np.array([0, 0]), np.array([1, 2]))
    assert costs[0] == pytest.approx(0.0)
    # x vs [e2, e2]: x0-y0 costs 1, then x1-y1 costs 0 -> (1 + 0) / 2 cells.
    assert costs[1] == pytest.approx(0.5)
    assert dtw.dtw_similarity(seg, np.array([0]), np.array([1]))[0] == pytest.approx(1.0)


def test_dtw_is_symmetric_and_zero_on_itself():
    rng = np.random.default_rng(1)
    sequences = [rng.standard_normal((n, 4)) for n in (3, 7, 9)]
    seg = segments_of(sequences, ["a", "b", "c"])
    u = dtw.unit_frames(seg.frames)
    forward = dtw.dtw_costs(u, seg.offsets, np.array([0, 1, 2]), np.array([1, 2, 2]))
    backward = dtw.dtw_costs(u, seg.offsets, np.array([1, 2, 2]), np.array([0, 1, 2]))
    assert np.allclose(forward, backward) and forward[2] == pytest.approx(0.0, abs=1e-6)


def spoken_toy(words=5, tokens=4, seed=2):
    """Each word a fixed frame template; tokens stretch it in time and add noise."""
    rng = np.random.default_rng(seed)
    templates = [rng.standard_normal((rng.integers(4, 8), 6)) for _ in range(words)]
    sequences, labels = [], []
    for w, template in enumerate(templates):
        for _ in range(tokens):
            stretched = np.repeat(template, rng.integers(1, 3, size=len(template)), axis=0)
            sequences.append(stretched + 0.3 * rng.standard_normal(stretched.shape))
            labels.append(f"w{w}")
    return sequences, labels


def test_dtw_same_different_equals_sklearn_on_all_pairs():
    sequences, labels = spoken_toy()
    seg = segments_of(sequences, labels)
    result = acoustic.dtw_same_different(seg, sample_pairs=10**6)
    i, j = np.triu_indices(len(labels), 1)
    scores = [-reference_dtw(sequences[a], sequences[b])[0] / reference_dtw(sequences[a], sequences[b])[1]
              for a, b in zip(i, j)]
    same = np.array(labels)[i] == np.array(labels)[j]
    assert not result.same_different.sampled and result.segments == 20 and result.words == 5
    assert result.same_different.average_precision == pytest.approx(skm.average_precision_score(same, scores),
                                                                    abs=1e-6)
    assert result.same_different.average_precision > 0.9 > result.same_different.chance


def test_frame_store_round_trip_and_word_filter(tmp_path):
    sequences, labels = spoken_toy(words=4, tokens=3)
    seg = segments_of(sequences, labels)
    path = tmp_path / "frames.npz"
    np.savez(path, frames=seg.frames, offsets=seg.offsets, word_ids=seg.word_ids.astype(np.int32),
             vocabulary=seg.vocabulary, speaker_ids=np.zeros(len(labels), np.int32), speakers=np.array(["s"]))
    loaded = frames.read_frame_store(path)
    assert np.array_equal(loaded.frames, seg.frames) and len(loaded.sha256) == 64
    only_two = acoustic.dtw_same_different(loaded, words=np.array(["W0", "w2"]))
    assert only_two.segments == 6 and only_two.words == 2
    np.savez(tmp_path / "bad.npz", frames=seg.frames, offsets=seg.offsets)
    with pytest.raises(AuditError, match="lacks 'word_ids'"):
        frames.read_frame_store(tmp_path / "bad.npz")
    (tmp_path / "text.npz").write_text("not an archive\n", encoding="utf-8")
    with pytest.raises(AuditError, match="the frame store .* is not an .npz archive"):
        frames.read_frame_store(tmp_path / "text.npz")
    np.savez(tmp_path / "pickled.npz", frames=np.array([object()], dtype=object))
    with pytest.raises(AuditError, match="holds pickled object arrays"):
        frames.read_frame_store(tmp_path / "pickled.npz")


def test_audit_instances_adds_dtw_baseline():
    sequences, labels = spoken_toy(words=4, tokens=5, seed=3)
    seg = segments_of(sequences, labels)
    # Embeddings: the mean frame of each token (a crude acoustic word embedding).
    embeddings = np.array([s.mean(axis=0) for s in sequences])
    result = acoustic.audit_instances(acoustic.make_instances(embeddings, np.array(labels)), frames=seg)
    assert result.dtw is not None and result.dtw.segments == 20
    assert 0 < result.dtw.same_different.average_precision <= 1
