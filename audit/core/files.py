"""Output files, written safely: whole or not at all, and never onto something not ours to replace.

Every file the tool writes goes through :func:`atomic_write`: the content is written to a
uniquely named hidden file beside the target (``.NAME.XXXX.part``), then renamed over the
target, so a reader never sees a half-written file and a failure leaves nothing behind.

:func:`check_output_file` states what may be replaced: a new path in an existing folder, or an
existing regular file that is not one of the command's inputs. A symbolic link, a folder, a
FIFO or a device is refused (renaming over a link would replace the link, not the file it
names, and writing through it could reach anything), and so is a target that is an input or
lies inside a folder the command reads or writes (a benchmark folder, a corpus, a report being
written: a new file there would overwrite what is read, or be taken for part of it).
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from audit.core.errors import AuditError


def check_output_file(path: str | os.PathLike, *, inputs: Iterable[str | os.PathLike] = (),
                      folders: Iterable[tuple[str | os.PathLike, str]] = (), what: str = "output") -> Path:
    """Refuse a target that cannot be replaced safely; return it as a Path. ``folders``: (folder,
    what names it) for each folder the command reads or writes; a target inside one is refused."""
    if not os.fspath(path):
        raise AuditError(f"{what} was given an empty path; give a file path.")
    path = Path(path)
    for folder, option in folders:
        if _inside(path, folder):
            raise AuditError(f"{what} {path} lies inside {folder} ({option}), which this command reads or writes; "
                             f"write it elsewhere.")
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        status = None
    except OSError as exc:
        raise AuditError(f"cannot write {what} {path} ({exc.strerror}).") from None
    if status is not None:
        if stat.S_ISLNK(status.st_mode):
            raise AuditError(f"{what} {path} is a symbolic link; give the path of a regular file instead.")
        if stat.S_ISDIR(status.st_mode):
            raise AuditError(f"{what} {path} is a directory; give a file path.")
        if not stat.S_ISREG(status.st_mode):
            raise AuditError(f"{what} {path} is not a regular file (a pipe, socket or device); "
                             f"give a file path.")
        for source in inputs:
            if _same_file(path, source):
                raise AuditError(f"{what} {path} is one of the inputs; it would be overwritten.")
    if not path.parent.is_dir():
        raise AuditError(f"cannot write {what} {path}: the folder {path.parent} does not exist.")
    return path


def _inside(path: Path, folder: str | os.PathLike) -> bool:
    """Whether ``path`` is ``folder`` or lies under it, links resolved (the target's own name is
    not followed: a link there is refused on its own)."""
    target = os.path.join(os.path.realpath(path.parent), path.name)
    root = os.path.realpath(folder)
    try:
        return os.path.commonpath([target, root]) == root
    except ValueError:   # different drives
        return False


def _same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def temporary_file(path: Path, suffix: str = ".part") -> tuple[int, Path]:
    """A new hidden file beside ``path``, ``.NAME.XXXXXXXX<suffix>``, open (its descriptor) and ours
    alone: made with O_EXCL, so never through a link someone left there, and never shared by two
    writers. NAME is cut to 200 bytes so that the name fits where the target's does (255 bytes; a
    250-byte --json name was refused as too long). Every writer of the project makes its temporary
    files here."""
    stem = os.fsdecode(os.fsencode(path.name)[:200])
    fd, name = tempfile.mkstemp(prefix=f".{stem}.", suffix=suffix, dir=path.parent)
    return fd, Path(name)


def atomic_write(path: str | os.PathLike, write: Callable[[Any], None], *, binary: bool = True,
                 inputs: Iterable[str | os.PathLike] = (), folders: Iterable[tuple[str | os.PathLike, str]] = (),
                 what: str = "output") -> Path:
    """Call ``write(handle)`` on a temporary file beside ``path``, then rename it into place."""
    path = check_output_file(path, inputs=inputs, folders=folders, what=what)
    try:
        fd, tmp = temporary_file(path)
    except OSError as exc:
        raise AuditError(f"cannot write {what} {path} ({exc.strerror}).") from None
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)   # mkstemp makes it private; an output file is not
        with (os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="")) as handle:
            write(handle)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise AuditError(f"cannot write {what} {path} ({exc.strerror or exc}).") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str, **options) -> Path:
    """Write UTF-8 text atomically (see :func:`atomic_write` for ``inputs``, ``folders`` and ``what``)."""
    return atomic_write(path, lambda handle: handle.write(text), binary=False, **options)


def atomic_write_json(path: str | os.PathLike, payload: Any, **options) -> Path:
    """Write a JSON document (indent 2, UTF-8, no NaN) atomically."""
    text = json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return atomic_write_text(path, text, **options)


def atomic_write_npz(path: str | os.PathLike, arrays: dict, *, compressed: bool = False, **options) -> Path:
    """Write an .npz archive of ``arrays`` atomically (no pickled objects: plain arrays only)."""
    save = np.savez_compressed if compressed else np.savez
    return atomic_write(path, lambda handle: save(handle, **arrays), **options)


def read_json(path: str | os.PathLike, what: str = "JSON file") -> Any:
    """The parsed JSON document at ``path``; a missing or malformed file is one sentence."""
    try:
        with open(path, encoding="utf-8-sig") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise AuditError(f"{what} {path} does not exist.") from None
    except IsADirectoryError:
        raise AuditError(f"{what} {path} is a directory, not a file.") from None
    except OSError as exc:
        raise AuditError(f"cannot read {what} {path} ({exc.strerror}).") from None
    except (UnicodeDecodeError, ValueError):
        raise AuditError(f"{what} {path} is not valid UTF-8 JSON.") from None
    except RecursionError:   # '[[[[...' 100,000 deep: Python's parser recurses per level
        raise AuditError(f"{what} {path} nests its values too deeply to be read.") from None
