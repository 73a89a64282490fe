"""The one frame store reader (audit.speech.frames): strict, one sentence per bad file."""

from __future__ import annotations

import numpy as np
import pytest

from audit.core.errors import AuditError
from audit.speech.frames import CORPUS_COLUMNS, FrameStore, read_frame_store
from audit.speech.mfcc import MfccSettings


def store_arrays(**changes):
    arrays = dict(frames=np.arange(12, dtype=np.float32).reshape(6, 2), offsets=np.array([0, 2, 3, 6]),
                  word_ids=np.array([0, 1, 0], np.int32), vocabulary=np.array(["ate", "eight"]),
                  speaker_ids=np.array([0, 0, 1], np.int32), speakers=np.array(["84", "174"]),
                  sample_rate=np.int64(16000), n_mfcc=np.int64(2), n_fft=np.int64(512), hop_length=np.int64(512))
    arrays.update(changes)
    return {k: v for k, v in arrays.items() if v is not None}


def test_reads_columns_and_settings_and_subsets(tmp_path):
    path = tmp_path / "s.npz"
    np.savez(path, **store_arrays())
    store = read_frame_store(path)
    assert len(store) == 3 and store.lengths.tolist() == [2, 1, 3] and store.word_ids.dtype == np.int64
    assert store.settings == MfccSettings(16000, 2, 512, 512) and store.utterances is None
    assert np.array_equal(store.word_frames(2), np.arange(6, 12).reshape(3, 2))
    part = store.subset(np.array([False, True, True]))
    assert part.offsets.tolist() == [0, 1, 4] and part.speaker_ids.tolist() == [0, 1]
    assert np.array_equal(part.frames, store.frames[2:]) and part.sha256 == store.sha256
    assert FrameStore.load(path).sha256 == store.sha256


@pytest.mark.parametrize("changes, require, message", [
    ({"speaker_ids": np.array([0, 0, 2], np.int32)}, (), "'speaker_ids' is outside 'speakers'"),
    ({"speaker_ids": np.array([0, 0], np.int32)}, (), "one entry per segment"),
    ({"offsets": np.array([0, 2, 2, 6])}, (), "non-empty segments"),
    ({"offsets": np.array([0.0, 2, 3, 6])}, (), "non-empty segments"),
    ({"word_ids": np.array([0, 1, 2], np.int32)}, (), "outside the vocabulary"),
    ({"vocabulary": None}, (), "lacks 'vocabulary'"),
    ({}, CORPUS_COLUMNS, "lacks 'utterance_ids'"),
])
def test_bad_store_is_one_sentence(tmp_path, changes, require, message):
    path = tmp_path / "s.npz"
    np.savez(path, **store_arrays(**changes))
    with pytest.raises(AuditError, match=message):
        read_frame_store(path, require=require)
