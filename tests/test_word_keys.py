"""audit.core.vectors.word_keys: order-free word keys (the homophone check's random-pair draw)."""

from __future__ import annotations

import numpy as np


def test_word_keys_match_a_plain_python_hash_across_blocks(monkeypatch):
    """The order-free keys (random-pair draw) equal the polynomial hash computed byte by byte,
    in every block and across block ends; words that cannot be joined give None."""
    import audit.core.vectors as module
    monkeypatch.setattr(module, "WORD_KEY_BLOCK", 7)
    rng = np.random.default_rng(11)
    alphabet = list("abcdefghijklmnopqrstuvwxyz'-") + ["é", "ß", "日本", "🙂"]
    words = ["".join(rng.choice(alphabet, size=rng.integers(1, 12))) for _ in range(40)]

    def reference(word):
        key, power = 0, 1
        for byte in word.encode("utf-8"):
            power = power * 1_000_003 % 2**64
            key = (key + power * (byte + 1)) % 2**64
        return key

    assert module.word_keys(words).tolist() == [reference(w) for w in words]
    assert module.word_keys(words[:20] + [""] + words[20:]) is None
    assert module.word_keys(words[:20] + ["two\nlines"] + words[20:]) is None
