"""The instance MDS reads its .npz strictly (audit.core.npzfile): one sentence for a bad file."""

from __future__ import annotations

import numpy as np
import pytest

from audit.checks.mds import instance_mds
from audit.core.errors import AuditError


@pytest.mark.parametrize("case, message", [
    ("text", "is not an .npz archive"),
    ("pickled", "pickled object arrays"),
    ("missing", "with 'embeddings' and 'labels'"),
    ("shape", "one label per row"),
])
def test_bad_instances_file_is_one_sentence(tmp_path, case, message):
    path = tmp_path / "instances.npz"
    if case == "text":
        path.write_text("ate 1 2\n", encoding="utf-8")
    elif case == "pickled":
        np.savez(path, embeddings=np.ones((2, 3)), labels=np.array(["ate", "eight"], dtype=object))
    elif case == "missing":
        np.savez(path, embeddings=np.ones((2, 3)))
    else:
        np.savez(path, embeddings=np.ones((2, 3)), labels=np.array(["ate"]))
    with pytest.raises(AuditError, match=message):
        instance_mds(path, [("homophones", "ate", "eight")])


def test_points_of_each_word(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "instances.npz"
    np.savez(path, embeddings=rng.standard_normal((12, 4)), labels=np.array(["ate", "eight", "cat"] * 4))
    result = instance_mds(path, [("homophones", "ate", "eight"), ("different sounds", "ate", "dog")], seed=1)
    assert len(result.panels) == 1 and [len(w.points) for w in result.panels[0].words] == [4, 4]
