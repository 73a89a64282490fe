"""Time of `audit homophones --pairs paper-307` on a generated 400,000 x 50 GloVe text file.

Run: .venv/bin/python tests/perf/bench_homophones.py [--words 400000] [--dim 50] [--repeat 5]

The file holds every word of the paper's 307 pairs at random positions among generated words.
Prints the median wall time of the command end to end (a fresh process: imports, load, check,
table, --json), of the load and of the check alone, and, measured in the same run as
baselines, the check's ranking done with the core helpers (Vectors.nearest + Vectors.ranks for
the same queries and targets) and the bare matrix products the scan cannot avoid, and a
yardstick of the machine's speed (FACTS.md's pandas read of the same file, 0.58 s there).
Goal (issue 3): the command <= 3 s wall including load on the 2-core machine.

Scale mode (issue 16): ``--vec PATH`` (the 1,000,000 x 300 fastText-style file that
tests/perf/bench_scale.py generates, e.g. /tmp/embedding-audit-bench/vec-1000000x300.vec;
``--cache-dir DIR`` loads it from a memory-mapped copy) runs, one fresh child process at a
time, each reaped with os.wait4 for its own peak RSS: the load alone; the load then
homophones.check (paper-307) timed in-process; the load then the simple implementation of the
same ranks and neighbours (a unit-normalised copy of the matrix, one matrix product per block
of query words against all rows, counts and argpartition), as the reference; and the whole
commands `audit info` and `audit homophones`. Prints load seconds, check seconds (and its CPU
seconds), peak RSS / matrix bytes, the reference's time and memory as ratios, whether the
reference's ranks equal the check's, and the goals: check <= 3 s after the load (in-process),
`audit homophones` <= `audit info` + 3 s (whole process), peak RSS of `audit homophones` <=
2.2x the float32 matrix + 300 MB. Exits 1 when one is missed.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import audit  # noqa: E402
import homophones  # noqa: E402
from homophones.check import _control_targets, _rows, _filter  # noqa: E402
from perfutil import timed, write_text_vectors  # noqa: E402

GOAL_SECONDS = 3.0
FACTS_PANDAS_SECONDS = 0.58   # FACTS.md: the same read on the machine the goal was set on


def generate(path: Path, n_words: int, dim: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    paper_words = sorted({w for p in homophones.load_pairs("paper-307").pairs for w in (p.word1, p.word2)})
    words = [f"w{i}" for i in range(n_words - len(paper_words))]
    for word in paper_words:  # scattered, so no chunk of the scan is special
        words.insert(int(rng.integers(0, len(words) + 1)), word)
    write_text_vectors(path, words, rng.normal(scale=0.4, size=(n_words, dim)).astype(np.float32))


def core_helper_ranking(vectors, pairs) -> None:
    """The same ranks and neighbours from Vectors.nearest / Vectors.ranks (the baseline)."""
    found, _ = _filter(vectors, pairs)
    left, right = _rows(vectors, found)
    control = _control_targets(found, left, right, np.random.default_rng(0))
    queries = np.unique(np.concatenate([left, right]))
    vectors.nearest(queries, 3)
    vectors.ranks(np.concatenate([left, right, left[control.pair], right[control.pair]]),
                  np.concatenate([right, left, control.right, control.left_of]))


def matrix_products(vectors, pairs) -> int:
    """The floor: every query scored against every word once, nothing else; the number of queries."""
    found, _ = _filter(vectors, pairs)
    left, right = _rows(vectors, found)
    queries = vectors.unit[np.unique(np.concatenate([left, right]))]
    buffer = np.empty((len(queries), 32768), dtype=np.float32)
    for start in range(0, len(vectors), 32768):
        chunk = vectors.unit[start:start + 32768]
        np.matmul(queries, chunk.T, out=buffer[:, :len(chunk)])
    return len(queries)


def pandas_parse(path: Path) -> None:
    """FACTS.md's 'pandas C engine' row (the same call), as a yardstick of this machine's speed."""
    import csv

    import pandas as pd
    pd.read_csv(path, sep=" ", header=None, quoting=csv.QUOTE_NONE, keep_default_na=False, na_values=[],
                engine="c")


# ------------------------------------------------------------------------------ scale mode (issue 16)
SCALE_CHECK_SECONDS = 3.0          # the check after the load, in-process and whole-process
SCALE_RSS_FACTOR, SCALE_RSS_EXTRA = 2.2, 300e6   # peak RSS <= 2.2x the float32 matrix + 300 MB
BORDER = 1e-6   # float32 scores of unit vectors differ by ~1e-7 between two product shapes (300 dims)

SCALE_CHILD = """
import json, sys, time
import numpy as np
sys.path.insert(0, sys.argv[4])
import audit, homophones
mode, path, cache = sys.argv[1], sys.argv[2], sys.argv[3] or None
start = time.perf_counter()
vectors = audit.load(path, cache_dir=cache)
out = {"load": time.perf_counter() - start, "rows": len(vectors), "dim": vectors.dim}
pairs = homophones.load_pairs("paper-307")
if mode == "check":
    cpu, start = time.process_time(), time.perf_counter()
    result = homophones.check(vectors, pairs)
    out.update(check=time.perf_counter() - start, check_cpu=time.process_time() - cpu, found=result.pairs.found,
               verdict=result.verdict, ranks=[[r.rank_1_to_2, r.rank_2_to_1] for r in result.pair_table],
               neighbours=[[r.neighbours1, r.neighbours2] for r in result.pair_table],
               unit_built="unit" in vectors._cache)
elif mode == "floor":
    # What any exact check must do after the load: find the pairs' rows, and score every query
    # word against every row (the same product shape the scan uses, nothing else).
    from bench_homophones import matrix_products
    start = time.perf_counter()
    vectors.rows_of(w for pair in pairs.pairs for w in (pair.word1, pair.word2))
    out["lookup"] = time.perf_counter() - start
    vectors.unit   # noqa: B018 - the products read unit rows; not part of the floor
    cpu, start = time.process_time(), time.perf_counter()
    queries = matrix_products(vectors, pairs)
    out.update(products=time.perf_counter() - start, products_cpu=time.process_time() - cpu, queries=queries)
elif mode == "simple":
    from bench_homophones import simple_ranking
    cpu, start = time.process_time(), time.perf_counter()
    ranks, neighbours = simple_ranking(vectors, pairs)
    out.update(check=time.perf_counter() - start, check_cpu=time.process_time() - cpu, ranks=ranks[0],
               border=ranks[1], neighbours=neighbours)
print(json.dumps(out))
"""


def simple_ranking(vectors, pairs, k: int = 3, block_bytes: int = 256 * 2 ** 20):
    """The reference: the same directed ranks (homophone and control requests, as the check
    makes them) and k nearest neighbours, done the simple way: the unit-normalised copy of the
    whole matrix, then per block of query words one matrix product with every row, a count per
    request and argpartition. Returns ((ranks, border), neighbour words) per found pair: border
    counts the rows whose float32 score lies within BORDER of the rank's threshold, where float32
    rounding (which depends on the shape of the product) may tip a row either way."""
    from homophones.neighbours import TIE_TOLERANCE
    found, _ = _filter(vectors, pairs)
    left, right = _rows(vectors, found)
    control_stream = np.random.default_rng(np.random.SeedSequence(0).spawn(4)[1])  # the check's control draw
    control = _control_targets(found, left, right, control_stream)
    requests = list(zip(left, right)) + list(zip(right, left)) + list(zip(left[control.pair], control.right)) \
        + list(zip(right[control.pair], control.left_of))
    unit = vectors.unit                      # the full-size copy this reference is about
    invalid = ~vectors.valid
    queries = np.unique(np.concatenate([left, right]))
    by_query: dict[int, list[int]] = {}
    for i, (q, _) in enumerate(requests):
        by_query.setdefault(int(q), []).append(i)
    rank = np.full(len(requests), np.nan)
    border = np.zeros(len(requests), dtype=np.int64)
    nearest: dict[int, list[str]] = {}
    step = max(1, block_bytes // (4 * len(vectors)))
    for start in range(0, len(queries), step):
        block = queries[start:start + step]
        scores = unit[block] @ unit.T
        scores[:, invalid] = -np.inf
        scores[np.arange(len(block)), block] = -np.inf
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        for row, q in enumerate(block.tolist()):
            best = top[row][np.lexsort(([vectors.words[r] for r in top[row]], -scores[row, top[row]]))]
            nearest[q] = [vectors.words[r] for r in best]
            for i in by_query[q]:
                target = int(requests[i][1])
                threshold = np.float32(vectors.pair_similarities(np.array([q]), np.array([target]))[0] + TIE_TOLERANCE)
                rank[i] = 1 + int(np.count_nonzero(scores[row] > threshold))
                border[i] = int(np.count_nonzero(np.abs(scores[row] - threshold) <= BORDER))
    n = len(found)
    return (([[float(rank[i]), float(rank[n + i])] for i in range(n)],
             [[int(border[i]), int(border[n + i])] for i in range(n)]),
            [[nearest[int(left[i])], nearest[int(right[i])]] for i in range(n)])


def scale_main(args) -> int:
    from bench_scale import spawn

    path = Path(args.vec)
    if not path.is_file():
        print(f"{path} does not exist: generate it with tests/perf/bench_scale.py (its cache folder).")
        return 2
    cache = args.cache_dir or ""
    here = str(Path(__file__).resolve().parent)

    def cpu_of_children() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)   # reaped children, summed
        return usage.ru_utime + usage.ru_stime

    def child(mode: str) -> dict:
        before, cpu = os.getloadavg()[0], cpu_of_children()
        result = spawn([sys.executable, "-c", SCALE_CHILD, mode, str(path), cache, here])
        result["loadavg"], result["cpu"] = (before, os.getloadavg()[0]), cpu_of_children() - cpu
        if result["code"] != 0 or "load" not in result:
            raise SystemExit(f"the {mode} child failed (exit {result['code']}): {result['stderr'].strip()[-400:]}")
        return result

    def command(name: str) -> dict:
        before, cpu = os.getloadavg()[0], cpu_of_children()
        cached = ["--cache-dir", cache] if cache else []
        result = spawn([str(REPO / ".venv" / "bin" / "audit"), name, str(path), *cached])
        result["loadavg"], result["cpu"] = (before, os.getloadavg()[0]), cpu_of_children() - cpu
        if result["code"] != 0:
            raise SystemExit(f"audit {name} failed (exit {result['code']}): {result['stderr'].strip()[-400:]}")
        return result

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start (other work inflates "
          f"wall times; compare the ratios measured in this run)")
    print(f"file: {path} ({path.stat().st_size / 1e9:.2f} GB){'; loaded from the cache ' + cache if cache else ''}")
    load_only = child("load")
    matrix_bytes = load_only["rows"] * load_only["dim"] * 4
    budget = SCALE_RSS_FACTOR * matrix_bytes + SCALE_RSS_EXTRA
    ours = child("check")
    floor = child("floor")
    simple = child("simple")
    info = command("info")
    homophones_cmd = command("homophones")
    ours_ranks, ref_ranks = np.array(ours["ranks"]), np.array(simple["ranks"])
    differ = ours_ranks != ref_ranks
    within_border = bool(np.all(np.abs(ours_ranks - ref_ranks) <= np.array(simple["border"])))
    same_ranks = not differ.any()
    rank_word = "equal" if same_ranks else "within the border" if within_border else "DIFFERENT"
    same_neighbours = ours["neighbours"] == simple["neighbours"]
    print(f"{load_only['rows']:,} x {load_only['dim']} float32 matrix: {matrix_bytes / 1e9:.2f} GB; memory goal "
          f"{SCALE_RSS_FACTOR}x + {SCALE_RSS_EXTRA / 1e6:.0f} MB = {budget / 1e9:.2f} GB; "
          f"{ours['found']} of 307 pairs found, verdict {ours['verdict']}")
    print(f"  {'(fresh process each, one at a time)':52s} {'load s':>7s} {'check s':>8s} {'check CPU s':>12s} "
          f"{'peak RSS':>9s} {'/matrix':>8s} {'process CPU s':>13s}  load avg")
    for name, r in (("load alone", load_only), ("load + homophones.check", ours),
                    ("load + simple reference (unit copy + matmul/block)", simple)):
        check_s = f"{r['check']:8.2f}" if "check" in r else f"{'':8s}"
        cpu_s = f"{r['check_cpu']:12.2f}" if "check_cpu" in r else f"{'':12s}"
        print(f"  {name:52s} {r['load']:7.2f} {check_s} {cpu_s} {r['rss'] / 1e9:8.2f}G {r['rss'] / matrix_bytes:8.2f}"
              f" {r['cpu']:13.2f}  {r['loadavg'][0]:.1f} -> {r['loadavg'][1]:.1f}")
    for name, r in (("audit info (whole process)", info), ("audit homophones (whole process)", homophones_cmd)):
        print(f"  {name:52s} {r['wall']:7.2f} {'':8s} {'':12s} {r['rss'] / 1e9:8.2f}G {r['rss'] / matrix_bytes:8.2f}"
              f" {r['cpu']:13.2f}  {r['loadavg'][0]:.1f} -> {r['loadavg'][1]:.1f}")
    print(f"  the check builds the unit-normalised copy: {ours['unit_built']}; CPU seconds are user + system of all "
          f"threads (an idle {os.cpu_count()}-core machine gives at best CPU / {os.cpu_count()} wall in the "
          f"parallel scan)")
    flops = 2 * floor["queries"] * load_only["rows"] * load_only["dim"]
    print(f"floor of any exact check (same run): finding the pairs' rows {floor['lookup']:.2f} s (one pass, as the check); the products of the "
          f"{floor['queries']} query words with every row {floor['products']:.2f} s ({flops / 1e9:.0f} GFLOP, "
          f"{flops / 1e9 / floor['products']:.0f} GFLOP/s of BLAS, {floor['products_cpu']:.2f} CPU s); the check is "
          f"{ours['check'] / (floor['lookup'] + floor['products']):.2f}x their sum")
    print(f"reference (simple implementation, same run): check {simple['check'] / ours['check']:.2f}x the time "
          f"({simple['check_cpu'] / ours['check_cpu']:.2f}x the CPU), peak RSS "
          f"{simple['rss'] / ours['rss']:.2f}x; the same neighbours: {same_neighbours}")
    print(f"  directed homophone ranks: {int(differ.sum())} of {differ.size} differ from the reference's, by at most "
          f"{int(np.abs(ours_ranks - ref_ranks).max())}; every difference within the rows whose float32 score lies "
          f"within {BORDER:g} of the threshold (rounding of the two product shapes): {within_border}")
    goals = [
        (f"homophones.check <= {SCALE_CHECK_SECONDS:.0f} s after the load (in-process)",
         ours["check"] <= SCALE_CHECK_SECONDS, f"{ours['check']:.2f} s"),
        (f"audit homophones <= audit info + {SCALE_CHECK_SECONDS:.0f} s (whole process)",
         homophones_cmd["wall"] <= info["wall"] + SCALE_CHECK_SECONDS,
         f"{homophones_cmd['wall']:.2f} s vs {info['wall']:.2f} + {SCALE_CHECK_SECONDS:.0f} s"),
        (f"audit homophones peak RSS <= {SCALE_RSS_FACTOR}x matrix + {SCALE_RSS_EXTRA / 1e6:.0f} MB",
         homophones_cmd["rss"] <= budget, f"{homophones_cmd['rss'] / 1e9:.2f} GB (goal {budget / 1e9:.2f})"),
        ("the check's neighbours equal the simple reference's, its ranks too up to float32 rounding at the border",
         same_neighbours and within_border, f"neighbours {same_neighbours}, ranks {rank_word}"),
    ]
    print("goals:")
    for name, ok, value in goals:
        print(f"  {'met    ' if ok else 'MISSED '} {name}: {value}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    return 0 if all(ok for _, ok, _ in goals) else 1


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--words", type=int, default=400_000)
    parser.add_argument("--dim", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--vec", metavar="PATH", help="scale mode (issue 16): this embedding file, e.g. the "
                        "1,000,000 x 300 .vec that bench_scale.py generates")
    parser.add_argument("--cache-dir", metavar="DIR", help="scale mode: load through this cache (memory-mapped copy)")
    args = parser.parse_args()
    if args.vec:
        return scale_main(args)
    cli = [str(REPO / ".venv" / "bin" / "audit"), "homophones"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "glove.txt"
        generate(path, args.words, args.dim)
        size_mb = path.stat().st_size / 1e6
        path.read_bytes()  # warm the page cache
        command = cli + [str(path), "--pairs", "paper-307", "--json", str(Path(tmp) / "out.json")]
        subprocess.run(command, check=True, capture_output=True)  # warm imports' file cache
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        command_s, _ = timed(lambda: subprocess.run(command, check=True, capture_output=True), args.repeat)
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        # A repeat audit of the same file with the binary cache (--cache-dir), first run fills it.
        cached = command + ["--cache-dir", str(Path(tmp) / "cache")]
        subprocess.run(cached, check=True, capture_output=True)
        cached_s, _ = timed(lambda: subprocess.run(cached, check=True, capture_output=True), args.repeat)
        command_cpu_s = ((cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)) \
            / args.repeat
        load_s, vectors = timed(lambda: audit.load(path), args.repeat)
        pairs = homophones.load_pairs("paper-307")
        vectors.unit  # noqa: B018 - computed once per Vectors; time it with the check
        check_s, result = timed(lambda: homophones.check(vectors, pairs), args.repeat)
        core_s, _ = timed(lambda: core_helper_ranking(vectors, pairs), 1)
        yardstick_s, _ = timed(lambda: pandas_parse(path), args.repeat)
        floor_s, _ = timed(lambda: matrix_products(vectors, pairs), args.repeat)
    print(f"file: {args.words:,} x {args.dim} GloVe text, {size_mb:.0f} MB; "
          f"{result.pairs.found} of 307 pairs found, verdict {result.verdict}")
    print(f"audit homophones --pairs paper-307 (end to end): {command_s:.2f} s  (goal <= {GOAL_SECONDS:.0f} s)")
    print(f"  CPU time of the command (user + sys, all threads): {command_cpu_s:.2f} s; "
          f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other work inflates wall times)")
    print(f"  the same, repeat audit with --cache-dir:     {cached_s:.2f} s")
    print(f"  audit.load alone:                            {load_s:.2f} s")
    print(f"  homophones.check alone:                      {check_s:.2f} s")
    print(f"baseline: same ranks with Vectors.nearest + Vectors.ranks: {core_s:.2f} s  "
          f"(check is {core_s / check_s:.1f}x faster)")
    print(f"floor: matrix products of the queries with every word:    {floor_s:.2f} s  "
          f"(check = {check_s / floor_s:.1f}x the floor)")
    print(f"machine yardstick: FACTS.md's pandas C-engine read of the file: {yardstick_s:.2f} s here vs "
          f"{FACTS_PANDAS_SECONDS} s there (ratio {yardstick_s / FACTS_PANDAS_SECONDS:.1f}; FACTS.md does not say "
          f"which pandas, and pandas 3.1 reads a large file on every core)")
    print("goal:", "met" if command_s <= GOAL_SECONDS else "NOT met",
          "| with the cache:", "met" if cached_s <= GOAL_SECONDS else "NOT met")
    return 0 if command_s <= GOAL_SECONDS and cached_s <= GOAL_SECONDS else 1   # 1: a goal is missed


if __name__ == "__main__":
    sys.exit(main())
