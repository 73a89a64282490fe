"""A file that parses to no vectors at all is one sentence, "<path> has no vectors." (exit 2).

The text and word2vec binary parsers refuse an empty body themselves, and fastText's header
check refuses 0 words; two readers hand ``_finish`` (audit/core/loaders/__init__.py) an empty
parse, and only its check names the problem: an ``.npz`` whose ``words`` and ``matrix`` have 0
rows (numpy writes one without complaint), and gensim's native file of an empty KeyedVectors
(``KeyedVectors(vector_size=...)`` saved before any word is added). A cached parse cannot be
empty (only text, word2vec binary and fastText parses are cached, and those refuse 0 words).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import audit
from audit import AuditError


def empty_npz(tmp_path, dim=5):
    path = tmp_path / "empty.npz"
    np.savez(path, words=np.array([], dtype="<U1"), matrix=np.zeros((0, dim), dtype=np.float32))
    return path


def empty_gensim(tmp_path, dim=5):
    from gensim.models import KeyedVectors  # heavy: only for the gensim-native case

    path = tmp_path / "empty.kv"
    KeyedVectors(vector_size=dim).save(str(path))
    return path


def test_an_npz_with_zero_rows_has_no_vectors(tmp_path):
    path = empty_npz(tmp_path)
    with pytest.raises(AuditError) as caught:
        audit.load(path)
    assert str(caught.value) == f"{path} has no vectors."


def test_an_npz_with_zero_rows_has_no_vectors_whatever_the_policies(tmp_path):
    path = empty_npz(tmp_path)
    with pytest.raises(AuditError, match=r"has no vectors\.$"):
        audit.load(path, case="lower", duplicates="keep-last", nonfinite="exclude", limit=3,
                   cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache" / "vectors").exists() or not any((tmp_path / "cache" / "vectors").iterdir())


def test_an_empty_gensim_keyedvectors_has_no_vectors(tmp_path):
    path = empty_gensim(tmp_path)
    with pytest.raises(AuditError) as caught:
        audit.load(path, allow_pickle=True)
    assert str(caught.value) == f"{path} has no vectors."


def test_the_command_says_it_in_one_sentence_and_exits_2(tmp_path):
    path = empty_npz(tmp_path)
    done = subprocess.run([sys.executable, "-m", "audit", "info", str(path)], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].endswith(f"{path} has no vectors."), lines[0]
    assert done.stdout == ""


def test_vectors_of_dimension_zero_are_refused_from_every_reader(tmp_path):
    """The text parsers refused a header of dimension 0; an .npz and a pickled dict were taken as
    words without coordinates (every row a zero vector)."""
    import pickle
    npz = tmp_path / "zerodim.npz"
    np.savez(npz, words=np.array(["a", "b"]), matrix=np.ones((2, 0)))
    pickled = tmp_path / "zerodim.pkl"
    pickled.write_bytes(pickle.dumps({"a": [], "b": []}))
    for path, options in ((npz, {}), (pickled, {"allow_pickle": True})):
        with pytest.raises(AuditError) as caught:
            audit.load(path, **options)
        assert str(caught.value) == f"{path}: its vectors have dimension 0."


def test_a_file_that_is_not_a_zip_read_as_npz_says_so(tmp_path):
    """np.load falls back to a pickle for a non-zip file and refuses in words about pickled arrays."""
    for name, content in (("text.txt", b"2 2\na 1 2\nb 3 4\n"), ("noise.bin", bytes(range(256)) * 4)):
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(AuditError) as caught:
            audit.load(path, format="npz")
        assert str(caught.value) == f"{path} is not an .npz archive (numpy's zip of arrays)."


@pytest.mark.parametrize("member, header", [
    ("matrix", {"descr": "<f8", "fortran_order": False, "shape": (10, 10**9)}),
    ("words", {"descr": "<U100", "fortran_order": False, "shape": (10**9,)}),
])
def test_an_npz_member_declaring_more_than_it_holds_is_refused_before_allocating(tmp_path, member, header):
    """np.load allocates the shape a member's header declares before reading it: a 648-byte file
    declaring 80 GB was 'out of memory', exit 1. The declared size is checked against the member's."""
    import io
    import zipfile

    from numpy.lib import format as npy

    from audit.core.npzfile import read_npz
    arrays = {"words": np.array([f"w{i}" for i in range(10)]), "matrix": np.ones((10, 3))}
    path = tmp_path / "lie.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            if name == member:
                npy.write_array_header_1_0(buffer, header)
                buffer.write(bytes(100))
            else:
                np.save(buffer, array)
            archive.writestr(f"{name}.npy", buffer.getvalue())
    with pytest.raises(AuditError, match=rf"its array '{member}' declares [\d,]+ bytes but the archive holds 100"):
        audit.load(path)
    with pytest.raises(AuditError, match=rf"the instances file {path}: its array '{member}' declares"):
        read_npz(path, what="the instances file")
    honest = tmp_path / "honest.npz"
    np.savez_compressed(honest, **arrays)
    assert list(audit.load(honest).words) == list(arrays["words"])
