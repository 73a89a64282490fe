"""What an output target may be (audit.core.files.check_output_file), case by case."""

from __future__ import annotations

import os

import pytest

from audit.core.errors import AuditError
from audit.core.files import atomic_write_text, check_output_file


def test_a_new_file_in_an_existing_folder_is_fine(tmp_path):
    assert check_output_file(tmp_path / "out.json") == tmp_path / "out.json"


def test_a_target_inside_a_folder_the_command_uses_is_refused(tmp_path):
    data = tmp_path / "data"
    (data / "word-sim").mkdir(parents=True)
    for target in (data / "word-sim" / "EN-RG-65.txt", data / "new.json", data):
        with pytest.raises(AuditError, match=r"lies inside .*data \(--data-dir\), which this command reads"):
            check_output_file(target, folders=[(data, "--data-dir")])


def test_a_sibling_folder_sharing_the_name_prefix_is_not_inside(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data2").mkdir()
    check_output_file(tmp_path / "data2" / "out.json", folders=[(tmp_path / "data", "--data-dir")])


def test_a_folder_reached_through_a_link_is_still_inside(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (tmp_path / "alias").symlink_to(corpus)
    with pytest.raises(AuditError, match="--corpus-root"):
        check_output_file(tmp_path / "alias" / "x.json", folders=[(corpus, "--corpus-root")])
    with pytest.raises(AuditError, match="--corpus-root"):
        check_output_file(corpus / "x.json", folders=[(tmp_path / "alias", "--corpus-root")])


def test_an_input_is_refused_and_an_empty_path_named(tmp_path):
    source = tmp_path / "v.txt"
    source.write_text("x\n", encoding="utf-8")
    os.link(source, tmp_path / "hard.txt")
    with pytest.raises(AuditError, match="is one of the inputs"):
        check_output_file(tmp_path / "hard.txt", inputs=[source])
    with pytest.raises(AuditError, match="empty path"):
        check_output_file("", what="--json")


def test_a_refused_write_leaves_the_folder_as_it_was(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "keep.txt").write_text("mine\n", encoding="utf-8")
    with pytest.raises(AuditError):
        atomic_write_text(data / "keep.txt", "{}", folders=[(data, "--data-dir")])
    assert [p.name for p in data.iterdir()] == ["keep.txt"]
    assert (data / "keep.txt").read_text(encoding="utf-8") == "mine\n"

