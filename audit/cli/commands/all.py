"""`audit all VECTORS [VECTORS ...] --out DIR`: every applicable check, one report.

Each embedding gets every check whose inputs are available: info and homophones always,
benchmarks when a data dir holds the benchmark files, vocabulary provenance with
``--corpus-root``, and for a reproduction's output folder its ``history.json`` (learning
curves), ``instances.npz`` (acoustic metrics, MDS). A check that cannot run is recorded as
skipped with its reason. Everything is computed before anything is written; the folder is
then written beside its final place and renamed into it, so a failure leaves no partial report.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from audit.cli.common import add_json_option, add_vector_options, format_table, load_vectors, write_json
from audit.core.errors import AuditError

# Fig. 4's word pairs. Homophone panels: the pairs the homophone check found, the paper's
# examples first, then the pairs with the most spoken instances. Different-sounding panels: the
# paper's "need / thus" and a few common pairs, else the two most frequent words.
MDS_HOMOPHONES = (("ate", "eight"), ("meat", "meet"), ("sea", "see"), ("know", "no"), ("tale", "tail"),
                  ("peace", "piece"), ("made", "maid"), ("steal", "steel"), ("whine", "wine"), ("hail", "hale"))
MDS_DIFFERENT = (("need", "thus"), ("time", "people"), ("first", "little"), ("said", "would"))
MDS_PANELS_PER_LABEL = 2


def register(sub) -> None:
    parser = sub.add_parser("all", help="run every applicable check and write a report",
                            description="Run every check that applies to each embedding and write DIR/index.html, "
                                        "DIR/report.md, DIR/results/*.json and DIR/figures/*.")
    parser.add_argument("vectors", metavar="VECTORS", nargs="+", help="embedding files (side by side when several)")
    parser.add_argument("--names", nargs="+", metavar="NAME", help="a display name per embedding")
    parser.add_argument("--out", required=True, metavar="DIR", help="report folder (created or replaced)")
    parser.add_argument("--data-dir", metavar="DIR", help="folder with the benchmark files")
    parser.add_argument("--corpus-root", metavar="DIR", help="a corpus in LibriSpeech layout, for vocabulary provenance")
    parser.add_argument("--pairs", default="paper-307", metavar="SOURCE",
                        help="homophone pairs: paper-307 (default), cmudict or a TSV file")
    parser.add_argument("--provenance", action="store_true",
                        help="also train text reference models on --corpus-root (3 seeds) and judge whether each "
                             "embedding resembles them; takes minutes on real LibriSpeech")
    parser.add_argument("--seed", type=int, default=0, help="seed for random pairs and MDS (default 0)")
    parser.add_argument("--title", help="report title")
    add_vector_options(parser)
    add_json_option(parser)
    parser.set_defaults(run=run)


def run(args) -> int:
    names = embedding_names(args.vectors, args.names)
    options = {"seed": str(args.seed), "data dir": args.data_dir or "(default lookup)",
               "corpus root": args.corpus_root or "(none)"}
    audits = []
    for path, name in zip(args.vectors, names):
        progress(f"auditing {name} ...")
        audits.append(audit_embedding(load_vectors(args, path), path, name, args))
    out = write_run(args.out, audits, options, title=args.title)
    print(summary_table(audits))
    print(f"report: {out / 'index.html'} (Markdown: {out / 'report.md'})")
    write_run_json(args, out)
    return 0


def write_run_json(args, out: Path) -> None:
    """``--json``: the run manifest (kind ``audit-run``), which names every result file written."""
    from audit.core.results import load_result
    if getattr(args, "json_out", None):
        write_json(args, load_result(out / "results" / "run.json"))


def embedding_names(paths: list[str], names: list[str] | None) -> list[str]:
    if names is not None and len(names) != len(paths):
        raise AuditError(f"--names gives {len(names)} names for {len(paths)} embedding files.")
    names = names or [Path(p).name for p in paths]
    if len(set(names)) != len(names):
        raise AuditError("each embedding needs a distinct name; pass --names.")
    return names


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------ checks
@dataclass
class EmbeddingAudit:
    name: str
    path: str
    sha256: str
    results: dict = field(default_factory=dict)    # kind -> result dict (JSON-shaped)
    skipped: dict = field(default_factory=dict)    # kind -> reason


class Skip(Exception):
    """A check whose inputs are not available here."""


def audit_embedding(vectors, path: str, name: str, args) -> EmbeddingAudit:
    audit = EmbeddingAudit(name=name, path=str(path), sha256=vectors.source.sha256)
    checks = [("info", _info), ("homophones", _homophones), ("benchmarks", _benchmarks), ("vocab", _vocab),
              ("provenance", _provenance), ("training-history", _history), ("acoustic", _acoustic),
              ("instance-mds", _instance_mds)]
    for kind, check in checks:
        started = time.perf_counter()
        try:
            if kind == "instance-mds":
                result = check(vectors, Path(path), name, args, audit.results.get("homophones"))
            else:
                result = check(vectors, Path(path), name, args)
        except Skip as reason:
            audit.skipped[kind] = str(reason)
            continue
        audit.results[kind] = _json_shaped(result)
        progress(f"  {kind}: {time.perf_counter() - started:.2f} s")
    return audit


def _json_shaped(result) -> dict:
    """The dict exactly as it will read back from the JSON file (so re-renders match)."""
    data = result if isinstance(result, dict) else result.to_dict()
    return json.loads(json.dumps(data, ensure_ascii=False, allow_nan=False))


def _info(vectors, path, name, args):
    from audit.checks.info import describe
    from audit.core.results import InputInfo
    import dataclasses

    result = describe(vectors)
    return dataclasses.replace(result, input=InputInfo.of(vectors, name=name))


def _with_name(result, name):
    import dataclasses
    if hasattr(result, "input"):
        return dataclasses.replace(result, input=dataclasses.replace(result.input, name=name))
    return result


def _homophones(vectors, path, name, args):
    try:
        from homophones import check, load_pairs
    except ImportError:
        raise Skip("the homophone check is not installed") from None
    pairs = args.__dict__.setdefault("_pair_set", {})   # loaded once for every embedding
    if args.pairs not in pairs:
        pairs[args.pairs] = load_pairs(args.pairs)
    if not any(p.word1 in vectors and p.word2 in vectors for p in pairs[args.pairs].pairs):
        raise Skip(f"no pair of {args.pairs} has both words in the vocabulary")
    return _with_name(check(vectors, pairs[args.pairs], seed=args.seed), name)


def _benchmarks(vectors, path, name, args):
    try:
        from benchmarks import evaluate
    except ImportError:
        raise Skip("the benchmark check is not installed") from None
    try:
        return _with_name(evaluate(vectors, data_dir=args.data_dir), name)
    except AuditError as exc:
        raise Skip(str(exc)) from None


def _vocab(vectors, path, name, args):
    if not args.corpus_root:
        raise Skip("no --corpus-root given")
    try:
        from audit.corpora.librispeech import LibriSpeechCorpus
        from audit.checks.vocab import provenance
    except ImportError:
        raise Skip("vocabulary provenance is not installed") from None
    counts = LibriSpeechCorpus(args.corpus_root).count(cache_dir=args.cache_dir)
    return _with_name(provenance(vectors, counts, benchmark_pairs=_benchmark_pairs(args)), name)


def _benchmark_pairs(args):
    """The benchmark pairs for Table 6, when the benchmark files are available."""
    try:
        from benchmarks import benchmark_pairs
        return benchmark_pairs(args.data_dir)
    except (ImportError, AuditError):
        return None


def _provenance(vectors, path, name, args):
    if not getattr(args, "provenance", False):
        raise Skip("not asked for (--provenance with --corpus-root)")
    if not args.corpus_root:
        raise AuditError("--provenance needs --corpus-root, the corpus to train the reference text models on.")
    import dataclasses

    from audit.checks.provenance.reference_models import TextModelConfig, read_transcripts, reference_seeds, text_references
    from audit.checks.provenance.resemblance import ResemblanceParams, judge

    # reference models depend only on the corpus and the dimension: trained once per dimension
    cache = args.__dict__.setdefault("_text_references", {})
    if vectors.dim not in cache:
        sentences, corpus = read_transcripts(args.corpus_root)
        config = TextModelConfig(dim=vectors.dim)
        seeds = reference_seeds(3)
        progress(f"  training {len(seeds)} reference text models ({vectors.dim}-d) on {args.corpus_root} ...")
        cache[vectors.dim] = (text_references(sentences, config, seeds),
                              dataclasses.replace(corpus, min_count=config.min_count),
                              {**config.to_dict(), "seeds": seeds})
    references, corpus, text_model = cache[vectors.dim]
    result = judge(vectors, {"text": references, "speech": []}, params=ResemblanceParams(seed=args.seed),
                   corpus=corpus, text_model=text_model)
    return _with_name(result, name)


def _run_folder(path: Path) -> Path:
    """A reproduction's output folder: the vectors' own folder, or its parent for epochs/*.txt."""
    return path.parent.parent if path.parent.name == "epochs" else path.parent


def _history(vectors, path, name, args):
    history = _run_folder(path) / "history.json"
    if not history.is_file() or path.parent.name == "epochs":
        raise Skip("no history.json beside the vectors (not a reproduction's final output)")
    try:
        data = json.loads(history.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise AuditError(f"{history} is not a readable JSON file.") from None
    if data.get("kind") != "training-history":
        raise Skip(f"{history} is not a training history")
    return data


def _instances(path: Path) -> Path:
    """The per-instance embeddings of the same model state: instances.npz beside a final
    vectors.txt, instances_epoch_NNN.npz for a reproduction's epochs/epoch_NNN.txt."""
    if path.parent.name == "epochs" and path.stem.startswith("epoch_"):
        instances = _run_folder(path) / f"instances_{path.stem}.npz"
    else:
        instances = path.parent / "instances.npz"
    if not instances.is_file():
        raise Skip(f"no {instances.name} beside the vectors")
    return instances


def _acoustic(vectors, path, name, args):
    instances = _instances(path)
    try:
        from audit.checks.acoustic import audit_instances, load_instances
    except ImportError:
        raise Skip("the acoustic check is not installed") from None
    return _with_name(audit_instances(load_instances(instances), seed=args.seed), name)


def _instance_mds(vectors, path, name, args, homophone_result: dict | None = None):
    from audit.checks.mds import instance_mds

    instances = _instances(path)
    try:
        return instance_mds(instances, _mds_pairs(instances, homophone_result), seed=args.seed)
    except AuditError as exc:
        raise Skip(str(exc)) from None


def _mds_pairs(instances: Path, homophone_result: dict | None) -> list[tuple[str, str, str]]:
    import collections

    import numpy as np
    with np.load(instances, allow_pickle=False) as archive:
        counts = collections.Counter(np.asarray(archive["labels"]).astype(str).tolist())
    found = [(row["word1"], row["word2"]) for row in (homophone_result or {}).get("pair_table", [])
             if not row.get("spelling_variant")]
    homophone_words = {w for pair in found for w in pair}
    preferred = [p for p in MDS_HOMOPHONES if p in set(found)]
    by_instances = sorted(found, key=lambda p: -min(counts[p[0]], counts[p[1]]))
    homophones = [p for p in dict.fromkeys(preferred + by_instances) if counts[p[0]] and counts[p[1]]]
    different = [p for p in MDS_DIFFERENT if counts[p[0]] and counts[p[1]]]
    if not different:
        frequent = [w for w, _ in counts.most_common() if w not in homophone_words][:2]
        different = [tuple(frequent)] if len(frequent) == 2 else []
    return ([("homophones", *p) for p in homophones[:MDS_PANELS_PER_LABEL]]
            + [("different sounds", *p) for p in different[:MDS_PANELS_PER_LABEL]])


# ------------------------------------------------------------------------------ writing
def result_files(audits: list[EmbeddingAudit], options: dict, title: str | None) -> dict[str, str]:
    """results/*.json texts and the manifest, keyed by path relative to the report folder."""
    from audit.core.results import today
    from reports.run import AuditRun, RunEntry

    files, entries = {}, []
    for number, audit in enumerate(audits, start=1):
        slug = "".join(ch if ch.isalnum() else "-" for ch in audit.name.lower()).strip("-")[:40] or "embedding"
        written = {}
        for kind, data in audit.results.items():
            file = f"{number:02d}-{slug}.{kind}.json"
            files[f"results/{file}"] = _dump(data)
            written[kind] = file
        entries.append(RunEntry(name=audit.name, path=audit.path, sha256=audit.sha256, results=written,
                                skipped=dict(audit.skipped)))
    run = AuditRun(title=title or "Embedding audit: " + ", ".join(a.name for a in audits), embeddings=entries,
                   options=dict(options), date=today())
    files["results/run.json"] = _dump(run.to_dict())
    return files


def _dump(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_run(out: str | os.PathLike, audits: list[EmbeddingAudit], options: dict, title: str | None = None) -> Path:
    """Render everything in memory, write it to a sibling folder, then swap it into ``out``."""
    from reports import render_files, write_files
    from reports.run import ReportData, EmbeddingResults

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise AuditError(f"--out {out} is a file, not a folder.")
    if out.is_dir() and any(out.iterdir()) and not (out / "results" / "run.json").is_file():
        raise AuditError(f"--out {out} is a non-empty folder that is not an audit report; choose another.")
    files = result_files(audits, options, title)
    data = ReportData(title=json.loads(files["results/run.json"])["title"],
                      embeddings=[EmbeddingResults(a.name, dict(a.results), dict(a.skipped), a.path) for a in audits],
                      options=dict(options), date=json.loads(files["results/run.json"])["date"])
    files.update(render_files(data))
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)  # mkdtemp makes it private; a report folder is not
    try:
        write_files(staging, files)
        _swap_into_place(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def _swap_into_place(staging: Path, out: Path) -> None:
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
    os.replace(staging, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def summary_table(audits: list[EmbeddingAudit]) -> str:
    rows = []
    for a in audits:
        homophones = a.results.get("homophones", {})
        rows.append([a.name, str(homophones.get("verdict", "-")), ", ".join(sorted(a.results)),
                     ", ".join(sorted(a.skipped)) or "-"])
    return format_table(["embedding", "homophone verdict", "results", "skipped"], rows, align="llll")
