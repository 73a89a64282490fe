"""Embeddings by name: ``gensim-data:NAME`` and ``hf:ORG/REPO[/FILE][@REVISION]`` -> a local file.

Every command that reads an embedding accepts, besides a path:

``gensim-data:NAME``
    gensim's downloader catalogue and its local folder (``$GENSIM_DATA_DIR``, else
    ``~/gensim-data``): ``FOLDER/NAME/FILE`` where FILE is the catalogue's ``file_name``
    (``NAME.gz`` for every word-vector model). A file already there is used as it is. When
    missing and downloads are allowed, it is fetched from gensim-data's release assets into the
    same layout gensim uses, each part checked against the catalogue's md5 (gensim's own check),
    and the catalogue is kept as gensim keeps it (``FOLDER/information.json``). The catalogue's
    per-model ``__init__.py`` is fetched too, so the folder stays usable by gensim, but it is
    never run: the data file is read directly.
``hf:ORG/REPO[/FILE][@REVISION]``
    a file of a Hugging Face model repository through ``huggingface_hub`` and its cache
    (``$HF_HUB_CACHE``, ``$HF_HOME/hub`` or the default). ``HF_HUB_OFFLINE=1`` means the cache
    only. Without FILE the repository must hold exactly one embedding file. A gensim native
    ``.model`` file comes with its ``.npy`` side files (it still needs ``--allow-pickle``).

``AUDIT_OFFLINE=1`` turns downloads off for both. A name that cannot be resolved is one
sentence (:class:`AuditError`). :func:`load_embedding` loads a path or a name; :func:`attach` records the name and the revision in the loaded
:class:`~audit.core.vectors.SourceInfo` (the file's sha256 is the loader's).
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from audit.core.errors import AuditError

GENSIM_PREFIX = "gensim-data:"
HF_PREFIX = "hf:"
# The two addresses gensim.downloader uses (DATA_LIST_URL, DOWNLOAD_BASE_URL); copied so that
# resolving a name does not import gensim (~1 s).
GENSIM_DATA_LIST_URL = "https://raw.githubusercontent.com/RaRe-Technologies/gensim-data/master/list.json"
GENSIM_DOWNLOAD_BASE_URL = "https://github.com/RaRe-Technologies/gensim-data/releases/download"
# Files of a repository that can be an embedding (what the loaders read; .model = gensim native).
EMBEDDING_SUFFIXES = (".txt", ".vec", ".bin", ".npz", ".gz", ".bz2", ".model", ".kv", ".w2v", ".glove")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_TRUE = ("1", "true", "yes", "on")


@dataclass(frozen=True)
class ResolvedSource:
    """A name made into a local file."""

    path: Path          # the local file the loader reads
    name: str           # canonical name: gensim-data:NAME, hf:ORG/REPO/FILE@COMMIT
    revision: str = ""  # the Hub commit; "" for gensim-data (its files are not versioned)
    downloaded: bool = False


def is_name(spec: str | os.PathLike) -> bool:
    """True when ``spec`` is an embedding name rather than a path (an existing file wins)."""
    text = str(spec)
    return text.startswith((GENSIM_PREFIX, HF_PREFIX)) and not Path(text).exists()


def offline(hub: bool = False) -> bool:
    """Downloads are off: ``AUDIT_OFFLINE`` (both sources) or ``HF_HUB_OFFLINE`` (the Hub)."""
    names = ("AUDIT_OFFLINE", "HF_HUB_OFFLINE") if hub else ("AUDIT_OFFLINE",)
    return any(os.environ.get(n, "").strip().lower() in _TRUE for n in names)


def resolve(spec: str) -> ResolvedSource:
    """The local file for an embedding name (see the module docstring)."""
    if spec.startswith(GENSIM_PREFIX):
        return resolve_gensim_data(spec[len(GENSIM_PREFIX):])
    if spec.startswith(HF_PREFIX):
        return resolve_hf(spec[len(HF_PREFIX):])
    raise AuditError(f"{spec!r} is not an embedding name (gensim-data:NAME or hf:ORG/REPO[/FILE][@REVISION]).")


def load_embedding(spec: str | os.PathLike, **options):
    """:func:`audit.core.loaders.load` for a path or a name: a name is resolved to its local file
    first and recorded, with its revision, in the loaded source. ``options`` go to the loader."""
    from audit.core.loaders import load

    resolved = resolve(str(spec)) if is_name(spec) else None
    vectors = load(resolved.path if resolved else spec, **options)
    return attach(vectors, resolved) if resolved else vectors


def attach(vectors, resolved: ResolvedSource):
    """``vectors`` with the name and revision recorded in its source (same arrays, no copy)."""
    from audit.core.vectors import Vectors

    source = dataclasses.replace(vectors.source, name=resolved.name, revision=resolved.revision)
    return Vectors(vectors.words, vectors.matrix, source, copy=False, key_to_index=vectors.key_to_index,
                   norms=vectors.norms)


# ---------------------------------------------------------------------------- gensim-data
def gensim_data_dir() -> Path:
    """gensim's data folder: ``$GENSIM_DATA_DIR``, else ``~/gensim-data`` (read at each call)."""
    return Path(os.environ.get("GENSIM_DATA_DIR") or "~/gensim-data").expanduser()


def resolve_gensim_data(name: str) -> ResolvedSource:
    if not _NAME.fullmatch(name):
        raise AuditError(f"gensim-data:{name} is not a gensim-data name (such as glove-wiki-gigaword-50).")
    base = gensim_data_dir()
    folder = base / name
    catalogue = _read_catalogue(base)
    entry = _catalogue_entry(catalogue, name) if catalogue else None
    if entry is not None and entry[0] == "corpora":
        raise AuditError(f"gensim-data:{name} is a corpus in gensim's catalogue, not word vectors.")
    if folder.is_dir():
        return ResolvedSource(_data_file(folder, name, entry), f"{GENSIM_PREFIX}{name}")
    if offline():
        raise AuditError(f"gensim-data:{name} is not in {base} and downloads are off (AUDIT_OFFLINE); "
                         f"download it once online or set GENSIM_DATA_DIR to the folder that holds it.")
    if catalogue is None or entry is None:
        catalogue = _fetch_catalogue(base)
        entry = _catalogue_entry(catalogue, name)
    if entry is None:
        known = sorted(catalogue.get("models", {}))
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]}?" if close else f" (models: {', '.join(known[:8])} ...)."
        raise AuditError(f"gensim-data:{name} is not in gensim's catalogue{hint}")
    if entry[0] == "corpora":
        raise AuditError(f"gensim-data:{name} is a corpus in gensim's catalogue, not word vectors.")
    _download_gensim_model(base, name, entry[1])
    return ResolvedSource(_data_file(folder, name, entry), f"{GENSIM_PREFIX}{name}", downloaded=True)


def _read_catalogue(base: Path) -> dict | None:
    path = base / "information.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        raise AuditError(f"{path} (gensim's catalogue) is not readable JSON.") from None
    return data if isinstance(data, dict) else None


def _catalogue_entry(catalogue: dict, name: str) -> tuple[str, dict] | None:
    for section in ("models", "corpora"):
        entry = catalogue.get(section, {}).get(name)
        if isinstance(entry, dict):
            return section, entry
    return None


def _data_file(folder: Path, name: str, entry) -> Path:
    """The data file in gensim's folder for NAME: the catalogue's file name, else NAME.gz, else
    the folder's only file that is not gensim's loader script."""
    wanted = entry[1].get("file_name") if entry else None
    for candidate in filter(None, (wanted, f"{name}.gz")):
        if (folder / candidate).is_file():
            return folder / candidate
    others = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix not in (".py", ".pyc", ".part"))
    if len(others) == 1:
        return others[0]
    raise AuditError(f"{folder} holds {'no data file' if not others else 'several files'} for gensim-data:{name}"
                     f"{'' if not others else ' (' + ', '.join(p.name for p in others[:5]) + ')'}; "
                     f"expected {wanted or name + '.gz'}.")


def _fetch_catalogue(base: Path) -> dict:
    from audit.core.datadir import download

    target = base / "information.json"
    download(GENSIM_DATA_LIST_URL, target, desc="gensim-data catalogue")
    catalogue = _read_catalogue(base)
    if catalogue is None:
        raise AuditError(f"gensim's catalogue {GENSIM_DATA_LIST_URL} is not a JSON object.")
    return catalogue


def _download_gensim_model(base: Path, name: str, entry: dict) -> None:
    """gensim.downloader._download's layout and md5 checks, with our atomic, progress-showing
    download: parts NAME.gz_0K (checksum-K) or one NAME.gz (checksum), then NAME/ renamed into place."""
    from audit.core.datadir import download

    file_name = entry.get("file_name") or f"{name}.gz"
    parts = int(entry.get("parts") or 1)
    base.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=base))
    try:
        url = f"{GENSIM_DOWNLOAD_BASE_URL}/{name}"
        download(f"{url}/__init__.py", staging / "__init__.py", desc=f"{name} loader script (not run)")
        if parts == 1:
            pieces = [(f"{url}/{name}.gz", staging / file_name, entry.get("checksum"))]
        else:
            pieces = [(f"{url}/{name}.gz_0{k}", staging / f"{name}.gz_0{k}", entry.get(f"checksum-{k}"))
                      for k in range(parts)]
        for address, target, md5 in pieces:
            download(address, target, desc=f"gensim-data:{name}" + (f" part {target.suffix}" if parts > 1 else ""))
            got = _md5(target)
            if md5 and got != md5:
                raise AuditError(f"gensim-data:{name}: {target.name} has md5 {got}, but gensim's catalogue "
                                 f"says {md5}; nothing was kept.")
        if parts > 1:
            with open(staging / file_name, "wb") as joined:
                for _, target, _ in pieces:
                    with open(target, "rb") as piece:
                        shutil.copyfileobj(piece, joined)
                    target.unlink()
        os.replace(staging, base / name)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# ------------------------------------------------------------------------------ Hugging Face
@dataclass(frozen=True)
class HubName:
    repo_id: str
    filename: str | None
    revision: str | None


def parse_hf(text: str) -> HubName:
    """``ORG/REPO[/FILE][@REVISION]`` (FILE may be in subfolders)."""
    body, _, revision = text.partition("@")
    parts = body.strip("/").split("/")
    if len(parts) < 2 or not all(_NAME.fullmatch(p) for p in parts[:2]) or "@" in revision \
            or (revision == "" and text.endswith("@")) or any(p in ("", ".", "..") for p in parts[2:]):
        raise AuditError(f"hf:{text} is not a Hugging Face name; write hf:ORG/REPO[/FILE][@REVISION].")
    return HubName("/".join(parts[:2]), "/".join(parts[2:]) or None, revision or None)


def hub_cache_dir() -> Path:
    """huggingface_hub's cache, read at each call: $HF_HUB_CACHE, $HF_HOME/hub, ~/.cache/huggingface/hub."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME") or "~/.cache", "huggingface")
    return Path(home).expanduser() / "hub"


def resolve_hf(text: str) -> ResolvedSource:
    name = parse_hf(text)
    local_only = offline(hub=True)
    cache = hub_cache_dir()
    try:
        import huggingface_hub  # optional at import time: only names need it
        from huggingface_hub import errors as hub_errors
    except ImportError:
        raise AuditError("hf: names need the huggingface_hub package (pip install huggingface_hub).") from None
    from audit.core.progress import enabled as bars_enabled
    if not bars_enabled():   # the Hub draws its own tqdm bars: only where ours would be drawn
        from huggingface_hub.utils import disable_progress_bars
        disable_progress_bars()
    filename = name.filename or _only_embedding_file(name, cache, local_only)
    try:
        path = Path(huggingface_hub.hf_hub_download(name.repo_id, filename, revision=name.revision,
                                                    cache_dir=cache, local_files_only=local_only))
        if filename.endswith((".model", ".kv")):
            for sibling in _siblings(name, filename, path, local_only):
                huggingface_hub.hf_hub_download(name.repo_id, sibling, revision=name.revision, cache_dir=cache,
                                                local_files_only=local_only)
    except hub_errors.LocalEntryNotFoundError:
        where = f"hf:{name.repo_id}/{filename}" + (f"@{name.revision}" if name.revision else "")
        raise AuditError(f"{where} is not in the Hugging Face cache {cache} and downloads are off "
                         f"({_offline_switch()}); download it once online or point HF_HUB_CACHE at a cache "
                         "that holds it.") from None
    except hub_errors.RepositoryNotFoundError:
        raise AuditError(f"hf:{name.repo_id} is not a Hugging Face repository you can read.") from None
    except hub_errors.RevisionNotFoundError:
        raise AuditError(f"hf:{name.repo_id} has no revision {name.revision!r}.") from None
    except hub_errors.EntryNotFoundError:
        raise AuditError(f"hf:{name.repo_id} has no file {filename!r}"
                         + (f" at revision {name.revision!r}." if name.revision else ".")) from None
    except (hub_errors.HfHubHTTPError, OSError, ValueError) as exc:
        raise AuditError(f"hf:{text} could not be fetched ({_one_line(exc)}).") from None
    commit = _commit_of(path, cache)
    return ResolvedSource(path, f"{HF_PREFIX}{name.repo_id}/{filename}@{commit or name.revision or 'main'}",
                          revision=commit)


def _offline_switch() -> str:
    return "AUDIT_OFFLINE" if offline() else "HF_HUB_OFFLINE"


def _commit_of(path: Path, cache: Path) -> str:
    """The commit a cached file belongs to: ``.../snapshots/<commit>/FILE``."""
    parts = path.parts
    if "snapshots" in parts:
        index = len(parts) - 1 - parts[::-1].index("snapshots")
        if index + 1 < len(parts):
            return parts[index + 1]
    return ""


def _repo_files(name: HubName, cache: Path, local_only: bool) -> list[str]:
    from huggingface_hub import errors as hub_errors

    if local_only:
        snapshot = _cached_snapshot(name, cache)
        if snapshot is None:
            raise AuditError(f"hf:{name.repo_id}" + (f"@{name.revision}" if name.revision else "")
                             + f" is not in the Hugging Face cache {cache} and downloads are off "
                               f"({_offline_switch()}); download it once online or point HF_HUB_CACHE at a "
                               "cache that holds it.")
        return sorted(p.relative_to(snapshot).as_posix() for p in snapshot.rglob("*") if p.is_file())
    from huggingface_hub import HfApi
    try:
        return sorted(HfApi().list_repo_files(name.repo_id, revision=name.revision))
    except hub_errors.RepositoryNotFoundError:
        raise AuditError(f"hf:{name.repo_id} is not a Hugging Face repository you can read.") from None
    except hub_errors.RevisionNotFoundError:
        raise AuditError(f"hf:{name.repo_id} has no revision {name.revision!r}.") from None
    except (hub_errors.HfHubHTTPError, OSError, ValueError) as exc:
        raise AuditError(f"hf:{name.repo_id}: its file list could not be read ({_one_line(exc)}).") from None


def _cached_snapshot(name: HubName, cache: Path) -> Path | None:
    repo = cache / ("models--" + name.repo_id.replace("/", "--"))
    revision = name.revision or "main"
    ref = repo / "refs" / revision
    commit = ref.read_text(encoding="utf-8").strip() if ref.is_file() else revision
    snapshot = repo / "snapshots" / commit
    return snapshot if snapshot.is_dir() else None


def _only_embedding_file(name: HubName, cache: Path, local_only: bool) -> str:
    files = _repo_files(name, cache, local_only)
    candidates = [f for f in files if f.lower().endswith(EMBEDDING_SUFFIXES)
                  and Path(f).name.lower() not in ("readme.txt", "license.txt", "requirements.txt")]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise AuditError(f"hf:{name.repo_id} has no embedding file ({', '.join(EMBEDDING_SUFFIXES)}); "
                         "name one: hf:ORG/REPO/FILE.")
    shown = ", ".join(candidates[:5]) + (" ..." if len(candidates) > 5 else "")
    raise AuditError(f"hf:{name.repo_id} has {len(candidates)} embedding files ({shown}); "
                     f"name one: hf:{name.repo_id}/{candidates[0]}.")


def _siblings(name: HubName, filename: str, path: Path, local_only: bool) -> list[str]:
    """A gensim native save's side files (FILE.vectors.npy ...) from the repository's list."""
    if local_only:
        return []   # hf_hub_download put the snapshot's files side by side; nothing to fetch
    files = _repo_files(name, path.parent, local_only=False)
    return [f for f in files if f.startswith(filename + ".") and f.endswith(".npy")]


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__).rstrip(".")
