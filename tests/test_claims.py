"""audit.core.claims: claims files in TOML and JSON, validated field by field."""

from __future__ import annotations

import json

import pytest

from audit.core.claims import load_claims
from audit.core.errors import AuditError

TOML = '''
[[embedding]]
name = "released"
kind = "speech"
corpus = "librispeech"
subsets = ["train-clean-100", "train-clean-360"]
min_count = 5
dim = 50
benchmarks = "speech2vec-paper"
source = "Chung and Glass (2018)"

[[embedding]]
name = "text model"
kind = "text"
benchmarks = { MEN = 0.62, "SimLex-999" = -0.1 }
'''


def test_toml_and_json_give_the_same_claims(tmp_path):
    toml_path = tmp_path / "claims.toml"
    toml_path.write_text(TOML, encoding="utf-8")
    from_toml = load_claims(toml_path)
    import tomllib
    json_path = tmp_path / "claims.json"
    json_path.write_text(json.dumps(tomllib.loads(TOML)), encoding="utf-8")
    from_json = load_claims(json_path)
    assert from_toml.claims == from_json.claims
    released = from_toml.for_name("released")
    assert released.kind == "speech" and released.subsets == ("train-clean-100", "train-clean-360")
    assert released.min_count == 5 and released.dim == 50 and released.benchmark_set == "speech2vec-paper"
    assert from_toml.for_name("text model").benchmark_scores == {"MEN": 0.62, "SimLex-999": -0.1}
    assert from_toml.for_name("nobody") is None
    assert len(from_toml.sha256) == 64


@pytest.mark.parametrize("entry, message", [
    ({"name": "a", "knid": "speech"}, "unknown field 'knid'; did you mean 'kind'"),
    ({"name": "a", "kind": "audio"}, "kind must be one of speech, text"),
    ({"kind": "text"}, "'name'"),
    ({"name": "a", "min_count": 0}, "min_count must be at least 1"),
    ({"name": "a", "min_count": True}, "min_count must be a whole number"),
    ({"name": "a", "dim": "50"}, "dim must be a whole number"),
    ({"name": "a", "subsets": []}, "non-empty list"),
    ({"name": "a", "benchmarks": {"MEN": 1.5}}, "number in [-1, 1]"),
    ({"name": "a", "benchmarks": 3}, "name of a claimed set or a table"),
])
def test_bad_claims_are_one_sentence(tmp_path, entry, message):
    path = tmp_path / "claims.json"
    path.write_text(json.dumps({"embedding": [entry]}), encoding="utf-8")
    with pytest.raises(AuditError) as caught:
        load_claims(path)
    assert message in str(caught.value)


@pytest.mark.parametrize("content, message", [
    ("{", "not valid JSON"), ("{}", "no [[embedding]] entries"),
    ('{"embedding": [{"name": "a"}, {"name": "a"}]}', "names 'a' twice"),
])
def test_bad_files(tmp_path, content, message):
    path = tmp_path / "claims.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(AuditError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_claims(path)


def test_a_folder_or_missing_file_is_refused(tmp_path):
    with pytest.raises(AuditError, match="is not a file"):
        load_claims(tmp_path)
    with pytest.raises(AuditError, match="is not a file"):
        load_claims(tmp_path / "absent.json")
