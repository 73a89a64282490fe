"""Property-based fuzzing of format detection and the loaders (issue 15).

Random bytes, and valid files of every format with random bytes flipped, inserted or cut, are
loaded with ``audit.load``: each load either returns vectors or raises ``AuditError`` (the CLI's
exit 2). Anything else (exit 1), a hang or unbounded memory fails the test. The examples run in
a child process with an address-space limit, so a loader that allocates without bound is
killed there instead of taking the test run with it. Kept under a minute in the default run.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("hypothesis")

CHILD = textwrap.dedent(r'''
    import gzip, io, os, resource, sys, tempfile, time, zipfile
    resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))
    import numpy as np
    from hypothesis import HealthCheck, given, settings, strategies as st
    import audit
    from audit.core.errors import AuditError

    folder = tempfile.mkdtemp()
    rng = np.random.default_rng(0)
    words = ["the", "a", "nan", "NULL", "#", '"', "ate", "eight", "mot", "wörd"]
    matrix = rng.standard_normal((len(words), 5)).astype(np.float32)

    def text(header=True):
        lines = [f"{len(words)} 5"] if header else []
        lines += [w + " " + " ".join(f"{v:.5f}" for v in row) for w, row in zip(words, matrix)]
        return ("\n".join(lines) + "\n").encode("utf-8")

    def binary():
        out = io.BytesIO()
        out.write(f"{len(words)} 5\n".encode())
        for w, row in zip(words, matrix):
            out.write(w.encode("utf-8") + b" " + row.tobytes())
        return out.getvalue()

    def npz():
        out = io.BytesIO()
        np.savez(out, words=np.array(words), matrix=matrix)
        return out.getvalue()

    VALID = {"word2vec.txt": text(True), "glove.txt": text(False), "vectors.bin": binary(),
             "vectors.npz": npz(), "vectors.txt.gz": gzip.compress(text(True))}
    for name, data in VALID.items():    # the unmutated files load
        path = os.path.join(folder, name)
        open(path, "wb").write(data)
        assert len(audit.load(path)) == len(words), name

    outcomes = {"loaded": 0, "refused": 0}

    def attempt(name, data):
        path = os.path.join(folder, "fuzz-" + name)
        with open(path, "wb") as handle:
            handle.write(data)
        started = time.perf_counter()
        try:
            audit.load(path)
            outcomes["loaded"] += 1
        except AuditError as exc:
            text = str(exc)
            assert text and "\n" not in text.strip(), repr(text)
            outcomes["refused"] += 1
        assert time.perf_counter() - started < 10, f"{name}: {time.perf_counter() - started:.1f} s"

    @settings(max_examples=int(sys.argv[1]), deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.binary(max_size=4096))
    def random_bytes(data):
        attempt("random.bin", data)

    @settings(max_examples=int(sys.argv[1]), deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(sorted(VALID)), st.lists(st.tuples(st.sampled_from(["flip", "insert", "cut"]),
                                                              st.integers(0, 10**6), st.integers(0, 255)),
                                                    min_size=1, max_size=6))
    def mutated(name, edits):
        data = bytearray(VALID[name])
        for kind, at, value in edits:
            at = at % max(1, len(data))
            if kind == "flip" and data:
                data[at] = value
            elif kind == "insert":
                data[at:at] = bytes([value])
            elif kind == "cut":
                del data[at:]
        attempt(name, bytes(data))

    random_bytes()
    mutated()
    print(outcomes["loaded"], outcomes["refused"])
''')


def test_loaders_refuse_or_load_every_fuzzed_file():
    done = subprocess.run([sys.executable, "-c", CHILD, "150"], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-4000:]
    loaded, refused = map(int, done.stdout.split())
    assert refused > 0 and loaded + refused >= 300
