"""Options and helpers shared by the subcommands."""

from __future__ import annotations

import argparse

from audit.core.results import shown


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", metavar="PATH", dest="json_out",
                        help="also write the result as JSON to PATH")


def add_vector_options(parser: argparse.ArgumentParser) -> None:
    """The loader options every command that reads an embedding file accepts."""
    group = parser.add_argument_group("reading the embedding file")
    group.add_argument("--format", choices=("word2vec-text", "glove-text", "word2vec-bin", "fasttext-bin", "npz",
                                            "gensim", "pickle"), help="skip detection and read this format")
    group.add_argument("--limit", type=int, metavar="N", help="read only the first N words")
    group.add_argument("--lowercase", action="store_true", help="lowercase the embedding's words")
    group.add_argument("--duplicates", default="error", choices=("error", "keep-first", "keep-last"),
                       help="what to do with a word that appears twice (default: error)")
    group.add_argument("--nonfinite", default="reject", choices=("reject", "exclude"),
                       help="NaN/inf values: reject the file (default) or load the rows and exclude "
                            "them from every similarity")
    group.add_argument("--allow-pickle", action="store_true",
                       help="allow reading pickles (gensim native files, pickled dicts); a pickle can run code")
    group.add_argument("--cache-dir", metavar="DIR",
                       help="keep a parsed binary copy of text and binary files here; a repeat load of the "
                            "same unchanged file with the same options maps it back in")
    group.add_argument("--unicode-errors", default="strict", choices=("strict", "replace", "ignore"),
                       help="a word that is not UTF-8: an error (default), its bad bytes replaced by U+FFFD, "
                            "or dropped (as gensim's unicode_errors); the count is recorded in the source")


def load_vectors(args: argparse.Namespace, path: str):
    """Load a path, or a name (gensim-data:NAME, hf:ORG/REPO[/FILE][@REVISION]) resolved to a
    local file first; a name is recorded in the source with its revision."""
    from audit.core.sources import load_embedding

    options = {}
    if getattr(args, "unicode_errors", None) is not None:   # --unicode-errors, where a command offers it
        options["unicode_errors"] = args.unicode_errors
    return load_embedding(path, format=args.format, limit=args.limit, case="lower" if args.lowercase else "keep",
                          duplicates=args.duplicates, nonfinite=args.nonfinite, allow_pickle=args.allow_pickle,
                          cache_dir=args.cache_dir, **options)


JSON_TARGETS = (("json_out", "--json"), ("raw_json", "--raw-json"))


def check_json_targets(args: argparse.Namespace) -> None:
    """Fail before any work when a JSON output path cannot be written (a folder, or a file in a
    folder that does not exist), instead of after printing a long audit."""
    for attribute, option in JSON_TARGETS:
        if getattr(args, attribute, None) is not None:
            check_json_target(getattr(args, attribute), option, inputs=input_paths(args),
                              folders=input_folders(args))


INPUT_ATTRIBUTES = ("vectors", "instances", "frames", "pairs", "agwe", "claims", "config")


def input_paths(args: argparse.Namespace) -> list[str]:
    """Every file path the command reads, so that no output can overwrite one of them."""
    paths = []
    for attribute in INPUT_ATTRIBUTES:
        value = getattr(args, attribute, None)
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(item, str) and item:
                paths.append(item)
    return paths


# Folders a command reads or writes, and how the user named them: no JSON output goes inside one
# (it would overwrite a benchmark file or a transcript, or be written into a report or training
# run that the command then replaces or that a later run refuses as not its own).
INPUT_FOLDERS = (("out", "--out"), ("directory", "DIR"), ("data_dir", "--data-dir"), ("corpus_root", "--corpus-root"),
                 ("counts_cache", "--counts-cache"), ("raw_corpus", "--raw-corpus"), ("wav2vec2", "--wav2vec2"),
                 ("speech", "--speech"), ("cache_dir", "--cache-dir"), ("work_dir", "--work-dir"), ("root", "--root"))


def input_folders(args: argparse.Namespace) -> list[tuple[str, str]]:
    """(folder, option) for every folder the command reads or writes; the data directory also
    when it is the default one (``--data-dir`` not given)."""
    from audit.core.datadir import data_dir

    folders = []
    for attribute, option in INPUT_FOLDERS:
        if not hasattr(args, attribute):
            continue
        value = getattr(args, attribute)
        if attribute == "data_dir":
            folders.append((str(data_dir(value)), "--data-dir" if value else "the data directory"))
            continue
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(item, str) and item and not (attribute == "raw_corpus" and item == "embedded"):
                folders.append((item, option))
    return folders


def check_json_target(target, option: str = "--json", inputs=(), folders=()) -> None:
    from audit.core.files import check_output_file
    check_output_file(target, inputs=inputs, folders=folders, what=option)


def write_json(args: argparse.Namespace, result) -> None:
    """Write ``--json`` if asked (checked again here: the folder may have changed since the
    start); atomic, so no partial file either way."""
    target = getattr(args, "json_out", None)
    if target is None:
        return
    from audit.core.results import write_json_atomic
    write_json_atomic(target, result, inputs=input_paths(args), folders=input_folders(args), what="--json")


def format_table(headers: list[str], rows: list[list], align: str | None = None) -> str:
    """A plain-text table; ``align`` has one of 'l'/'r' per column (default: text left, numbers right)."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], len(c))
    if align is None:
        align = "".join("r" if rows and isinstance(rows[0][i], (int, float)) else "l" for i in range(len(headers)))
    def fmt(row):
        return "  ".join(c.rjust(w) if a == "r" else c.ljust(w) for c, w, a in zip(row, widths, align)).rstrip()
    lines = [fmt(headers), "  ".join("-" * w for w in widths)]
    lines += [fmt(r) for r in cells]
    return "\n".join(lines)


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value != value:
            return "-"
        return f"{value:.4g}" if abs(value) >= 1e4 or (value != 0 and abs(value) < 1e-3) else f"{value:.3f}"
    if isinstance(value, int):
        return f"{value:,}"
    return shown(str(value))     # a newline in a name or word would break the table
