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



def test_output_folders_that_failed_only_after_all_the_work_are_refused_first_or_named(tmp_path, run_cli, caplog):
    """From a filesystem review: `--out` below a file, `--out` a mount point, `--cache-dir` inside
    `--out` failed after every check had run (exit 1, or exit 2 with the cache left inside), and a
    read-only place gave an internal error: each is now one sentence, exit 2, nothing written."""
    import os
    vectors = tmp_path / "v.txt"
    vectors.write_text("2 3\na 1 2 3\nb 4 5 6\n", encoding="utf-8")
    (tmp_path / "k.txt").write_text("mine\n", encoding="utf-8")
    code, _, err = run_cli("--quiet", "all", vectors, "--out", tmp_path / "k.txt" / "rep")
    assert code == 2 and "cannot be made:" in err and "k.txt is a file, not a folder" in err
    code, _, err = run_cli("--quiet", "all", vectors, "--out", tmp_path / "rep5", "--cache-dir", tmp_path / "rep5" / "c")
    assert code == 2 and "is inside the output folder" in err and not (tmp_path / "rep5").exists()
    code, out, err = run_cli("--quiet", "info", vectors, "--cache-dir", tmp_path / "k.txt" / "c")
    assert code == 0 and "could not write the cache in" in caplog.text   # the cache only warns
    assert (tmp_path / "k.txt").read_text() == "mine\n"


def test_an_output_folder_that_is_a_mount_point_is_refused_before_any_work(tmp_path, run_cli):
    """A mount point (a Docker volume) cannot be renamed: the swap failed with EBUSY after all the
    work and left an empty .NAME.old-XXXX folder beside it."""
    import os
    import subprocess
    mount = tmp_path / "mp"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                                           capture_output=True).returncode != 0:
        pytest.skip("needs root and tmpfs to make a mount point")
    try:
        vectors = tmp_path / "v.txt"
        vectors.write_text("2 3\na 1 2 3\nb 4 5 6\n", encoding="utf-8")
        code, _, err = run_cli("--quiet", "all", vectors, "--out", mount)
        assert code == 2 and "is a mount point" in err, err
        assert sorted(p.name for p in tmp_path.iterdir()) == ["mp", "v.txt"] and list(mount.iterdir()) == []
    finally:
        subprocess.run(["umount", str(mount)], check=True)
    # a bind mount on the same filesystem (os.path.ismount misses it: same device) is refused too
    source = tmp_path / "src"
    source.mkdir()
    subprocess.run(["mount", "--bind", str(source), str(mount)], check=True)
    try:
        code, _, err = run_cli("--quiet", "all", vectors, "--out", mount)
        assert code == 2 and "is a mount point" in err, err
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_file_name_with_undecodable_bytes_is_audited_and_shown_escaped(tmp_path, run_cli):
    """A file named with bytes that are not UTF-8 (b'\\xff\\xfe.txt') made every JSON write fail
    (UnicodeEncodeError: surrogates not allowed) and the figures crash: exit 1. The name's bytes are
    written as \\xff in results, tables and figures."""
    import json
    import os
    name = os.fsdecode(b"\xff\xfe.txt")
    vectors = tmp_path / name
    rows = [f"w{i} {i % 3} {i % 5} {i % 7}" for i in range(20)]
    vectors.write_text("20 3\n" + "\n".join(rows) + "\n", encoding="utf-8")
    code, _, err = run_cli("info", vectors, "--json", tmp_path / "info.json")
    assert code == 0, err
    recorded = json.loads((tmp_path / "info.json").read_text(encoding="utf-8"))["input"]["path"]
    assert recorded.endswith("\\xff\\xfe.txt")
    code, _, err = run_cli("--quiet", "all", vectors, "--out", tmp_path / "report")
    assert code == 0, err
    assert "\\\\xff\\\\xfe.txt" in (tmp_path / "report" / "report.md").read_text(encoding="utf-8")


def test_a_long_output_name_the_filesystem_takes_is_written(tmp_path, run_cli):
    """A --json name of 245-255 bytes was refused as too long: its temporary name ('.NAME.XXXXXXXX.part')
    was longer than the target's; the temporary name now cuts NAME to 200 bytes."""
    vectors = tmp_path / "v.txt"
    vectors.write_text("2 3\na 1 2 3\nb 4 5 6\n", encoding="utf-8")
    for name in ("j" * 250 + ".json", "\u00e9" * 125 + ".json"):     # 255 bytes, ASCII and two-byte letters
        target = tmp_path / name
        code, _, err = run_cli("info", vectors, "--json", target)
        assert code == 0 and target.is_file(), err
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_a_file_name_with_a_newline_is_shown_escaped_and_told_apart(tmp_path, run_cli):
    """A name with a newline broke `audit info`'s table and read in the report as a space, like
    another file whose name has a space there: tables and names write it as \\n."""
    newline, space = tmp_path / "new\nline.txt", tmp_path / "new line.txt"
    rows = [f"w{i} {i % 3} {i % 5} {i % 7}" for i in range(20)]
    for path in (newline, space):
        path.write_text("20 3\n" + "\n".join(rows) + "\n", encoding="utf-8")
    code, out, err = run_cli("info", newline)
    assert code == 0, err
    file_row = next(line for line in out.splitlines() if line.startswith("file"))
    assert file_row.endswith("new\\nline.txt")
    code, _, err = run_cli("--quiet", "all", newline, space, "--out", tmp_path / "report")
    assert code == 0, err
    report = (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    assert "new\\\\nline.txt" in report and "new line.txt" in report
