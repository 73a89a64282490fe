"""`audit demo [--out DIR]`: the reality check re-enacted on embedded data only, end to end.

1. builds the embedded spoken corpus (eSpeak NG speech for text a dependency ships);
2. trains a short Speech2Vec reproduction on it (the reproduction's trainer);
3. trains an acoustic word embedding on the same corpus and frame store (``audit reproduce awe``'s
   trainer: a BiLSTM over each spoken word's MFCC frames, batch-hard triplet loss, a quarter of the
   speakers held out): a genuine acoustic word embedding, the positive control;
4. builds a transcripts-only corpus in LibriSpeech's shape (seven subsets, the Lee corpora gensim
   ships plus sentences using every homophone and every word of the offline benchmarks), and on
   it a forged "released" embedding (a gensim skip-gram on ALL subsets at minimum count 5, with
   claims saying "speech, clean training subsets") and a gensim word2vec text model;
5. audits the release, the text model, the reproduction, the reproduction at random init and the
   acoustic word embedding side by side with the release's claims and model provenance on
   (homophones, benchmarks, vocabulary provenance against the transcripts-only corpus, model
   provenance, acoustic metrics, learning curves, MDS of spoken instances), and writes the report,
   which opens with the four findings (the acoustic word embedding, inferred from its history as
   "genuine acoustic word embedding", is the positive control of the homophone and provenance ones).

Expected story: the release is non-phonetic, text-like and traced to all subsets at count 5
against its claim; the reproduction phonetic, not text-like, near its random init on the
benchmarks; the genuine acoustic word embedding phonetic and not text-like, as the checks must
find it. Nothing is downloaded; without the wordvectors.org files (``--data-dir``) the
benchmarks are gensim's copies of WS-353 and SimLex-999, labelled as such. Corpora and trained
models go to ``--work-dir`` (default: the data cache), so a second run reuses the corpora.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from audit.cli.commands.all import print_outcome
from audit.cli.common import write_json
from audit.core.errors import AuditError

SIZES = ("tiny", "small", "medium")
TEXT_MODEL_NAME = "text word2vec"
RELEASED_NAME = "released (forged)"
TEXT_MODEL_EPOCHS = 10
REPRODUCTION_NAME = "Speech2Vec reproduction"
RANDOM_INIT_NAME = "reproduction at random init"
AWE_NAME = "AWE reproduction"
# 3 epochs (the trainer's default) at the reproduction's dimension (50): on the small corpus, held-out
# SWDP AP 0.555 at random init -> 0.917 after one epoch -> 0.962 after three (MFCC-DTW 0.759), about
# 21 s of CPU with the frame store already built (measured under load, 2026-12-01)
AWE_EPOCHS = 3
STEPS = 5


def register(sub) -> None:
    parser = sub.add_parser("demo", help="build a spoken corpus, train speech and text models, audit both",
                            description="The reality check re-enacted on embedded data only: build the synthetic "
                                        "spoken corpus and train a short Speech2Vec reproduction on it; build a "
                                        "transcripts-only corpus in LibriSpeech's shape, a forged 'released' "
                                        "embedding on all its subsets (claimed: speech, clean training subsets) "
                                        "and a text model; train a genuine acoustic word embedding (BiLSTM, "
                                        "triplet loss) on the spoken corpus; audit the five with the claims and "
                                        "model provenance and write the report, which opens with the four "
                                        "findings.")
    parser.add_argument("--out", default="audit-demo", metavar="DIR", help="report folder (default: audit-demo)")
    parser.add_argument("--size", choices=SIZES, default="small", help="corpus size (default: small)")
    parser.add_argument("--epochs", type=int, default=3, help="reproduction epochs (default 3)")
    parser.add_argument("--awe-epochs", type=int, default=AWE_EPOCHS,
                        help=f"acoustic word embedding epochs (default {AWE_EPOCHS})")
    parser.add_argument("--seed", type=int, default=0, help="seed for corpus, training and checks (default 0)")
    parser.add_argument("--work-dir", metavar="DIR", help="where the corpus and models go (default: the data cache)")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="folder with the 13 benchmark files; without them (here or in the default data "
                             "dir) the benchmarks are gensim's copies of WS-353 and SimLex-999, labelled as such")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="training device (default cpu)")
    parser.add_argument("--json", metavar="PATH", dest="json_out",
                        help="also write the run manifest (kind audit-run) as JSON to PATH")
    parser.set_defaults(run=run)


def run(args) -> int:
    if args.epochs < 1:
        raise AuditError("--epochs must be at least 1.")
    if args.awe_epochs < 1:
        raise AuditError("--awe-epochs must be at least 1.")
    from audit.core.datadir import data_dir

    work = Path(args.work_dir) if args.work_dir else data_dir(None) / "demo" / f"{args.size}-seed{args.seed}"
    from audit.pipeline import check_output_folder
    check_output_folder(Path(args.out), inputs=[work])   # refused before minutes of training, not after
    started = time.perf_counter()
    _build_corpus(work, args)
    reproduction = _train_reproduction(work, args)
    random_init = reproduction / "epochs" / "epoch_000.txt"
    if not random_init.is_file():
        raise AuditError(f"the reproduction wrote no random-init vectors at {random_init}.")
    awe = _train_awe(work, args)
    text_corpus, released, claims_path = _build_release(work, args)
    text_model = _train_text_model(text_corpus, work / "text-word2vec.txt", args)
    _step(f"[{STEPS}/{STEPS}] auditing the five embeddings, model provenance on ({_elapsed(started)})")
    from audit.core.claims import load_claims
    from audit.pipeline import AuditOptions, ReferenceSetup, run_all   # every check: imported when the audit starts
    from audit.checks.provenance.run import QUICK_RECIPES, QUICK_SHUFFLED   # a smaller grid: the demo stays quick

    options = AuditOptions(data_dir=args.data_dir, corpus_root=str(text_corpus), pairs="paper-307", provenance=True,
                           seed=args.seed, title=f"Embedding audit demo: a forged speech release, a text model, "
                                                 f"a Speech2Vec reproduction and an acoustic word embedding "
                                                 f"({args.size} spoken corpus)",
                           load={"cache_dir": str(work / "cache")}, claims=load_claims(claims_path),
                           roles={TEXT_MODEL_NAME: "text-model"},   # the others inferred (the AWE from its history)
                           references=ReferenceSetup(recipes=QUICK_RECIPES, shuffled=QUICK_SHUFFLED))
    outcome = run_all([str(released), str(text_model), str(reproduction / "vectors.txt"), str(random_init),
                       str(awe / "vectors.txt")], args.out, options,
                      names=[RELEASED_NAME, TEXT_MODEL_NAME, REPRODUCTION_NAME, RANDOM_INIT_NAME, AWE_NAME])
    print_outcome(outcome)                 # the summary, the report's path, then the findings
    write_json(args, outcome.manifest)     # --json: the run manifest (kind audit-run)
    _step(f"done in {_elapsed(started)}")
    return 0


def _step(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _elapsed(started: float) -> str:
    seconds = time.perf_counter() - started
    return f"{seconds / 60:.1f} min" if seconds >= 90 else f"{seconds:.0f} s"


def _build_corpus(work: Path, args) -> Path:
    """The corpus where the trainer looks for it: ``WORK/corpora/espeak-SIZE-seedSEED``."""
    from audit.corpora.spoken import build_corpus

    root = work / "corpora" / f"espeak-{args.size}-seed{args.seed}"
    _step(f"[1/{STEPS}] building the {args.size} spoken corpus in {root} (reused when already built)")
    return build_corpus(root, size=args.size, seed=args.seed, progress=lambda message: _step(f"  {message}"))


def _train_reproduction(work: Path, args) -> Path:
    """Train the reproduction, or reuse a finished run of the same settings in the work dir."""
    from reproductions.speech2vec.config import TrainConfig
    from reproductions.speech2vec.train import train

    out = work / f"speech2vec-{args.epochs}-epochs"
    if _reuse_or_restart(out, args.epochs, 2, "Speech2Vec reproduction"):
        return out
    config = TrainConfig(corpus_size=args.size, corpus_seed=args.seed, epochs=args.epochs, seed=args.seed,
                         device=args.device)
    train(config, out, cache_dir=work, benchmark_dir=args.data_dir)
    return out


def _train_awe(work: Path, args) -> Path:
    """Train the acoustic word embedding on the reproduction's corpus and frame store (both in the work
    dir already), or reuse a finished run of the same settings."""
    from reproductions.awe.config import AweConfig
    from reproductions.awe.train import train
    from reproductions.speech2vec.config import TrainConfig

    out = work / f"awe-{args.awe_epochs}-epochs"
    if _reuse_or_restart(out, args.awe_epochs, 3, "acoustic word embedding (BiLSTM, triplet loss, speakers "
                                                   "held out)"):
        return out
    # the reproduction's dimension (not the trainer's 128): model provenance trains its reference text
    # models once per dimension, so a second dimension would cost a second set (~95 s on the tiny corpus)
    config = AweConfig(corpus_size=args.size, corpus_seed=args.seed, epochs=args.awe_epochs, seed=args.seed,
                       embedding_dim=TrainConfig().embedding_dim, device=args.device)
    train(config, out, cache_dir=work)
    return out


def _reuse_or_restart(out: Path, epochs: int, step: int, what: str) -> bool:
    """True when ``out`` holds a finished run of ``epochs`` epochs (reused); else the demo's own
    unfinished run there is removed so that training starts again, and False. A folder there that
    holds anything a training run does not write is the user's: refused, never removed."""
    import shutil

    from reproductions.speech2vec.train import foreign_entry

    if _finished_run(out, epochs):
        _step(f"[{step}/{STEPS}] reusing the finished {epochs}-epoch {what} in {out}")
        return True
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise AuditError(f"the work folder's {out} is not a folder the demo wrote; move it or choose another "
                         f"--work-dir.")
    foreign = foreign_entry(out) if out.exists() else None
    if foreign is not None:
        raise AuditError(f"the work folder's {out} holds {foreign!r}, which no training run writes; move it or "
                         f"choose another --work-dir (nothing was removed).")
    _step(f"[{step}/{STEPS}] training the {what} for {epochs} epoch(s) into {out}")
    if out.exists():
        shutil.rmtree(out)   # the demo's own unfinished run: start it again
    return False


def _finished_run(out: Path, epochs: int) -> bool:
    import json

    needed = [out / "history.json", out / "vectors.txt", out / "instances.npz", out / "epochs" / "epoch_000.txt"]
    if not all(path.is_file() for path in needed):
        return False
    try:
        records = json.loads((out / "history.json").read_text(encoding="utf-8")).get("epochs") or []
    except ValueError:
        return False
    return bool(records) and records[-1].get("epoch") == epochs


def _build_release(work: Path, args) -> tuple[Path, Path, Path]:
    """The transcripts-only corpus, the forged release trained on all its subsets, and its claims."""
    from audit.corpora.offline import build_offline_corpus
    from audit.corpora.spoken import homophone_words
    from benchmarks import offline_pairs
    from reproductions.forged_release import ForgedRecipe, build_forged_release

    words = set(homophone_words())
    for pairs in offline_pairs().values():      # every word of the offline benchmarks: real coverage
        words.update(w for a, b, _ in pairs for w in (a, b))
    root = work / "corpora" / f"transcripts-lee-seed{args.seed}"
    _step(f"[4/{STEPS}] building the transcripts-only corpus in {root} (reused when already built), the forged "
          f"release and a text model on it")
    build_offline_corpus(root, source="lee", seed=args.seed, extra_words=sorted(words))
    released, claims = build_forged_release(root, work / "released-forged", ForgedRecipe(seed=args.seed),
                                            name=RELEASED_NAME)
    return root, released, claims


def _transcript_sentences(corpus: Path) -> list[list[str]]:
    """Every transcript line of the corpus, lowercased and split, in file order."""
    sentences = []
    for path in sorted((corpus / "LibriSpeech").glob("*/*/*/*.trans.txt")):
        for line in path.read_text(encoding="utf-8").split("\n"):
            _, _, text = line.partition(" ")
            if text.strip():
                sentences.append(text.lower().split())
    if not sentences:
        raise AuditError(f"the corpus {corpus} has no transcripts.")
    return sentences


def _train_text_model(corpus: Path, path: Path, args) -> Path:
    """Skip-gram word2vec on the transcripts, with the reproduction's dimension, window and min count
    (another recipe than the forged release's: window 3, min count 4, 10 epochs)."""
    from gensim.models import Word2Vec

    from audit import Vectors
    from audit.core.loaders import save_word2vec_text
    from reproductions.speech2vec.config import TrainConfig

    defaults = TrainConfig()
    sentences = _transcript_sentences(corpus)
    # one worker: gensim is deterministic for a seed only single-threaded
    model = Word2Vec(sentences, vector_size=defaults.embedding_dim, window=defaults.window,
                     min_count=defaults.min_count, sg=1, sample=defaults.subsample, seed=args.seed, workers=1,
                     epochs=TEXT_MODEL_EPOCHS)
    words = list(model.wv.index_to_key)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_word2vec_text(Vectors(words, model.wv.vectors), path)
    return path
