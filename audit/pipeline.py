"""`audit all` as one library call: every check that applies to each embedding, one report folder.

``run_all(paths, out, options)`` loads each embedding, runs every check of :data:`CHECKS` that
applies to it, records the others as skipped with their reason, renders the report in memory
and puts the folder in place; it returns an :class:`AuditOutcome` (the typed results, the
manifest and the folder). No argparse here: the CLI maps its flags onto :class:`AuditOptions`.

A check is a small declaration (:class:`Check`): its ``kind`` (the result it makes), the kinds
it ``needs`` (earlier results its ``run`` reads when they exist), ``applies(subject, context)``
(``None``, or the reason it does not apply), ``run(subject, context, earlier)`` -> a typed
result, and ``skip_on_error`` (a bad-input error while running skips the check with that
sentence instead of stopping the run). The loop has no per-kind case. Work shared by every
embedding (the homophone pair set, the benchmark pairs, corpus counts, reference text models per
dimension) is loaded once in a :class:`RunContext`.

The output folder: what may be replaced, and what never is
-----------------------------------------------------------
The tool never deletes what it did not create, and an input is never inside what gets replaced.
``out`` must be a new path, an empty folder, or an earlier report of this tool that holds only
what that report wrote: ``index.html``, ``report.md``, ``results/run.json``, the result files its
``run.json`` names, and the ``figures/*.svg`` the report draws. Refused with one sentence before
any work (exit 2 at the CLI): a file or a symbolic link; the current folder or one of its
parents (``.``, ``..``); a folder that is not an earlier report; an earlier report holding
anything else (the user's notes, the input vectors, another folder); a folder that contains one
of the inputs. Everything is computed before anything is written; the new report is written to a
hidden sibling folder and renamed into place; the earlier report is moved aside and only the files
listed above are deleted from it (anything that appeared there meanwhile is left, with its folder).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Mapping, Sequence

from audit.checks.acoustic import audit_instances, load_instances
from audit.checks.findings import CLAIMED_SETS, ROLES, EmbeddingEvidence, FindingsResult, findings
from audit.checks.info import describe
from audit.checks.mds import instance_mds
from audit.checks.provenance.run import ReferenceSetup   # light: no scipy or gensim until references are built
from audit.checks.vocab import provenance as vocabulary_provenance, table6_benchmarks
from audit.core.claims import Claim, ClaimsFile
from audit.core.errors import AuditError, check_seed
from audit.core.files import read_json
from audit.core.npzfile import read_npz
from audit.core.results import InputInfo, Result, load_result, shown, today
from audit.core.sources import load_embedding   # a path, or gensim-data:/hf: names
from audit.core.vectors import Vectors
from audit.corpora.librispeech import SUBSETS, LibriSpeechCorpus
from benchmarks import any_file_present, evaluate
from benchmarks.registry import OFFLINE_COPIES, REGISTRY, UnknownBenchmarkError
from homophones import check as homophone_check
from homophones import load_pairs
from reports import FORMATS, render_files, write_files
from reports.fields import slug
from reports.run import (FINDINGS_FILE, MANIFEST_NAME, AuditRun, EmbeddingResults, ReportData, RunEntry, read_manifest,
                         read_result, report_files, results_folder)
import reproductions.awe.history  # noqa: F401  (registers the awe-training-history result)
import reproductions.speech2vec.history  # noqa: F401  (registers the training-history result)

# Fig. 4's word pairs. Homophone panels: the pairs the homophone check found, the paper's
# examples first, then the pairs with the most spoken instances. Different-sounding panels: the
# paper's "need / thus" and a few common pairs, else the two most frequent words.
MDS_HOMOPHONES = (("ate", "eight"), ("meat", "meet"), ("sea", "see"), ("know", "no"), ("tale", "tail"),
                  ("peace", "piece"), ("made", "maid"), ("steal", "steel"), ("whine", "wine"), ("hail", "hale"))
MDS_DIFFERENT = (("need", "thus"), ("time", "people"), ("first", "little"), ("said", "would"))
MDS_PANELS_PER_LABEL = 2


# ------------------------------------------------------------------------------ inputs and options
@dataclass(frozen=True)
class AuditOptions:
    """What every check of a run shares. ``load``: keyword options of :func:`audit.core.loaders.load`
    (its ``cache_dir`` also keeps the corpus word counts)."""

    data_dir: str | None = None          # benchmark files (None: the default lookup)
    corpus_root: str | None = None       # a corpus in LibriSpeech layout (vocabulary, provenance)
    pairs: str = "paper-307"             # homophone pair source
    provenance: bool = False             # train reference models on corpus_root and judge (as `audit provenance`)
    references: ReferenceSetup = ReferenceSetup()   # which: the recipe grid, non-text families, speech runs
    seed: int = 0
    title: str | None = None
    load: Mapping[str, Any] = field(default_factory=dict)
    claims: ClaimsFile | None = None     # what a paper or release claims about each embedding, by name
    roles: Mapping[str, str] = field(default_factory=dict)   # name -> role for the findings (else inferred)

    def __post_init__(self):
        check_seed(self.seed)

    def recorded(self) -> dict[str, str]:
        """The options written into run.json and shown in the report."""
        recorded = {"seed": str(self.seed), "data dir": self.data_dir or "(default lookup)",
                    "corpus root": self.corpus_root or "(none)"}
        if self.claims is not None:
            recorded["claims"] = f"{self.claims.path} (sha256 {self.claims.sha256[:12]})"
        if self.provenance:
            recorded["provenance references"] = self.references.describe()
        if self.roles:
            recorded["roles"] = ", ".join(f"{name}={role}" for name, role in self.roles.items())
        return recorded


@dataclass(frozen=True)
class Subject:
    """One embedding under audit."""

    vectors: Vectors
    path: Path
    name: str


@dataclass
class EmbeddingAudit:
    name: str
    path: str
    sha256: str
    results: dict[str, Result] = field(default_factory=dict)   # kind -> typed result, in check order
    skipped: dict[str, str] = field(default_factory=dict)      # kind -> why it did not run


@dataclass(frozen=True)
class AuditOutcome:
    out: Path
    embeddings: list[EmbeddingAudit]
    manifest: AuditRun
    findings: FindingsResult | None = None

    SUMMARY_HEADERS: ClassVar[tuple[str, ...]] = ("embedding", "homophone verdict", "results", "skipped")

    def summary_rows(self) -> list[list[str]]:
        """One row per embedding under :attr:`SUMMARY_HEADERS`."""
        rows = []
        for audit in self.embeddings:
            homophones = audit.results.get("homophones")
            rows.append([audit.name, homophones.verdict if homophones is not None else "-",
                         ", ".join(sorted(audit.results)), ", ".join(sorted(audit.skipped)) or "-"])
        return rows


class RunContext:
    """Inputs shared by every embedding of a run, each loaded once, when first needed."""

    def __init__(self, options: AuditOptions, progress: Callable[[str], None]):
        self.options = options
        self.progress = progress
        self._loaded: dict[Any, Any] = {}

    def _once(self, key, load: Callable[[], Any]):
        if key not in self._loaded:
            self._loaded[key] = load()
        return self._loaded[key]

    def pair_set(self):
        return self._once("pairs", lambda: load_pairs(self.options.pairs))

    def benchmark_pairs(self):
        """The benchmark pairs for Table 6, or None when the benchmark files are not available."""
        def load():
            try:
                # pairs counted as the benchmarks check counts them (a pair listed twice: once)
                return table6_benchmarks(self.options.data_dir,
                                         # none of the files: the copies gensim ships, under their own names
                                         offline=not any_file_present(self.options.data_dir))
            except AuditError:
                return None
        return self._once("benchmark pairs", load)

    def corpus_counts(self):
        return self._once("corpus counts", lambda: LibriSpeechCorpus(self.options.corpus_root).count(
            cache_dir=self.options.load.get("cache_dir")))

    def provenance_corpus(self):
        """The transcripts the reference models train on (:func:`audit.checks.provenance.run.read_corpus`)."""
        # imported when asked for: scipy.stats (~0.5 s) and gensim, which no other check needs
        from audit.checks.provenance.run import read_corpus

        return self._once("provenance corpus", lambda: read_corpus(self.options.corpus_root,
                                                                   self.options.references))

    def provenance_references(self, dim: int):
        """The reference families depend only on the corpus and the dimension: built once per dimension
        (trained, or read from the cache under the data dir), as `audit provenance` builds them."""
        from audit.checks.provenance.run import references

        def build():
            self.progress(f"  reference models ({dim}-d, {self.options.references.describe()}) on "
                          f"{self.options.corpus_root} ...")
            return references(self.provenance_corpus(), dim, self.options.references,
                              progress=lambda message: self.progress(f"  {message}"))
        return self._once(("provenance references", dim), build)

    def speech_references(self):
        """The speech reproductions given as references (read once; none unless asked for)."""
        from audit.checks.provenance.run import speech_family

        load = self.options.load
        return self._once("speech references", lambda: speech_family(
            self.options.references, {key: load[key] for key in ("case", "duplicates", "nonfinite") if key in load}))


# ------------------------------------------------------------------------------ the checks
class Check:
    """The interface every check of a run shares (see the module docstring)."""

    kind: str = ""
    needs: tuple[str, ...] = ()
    skip_on_error: bool = False
    result_module: str = ""     # the module defining the result type, when it is imported only on demand

    def applies(self, subject: Subject, context: RunContext) -> str | None:
        return None

    def run(self, subject: Subject, context: RunContext, earlier: Mapping[str, Result]) -> Result:
        raise NotImplementedError


def _named(result: Result, name: str) -> Result:
    """The result with the display name of its input set to the embedding's name."""
    if hasattr(result, "input"):
        return dataclasses.replace(result, input=dataclasses.replace(result.input, name=name))
    return result


class InfoCheck(Check):
    kind = "info"

    def run(self, subject, context, earlier):
        return dataclasses.replace(describe(subject.vectors), input=InputInfo.of(subject.vectors, name=subject.name))


class HomophoneCheck(Check):
    kind = "homophones"

    def applies(self, subject, context):
        vectors, source = subject.vectors, context.options.pairs
        lookup, valid = vectors.key_to_index, vectors.valid
        present = [p for p in context.pair_set().pairs if p.word1 in lookup and p.word2 in lookup]
        if not present:
            return f"no pair of {source} has both words in the vocabulary"
        if not any(valid[lookup[p.word1]] and valid[lookup[p.word2]] for p in present):
            return f"no pair of {source} has both words with usable (non-zero, finite) vectors"
        return None

    def run(self, subject, context, earlier):
        return _named(homophone_check(subject.vectors, context.pair_set(), seed=context.options.seed), subject.name)


class BenchmarkCheck(Check):
    kind = "benchmarks"
    skip_on_error = True          # no benchmark files and no offline copies: the section is left out, with why

    def run(self, subject, context, earlier):
        # none of the wordvectors.org files here: the copies gensim ships, labelled as such in the result
        offline = not any_file_present(context.options.data_dir)
        return _named(evaluate(subject.vectors, data_dir=context.options.data_dir, offline=offline), subject.name)


class VocabularyCheck(Check):
    kind = "vocab"
    skip_on_error = True          # malformed transcripts under --corpus-root: skipped, with why (issue 15)

    def applies(self, subject, context):
        return None if context.options.corpus_root else "no --corpus-root given"

    def run(self, subject, context, earlier):
        result = vocabulary_provenance(subject.vectors, context.corpus_counts(),
                                       benchmark_pairs=context.benchmark_pairs())
        return _named(result, subject.name)


class ModelProvenanceCheck(Check):
    """The same references and decision as `audit provenance` (:mod:`audit.checks.provenance.run`):
    the text family over the recipe grid against the token-shuffled, random and (when given) speech
    families, with the comparison and the closest recipe in the result."""

    kind = "provenance"
    result_module = "audit.checks.provenance.resemblance"
    skip_on_error = True          # malformed transcripts under --corpus-root, too few shared words: skipped, with why

    def applies(self, subject, context):
        return None if context.options.provenance else "not asked for (--provenance with --corpus-root)"

    def run(self, subject, context, earlier):
        # imported when asked for: it imports scipy.stats (~0.5 s), which no other check needs
        from audit.checks.provenance.resemblance import ResemblanceParams
        from audit.checks.provenance.run import check_vocabulary, decide

        setup, params = context.options.references, ResemblanceParams(seed=context.options.seed)
        corpus = context.provenance_corpus()
        check_vocabulary(subject.vectors, corpus, setup, params)     # before any training
        result = decide(subject.vectors, corpus, context.provenance_references(subject.vectors.dim),
                        context.speech_references(), setup, params)
        return _named(result, subject.name)


def _run_folder(path: Path) -> Path:
    """A reproduction's output folder: the vectors' own folder, or its parent for epochs/*.txt."""
    return path.parent.parent if path.parent.name == "epochs" else path.parent


def history_kind(folder: Path) -> str | None:
    """The kind the run folder's history.json says it is: None without one; ``training-history``
    (a Speech2Vec run's) when it names none or is not readable JSON, so that check reads it and
    names the problem."""
    path = folder / "history.json"
    if not path.is_file():
        return None
    try:
        kind = read_json(path, what="a training history").get("kind")
    except (AuditError, AttributeError):
        return "training-history"
    return kind if isinstance(kind, str) else "training-history"


def _history_kind(subject: Subject) -> str | None:
    """The history kind of a reproduction's final output (None for epoch files and non-files)."""
    if not subject.path.is_file() or subject.path.parent.name == "epochs":
        return None
    return history_kind(_run_folder(subject.path))


class TrainingHistoryCheck(Check):
    kind = "training-history"
    skip_on_error = True          # a history.json that is not a valid training history: skipped, with why

    def applies(self, subject, context):
        if not subject.path.is_file():
            return "the embedding is not a file on disk (no reproduction folder around it)"
        if subject.path.parent.name == "epochs" or not (_run_folder(subject.path) / "history.json").is_file():
            return "no history.json beside the vectors (not a reproduction's final output)"
        if _history_kind(subject) == AweHistoryCheck.kind:
            return "an acoustic word embedding's run (its history is in the AWE training section)"
        return None

    def run(self, subject, context, earlier):
        return read_result(_run_folder(subject.path) / "history.json", kind=self.kind)


class AweHistoryCheck(Check):
    """The per-epoch record of an AWE run (``audit reproduce awe``): held-out same-different AP."""

    kind = "awe-training-history"
    skip_on_error = True

    def applies(self, subject, context):
        if _history_kind(subject) != self.kind:
            return "not an acoustic word embedding run's final output (no AWE history.json beside the vectors)"
        return None

    def run(self, subject, context, earlier):
        return read_result(_run_folder(subject.path) / "history.json", kind=self.kind)


def _instances(path: Path) -> Path:
    """The per-instance embeddings of the same model state: instances.npz beside a final
    vectors.txt, instances_epoch_NNN.npz for a reproduction's epochs/epoch_NNN.txt."""
    if path.parent.name == "epochs" and path.stem.startswith("epoch_"):
        return _run_folder(path) / f"instances_{path.stem}.npz"
    return path.parent / "instances.npz"


def _no_instances(subject: Subject) -> str | None:
    if not subject.path.is_file():
        return "the embedding is not a file on disk (no instances file beside it)"
    instances = _instances(subject.path)
    return None if instances.is_file() else f"no {instances.name} beside the vectors"


class AcousticCheck(Check):
    kind = "acoustic"
    skip_on_error = True          # a malformed instances file: skipped, with why (issue 15)

    def applies(self, subject, context):
        return _no_instances(subject)

    def run(self, subject, context, earlier):
        result = audit_instances(load_instances(_instances(subject.path)), seed=context.options.seed)
        return _named(result, subject.name)


class InstanceMDSCheck(Check):
    kind = "instance-mds"
    needs = ("homophones",)       # the homophone pairs it found choose Fig. 4's panels
    skip_on_error = True

    def applies(self, subject, context):
        return _no_instances(subject)

    def run(self, subject, context, earlier):
        instances = _instances(subject.path)
        return instance_mds(instances, mds_pairs(instances, earlier.get("homophones")), seed=context.options.seed)


def mds_pairs(instances: Path, homophones: Result | None) -> list[tuple[str, str, str]]:
    """Fig. 4's (label, word1, word2) panels for the words spoken in ``instances``."""
    labels = read_npz(instances, what="the instances file", keys=("labels",)).get("labels")
    if labels is None:
        raise AuditError(f"the instances file {instances} has no labels array.")
    counts = Counter(labels.astype(str).tolist())
    found = [(row.word1, row.word2) for row in (homophones.pair_table if homophones is not None else [])
             if not row.spelling_variant]
    homophone_words = {w for pair in found for w in pair}
    preferred = [p for p in MDS_HOMOPHONES if p in set(found)]
    by_instances = sorted(found, key=lambda p: -min(counts[p[0]], counts[p[1]]))
    homophones_spoken = [p for p in dict.fromkeys(preferred + by_instances) if counts[p[0]] and counts[p[1]]]
    different = [p for p in MDS_DIFFERENT if counts[p[0]] and counts[p[1]]]
    if not different:
        frequent = [w for w, _ in counts.most_common() if w not in homophone_words][:2]
        different = [tuple(frequent)] if len(frequent) == 2 else []
    return ([("homophones", *p) for p in homophones_spoken[:MDS_PANELS_PER_LABEL]]
            + [("different sounds", *p) for p in different[:MDS_PANELS_PER_LABEL]])


CHECKS: tuple[Check, ...] = (InfoCheck(), HomophoneCheck(), BenchmarkCheck(), VocabularyCheck(),
                             ModelProvenanceCheck(), TrainingHistoryCheck(), AweHistoryCheck(), AcousticCheck(),
                             InstanceMDSCheck())


def _check_order(checks: Sequence[Check]) -> None:
    seen: set[str] = set()
    for check in checks:
        if not set(check.needs) <= seen:
            raise TypeError(f"check {check.kind!r} needs {check.needs} to run before it")
        seen.add(check.kind)


_check_order(CHECKS)


# ------------------------------------------------------------------------------ the run
def stderr_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def embedding_names(paths: Sequence[str | os.PathLike], names: Sequence[str] | None) -> list[str]:
    if names is not None and len(names) != len(paths):
        raise AuditError(f"{len(names)} names were given for {len(paths)} embedding files.")
    # a file name's undecodable bytes shown as \xff, its control characters as escapes: the name is
    # written into JSON, tables and figures
    names = list(names) if names is not None else [shown(Path(p).name) for p in paths]
    if len(set(names)) != len(names):
        raise AuditError("each embedding needs a distinct name.")
    blank = next((i for i, name in enumerate(names) if not name.strip()), None)
    if blank is not None:
        raise AuditError(f"the name of embedding {blank + 1} ({paths[blank]}) is blank; each needs a name to be shown by.")
    return names


def run_all(paths: Sequence[str | os.PathLike], out: str | os.PathLike, options: AuditOptions = AuditOptions(), *,
            names: Sequence[str] | None = None, checks: Sequence[Check] = CHECKS,
            progress: Callable[[str], None] = stderr_progress) -> AuditOutcome:
    """Audit each embedding of ``paths`` with every check that applies; write the report to ``out``."""
    names = embedding_names(paths, names)
    check_roles(options.roles, names)
    if options.claims is not None:
        options = dataclasses.replace(options, claims=check_claims(options.claims, names))
    check_inferred_roles(paths, names, options)
    if options.provenance and not options.corpus_root:
        raise AuditError("model provenance needs a corpus root to train the reference text models on.")
    if options.references.data_dir is None and options.data_dir:   # the run's data dir keeps the reference cache
        options = dataclasses.replace(options, references=dataclasses.replace(options.references,
                                                                              data_dir=options.data_dir))
    _check_order(checks)
    out = Path(out)
    inputs = [*paths, *(options.references.speech if options.provenance else ())]
    check_output_folder(out, inputs=inputs)
    cache = options.load.get("cache_dir")
    if cache and (Path(cache).absolute().is_relative_to(out.absolute())
                  or Path(cache).resolve().is_relative_to(out.resolve())):
        raise AuditError(f"the cache folder {cache} is inside the output folder {out}, which the report replaces; "
                         f"give a cache folder outside it.")
    context = RunContext(options, progress)
    if options.provenance:
        options.references.check()      # the user's recipes and speech folders: refused before any work
        context.speech_references()
    audits = []
    for path, name in zip(paths, names):
        progress(f"auditing {name} ...")
        subject = Subject(vectors=load_embedding(path, **options.load), path=Path(path), name=name)
        audits.append(audit_embedding(subject, context, checks))
    return write_run(out, audits, options, inputs=inputs)


def audit_embedding(subject: Subject, context: RunContext, checks: Sequence[Check] = CHECKS) -> EmbeddingAudit:
    audit = EmbeddingAudit(name=subject.name, path=str(subject.path), sha256=subject.vectors.source.sha256)
    for check in checks:
        started = time.perf_counter()
        reason = check.applies(subject, context)
        if reason is None:
            earlier = {kind: audit.results[kind] for kind in check.needs if kind in audit.results}
            try:
                audit.results[check.kind] = _as_saved(check.run(subject, context, earlier))
            except AuditError as error:
                if not check.skip_on_error:
                    raise
                reason = str(error)
        if reason is not None:
            audit.skipped[check.kind] = reason
            continue
        context.progress(f"  {check.kind}: {time.perf_counter() - started:.2f} s")
    return audit


def _as_saved(result: Result) -> Result:
    """The result exactly as it will read back from its JSON file, so a re-render gives the same bytes."""
    return load_result(json.loads(_dump(result.to_dict())))


def _dump(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


# ------------------------------------------------------------------------------ the findings
def infer_role(audit: EmbeddingAudit, options: AuditOptions) -> str:
    """The role the findings give an embedding when ``options.roles`` does not name it:
    a reproduction's ``epochs/epoch_000.txt`` is its random initialisation; vectors with a
    ``history.json`` beside them (a reproduction's final output) are the reproduction, or a genuine
    acoustic word embedding when that history is an AWE run's (kind ``awe-training-history``, whose
    epoch files are then other); an embedding whose claims say kind ``speech`` is the release under
    audit, kind ``text`` a text model; else other."""
    if audit.name in options.roles:
        return options.roles[audit.name]
    path = Path(audit.path)
    awe = history_kind(_run_folder(path)) == AweHistoryCheck.kind   # an AWE run, not a Speech2Vec one
    if path.parent.name == "epochs" and path.stem == "epoch_000":
        return "other" if awe else "random-init"
    if path.parent.name != "epochs" and (path.parent / "history.json").is_file():
        return "acoustic-model" if awe else "reproduction"
    claim = options.claims.for_name(audit.name) if options.claims is not None else None
    if claim is not None and claim.kind == "speech":
        return "released"
    if claim is not None and claim.kind == "text":
        return "text-model"
    return "other"


SINGLE_ROLES = ("released", "reproduction", "random-init")


def check_roles(roles: Mapping[str, str], names: Sequence[str]) -> None:
    for name, role in roles.items():
        if name not in names:
            raise AuditError(f"a role is given for {name!r}, which is not the name of an embedding of this run "
                             f"(names: {', '.join(names)}).")
        if role not in ROLES:
            raise AuditError(f"{role!r} is not a role; the roles are {', '.join(ROLES)}.")
    for role in SINGLE_ROLES:   # the findings compare one of each: a second would be left out silently
        given = [name for name, r in roles.items() if r == role]
        if len(given) > 1:
            raise AuditError(f"--roles makes both {given[0]!r} and {given[1]!r} the {role}; the findings compare "
                             f"one {role} embedding per run.")


def check_inferred_roles(paths: Sequence[str | os.PathLike], names: Sequence[str], options: AuditOptions) -> None:
    """Refused before any work: two embeddings that would both get a single role (two reproduction
    runs' vectors, two epoch_000 files, two claims of kind speech), of which the findings would
    silently compare the first."""
    inferred = [(name, infer_role(EmbeddingAudit(name=name, path=str(path), sha256=""), options))
                for path, name in zip(paths, names)]
    for role in SINGLE_ROLES:
        both = [name for name, r in inferred if r == role]
        if len(both) > 1:
            raise AuditError(f"both {both[0]!r} and {both[1]!r} would be the {role} of the findings, which compare one "
                             f"{role} embedding per run; say which with --roles (e.g. --roles {both[1]}=other).")


def check_claims(claims: ClaimsFile, names: Sequence[str]) -> ClaimsFile:
    """The claims, refused with one sentence when one names an embedding the run does not have, a
    LibriSpeech subset, a claimed set or a benchmark that does not exist (a misspelt claim would
    otherwise compare nothing, or flip a finding); benchmark names in their registry spelling."""
    unknown = [c.name for c in claims.claims if c.name not in names]
    if unknown:
        raise AuditError(f"the claims file {claims.path} has claims for {unknown[0]!r}, which is not the name of an "
                         f"embedding of this run (names: {', '.join(names)}; set them with --names).")
    return dataclasses.replace(claims, claims=tuple(_checked_claim(claims.path, claim) for claim in claims.claims))


def _checked_claim(path: str, claim: Claim) -> Claim:
    where = f"the claims file {path}, embedding {claim.name!r}"
    if claim.subsets is not None and (claim.corpus is None or claim.corpus.lower() == "librispeech"):
        for subset in claim.subsets:
            if subset not in SUBSETS:
                raise AuditError(f"{where}: {subset!r} is not a LibriSpeech subset{_hint(subset, SUBSETS, 'subsets')}.")
    if claim.benchmark_set is not None and claim.benchmark_set not in CLAIMED_SETS:
        raise AuditError(f"{where}: there is no claimed set {claim.benchmark_set!r}"
                         f"{_hint(claim.benchmark_set, CLAIMED_SETS, 'sets')}.")
    copies = {copy.spec.name for copy in OFFLINE_COPIES}
    scores = {}
    for name, value in claim.benchmark_scores.items():
        try:
            canonical = name if name in copies else REGISTRY[name].name
        except UnknownBenchmarkError as exc:
            raise AuditError(f"{where}: {exc}") from None
        if canonical in scores:
            raise AuditError(f"{where}: two claimed scores name {canonical}.")
        scores[canonical] = value
    return dataclasses.replace(claim, benchmark_scores=scores)


def _hint(value: str, choices: Sequence[str], what: str) -> str:
    """' (did you mean X?)' for a close choice, else ' (the WHAT: A, B, ...)'."""
    from difflib import get_close_matches
    close = get_close_matches(value, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (the {what}: {', '.join(choices)})"


def run_findings(audits: Sequence[EmbeddingAudit], options: AuditOptions) -> FindingsResult:
    """The four findings from the typed results, with the roles given or inferred and the claims."""
    claims = options.claims
    return findings([EmbeddingEvidence(name=a.name, role=infer_role(a, options), results=dict(a.results),
                                       claim=claims.for_name(a.name) if claims is not None else None)
                     for a in audits])


# ------------------------------------------------------------------------------ writing
def result_files(audits: Sequence[EmbeddingAudit], options: AuditOptions) -> tuple[dict[str, str], AuditRun]:
    """results/*.json texts keyed by path relative to the report folder, and the manifest."""
    files, entries = {}, []
    for number, audit in enumerate(audits, start=1):
        written = {}
        for kind, result in audit.results.items():
            file = f"{number:02d}-{slug(audit.name)}.{kind}.json"
            files[f"results/{file}"] = _dump(result.to_dict())
            written[kind] = file
        entries.append(RunEntry(name=audit.name, path=audit.path, sha256=audit.sha256, results=written,
                                skipped=dict(audit.skipped)))
    files[f"results/{FINDINGS_FILE}"] = _dump(run_findings(audits, options).to_dict())
    claims = options.claims
    manifest = AuditRun(title=options.title or "Embedding audit: " + ", ".join(a.name for a in audits),
                        embeddings=entries, options=options.recorded(), date=today(), findings=FINDINGS_FILE,
                        claims={c.name: c for c in claims.claims} if claims is not None else {},
                        claims_file=claims.path if claims is not None else "",
                        claims_sha256=claims.sha256 if claims is not None else "")
    files["results/run.json"] = _dump(manifest.to_dict())
    return files, manifest


def write_run(out: str | os.PathLike, audits: Sequence[EmbeddingAudit], options: AuditOptions, *,
              inputs: Sequence[str | os.PathLike] = ()) -> AuditOutcome:
    """Render everything in memory, write it to a sibling folder, then swap it into ``out``."""
    out = Path(out)
    files, manifest = result_files(audits, options)
    data = ReportData(title=manifest.title, options=dict(manifest.options), date=manifest.date,
                      embeddings=[EmbeddingResults(a.name, dict(a.results), dict(a.skipped), a.path) for a in audits],
                      findings=load_result(json.loads(files[f"results/{FINDINGS_FILE}"])),
                      claims=dict(manifest.claims))
    files.update(render_files(data))
    earlier = check_output_folder(out, inputs=inputs)     # again: the folder may have changed meanwhile
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name[:64]}.", dir=out.parent))
    except OSError as exc:
        raise AuditError(f"cannot write the report next to {out} ({exc.strerror}); nothing was written.") from None
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)  # mkdtemp makes it private; a report folder is not
    try:
        write_files(staging, files)
        _swap_into_place(staging, out, earlier)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise AuditError(f"cannot write the report into {out} ({exc.strerror}); nothing was changed there.") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return AuditOutcome(out=out, embeddings=list(audits), manifest=manifest, findings=data.findings)


def register_result_types(kinds: set[str] | None = None, checks: Sequence[Check] = CHECKS) -> None:
    """Import the modules of the result types imported only on demand (all, or those of ``kinds``)."""
    for check in checks:
        if check.result_module and (kinds is None or check.kind in kinds):
            importlib.import_module(check.result_module)


def rebuild_report(folder: str | os.PathLike, formats: Sequence[str] | None = None) -> list[Path]:
    """`audit report`: re-render ``folder/results`` into ``folder`` without recomputing anything."""
    manifest = results_folder(folder) / MANIFEST_NAME
    if manifest.exists():
        register_result_types({kind for entry in read_manifest(manifest).embeddings for kind in entry.results})
        # the findings result type is registered by the import of audit.checks.findings above
    else:
        register_result_types()      # loose result files: any kind may be there
    files = render_files(folder, tuple(formats) if formats else FORMATS)
    return write_files(folder, files)


# ------------------------------------------------------------------------------ the output folder rule
def check_output_folder(out: Path, inputs: Sequence[str | os.PathLike] = ()) -> set[str]:
    """Refuse an output folder that holds anything this tool did not write (module docstring);
    return the files of the earlier report that the new one replaces (relative paths)."""
    target = out.absolute()
    here = Path.cwd().resolve()
    if out.is_symlink():
        raise AuditError(f"the output folder {out} is a symbolic link; give the folder itself.")
    resolved = out.resolve()
    if resolved == here or resolved in here.parents:
        raise AuditError(f"the output folder {out} is the current folder or one of its parents; "
                         f"give a new folder for the report.")
    if not os.path.lexists(out):
        _check_parent(out)
        return set()
    if not out.is_dir():
        raise AuditError(f"the output folder {out} is a file, not a folder.")
    if _is_mount_point(out):
        raise AuditError(f"the output folder {out} is a mount point; the report is put in place by renaming "
                         f"folders, which a mount point cannot be: give a folder inside it.")
    present = _folder_entries(out)
    if not present:
        return set()
    if not (out / "results" / "run.json").is_file():
        raise AuditError(f"the output folder {out} is a non-empty folder that is not an audit report; "
                         f"choose another.")
    try:
        owned = report_files(out)
    except AuditError:
        raise AuditError(f"the output folder {out} holds a results/run.json that is not a valid audit "
                         f"report; choose another folder.") from None
    foreign = sorted(set(present) - owned - {"results", "figures"})
    foreign += sorted(p for p in ("results", "figures") if p in present and present[p] != "dir")
    if foreign:
        raise AuditError(f"the output folder {out} is an earlier audit report that also holds {foreign[0]!r}, "
                         f"which this tool did not write; move it or choose another folder.")
    for source in inputs:
        source_path = Path(source).absolute()
        for candidate in {source_path, source_path.resolve()}:
            if candidate.is_relative_to(target) or candidate.is_relative_to(resolved):
                raise AuditError(f"the input {source} is inside the output folder {out}, which the report "
                                 f"replaces; choose another output folder.")
    return {p for p, kind in present.items() if kind == "file"}


def _is_mount_point(folder: Path) -> bool:
    """A mount point, a bind mount on the same filesystem included (os.path.ismount compares device
    numbers and misses those; Linux lists every mount point in /proc/self/mountinfo)."""
    if os.path.ismount(folder):
        return True
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as handle:
            # field 5 is the mount point, with space, tab, newline and backslash written as \ooo
            points = {re.sub(r"\\([0-7]{3})", lambda octal: chr(int(octal[1], 8)), line.split(" ")[4])
                      for line in handle if line.count(" ") >= 4}
    except OSError:
        return False
    return os.path.realpath(folder) in points


def _check_parent(out: Path) -> None:
    """The nearest existing folder above a new output folder must be a folder (a file there failed
    only after all the work)."""
    for parent in out.absolute().parents:
        if os.path.lexists(parent):
            if not parent.is_dir():
                raise AuditError(f"the output folder {out} cannot be made: {parent} is a file, not a folder.")
            return


def _folder_entries(folder: Path) -> dict[str, str]:
    """Every entry under ``folder`` (relative path -> 'dir', 'file' or 'other'), links not followed."""
    entries = {}
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in dirs + files:
            path = Path(root, name)
            relative = path.relative_to(folder).as_posix()
            if path.is_symlink():
                entries[relative] = "other"
            elif path.is_dir():
                entries[relative] = "dir"
            else:
                entries[relative] = "file" if path.is_file() else "other"
    return entries


def _swap_into_place(staging: Path, out: Path, earlier: set[str]) -> None:
    """The earlier report aside, the new one in its place: two renames, with SIGINT and SIGTERM held
    back between them (a signal there left no report at all, the earlier one hidden aside), and the
    earlier report put back when the second fails."""
    aside = None
    held = {signal.SIGINT, signal.SIGTERM}
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held) if main_thread else None
    try:
        if os.path.lexists(out):
            aside = Path(tempfile.mkdtemp(prefix=f".{out.name[:64]}.old-", dir=out.parent))
            try:
                os.replace(out, aside / "report")
            except OSError:
                aside.rmdir()
                raise
        try:
            os.replace(staging, out)
        except OSError:
            if aside is not None:
                os.replace(aside / "report", out)
                aside.rmdir()
            raise
    finally:
        if previous is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    if aside is not None:
        _remove_files(aside / "report", earlier)
        for folder in (aside / "report" / "results", aside / "report" / "figures", aside / "report", aside):
            try:
                folder.rmdir()
            except OSError:
                pass   # missing, or something appeared there meanwhile: left as it is


def _remove_files(folder: Path, relative: set[str]) -> None:
    for name in relative:
        try:
            (folder / name).unlink()
        except OSError:
            pass
