#!/usr/bin/env bash
# Mutation testing of the decision logic (issue 18), with mutmut (see tests/mutation/README.md).
#
#   tests/mutation/run.sh              # every module in tests/mutation/modules.txt
#   tests/mutation/run.sh stats vocab  # only those modules (by tag)
#
# Not part of the default test run (it takes minutes per module). Each module runs in its own
# copy of the working tree under $MUTATION_WORK (default: a new folder in /tmp), never in the
# tree itself: mutmut rewrites the sources it mutates, and others may be running tests here.
# For each module: only that file is mutated (optionally only the functions matching a glob),
# only its own tests run, each mutant under a CPU-time limit (mutmut's timeout_multiplier /
# timeout_constant over the tests' measured time). Prints the score per module, the
# survivors with their diffs, and the mutants listed as equivalent in equivalent.txt.
# A mutant that hits mutmut's time limit is run again in a fresh pytest process (score.py):
# mutmut's forked children can hang where a fresh process does not, and a survivor then reads
# as a timeout.
# Exit status: 0 when every module reaches the goal (default 90%, $MUTATION_GOAL), 1 otherwise.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
MUTMUT=${MUTMUT:-$(dirname "$PY")/mutmut}
WORK=$(realpath -m "${MUTATION_WORK:-$(mktemp -d /tmp/mutation.XXXXXX)}")
GOAL=${MUTATION_GOAL:-90}
CHILDREN=${MUTATION_CHILDREN:-2}
SHARED=${AUDIT_SHARED:-$ROOT/../shared}

if ! [ -x "$MUTMUT" ]; then
    echo "run.sh: mutmut is not installed; pip install -e '.[mutation]'" >&2
    exit 2
fi

selected=("$@")
mkdir -p "$WORK"
summary="$WORK/summary.tsv"
: > "$summary"
status=0

while IFS='|' read -r tag file functions tests select; do
    tag=$(echo "$tag" | xargs); file=$(echo "$file" | xargs)
    functions=$(echo "$functions" | xargs); tests=$(echo "$tests" | xargs); select=$(echo "$select" | xargs)
    [ -z "$tag" ] && continue
    case "$tag" in \#*) continue ;; esac
    if [ ${#selected[@]} -gt 0 ] && ! printf '%s\n' "${selected[@]}" | grep -qx "$tag"; then
        continue
    fi
    echo "=== $tag: $file ${functions:+(functions matching $functions)} with $tests ${select:+(-k $select)}"
    tree="$WORK/$tag/tree"
    rm -rf "$WORK/$tag"
    mkdir -p "$tree"
    # the working tree as it is now: tracked and untracked files, not ignored ones
    (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard) |
        (cd "$ROOT" && xargs -0 cp --parents -t "$tree" 2>/dev/null || true)
    # conftest reads ../shared/data beside the repository; mutmut runs the tests in tree/mutants
    ln -s "$SHARED" "$WORK/$tag/shared"
    ln -s "$SHARED" "$tree/shared"
    # every package is copied to mutants/ (so nothing is imported from the live tree); only
    # the module's file is mutated
    {
        echo "[mutmut]"
        echo "source_paths ="
        for p in audit homophones benchmarks reports reproductions; do echo "    $p"; done
        echo "only_mutate = $file"
        echo "pytest_add_cli_args_test_selection ="
        for t in $tests; do [ -e "$ROOT/$t" ] && echo "    $t"; done   # a listed file may not exist yet
        # -k: leave the module's slow tests out of the map from functions to tests
        if [ -n "$select" ]; then echo "    -k"; echo "    $select"; fi
        echo "pytest_add_cli_args ="
        for a in -p no:cacheprovider -q -x; do echo "    $a"; done
        echo "timeout_multiplier = ${MUTATION_TIMEOUT_MULTIPLIER:-4.0}"
        echo "timeout_constant = ${MUTATION_TIMEOUT_CONSTANT:-3.0}"
        echo "use_git_change_detection = false"
        # polars is not fork-safe: once its thread pool has run in a process, a forked child that
        # parses waits forever on the pool's lock (0 CPU, futex). mutmut's default forks each
        # mutant from its main process, which has run the tests (the stats pass) in-process, so
        # the loader modules' mutants would all hang; a fork server only collects the tests
        # (polars imported, never run) and forks the mutants from there.
        case "$tag" in loader-*) echo "process_isolation = forkserver"; echo "forkserver_warmup = collect" ;; esac
    } > "$tree/setup.cfg"
    names=()
    module=${file%.py}; module=${module//\//.}; module=${module%.__init__}
    if [ -n "$functions" ]; then
        for f in $functions; do names+=("$module.x*${f}*__mutmut_*"); done
    fi
    log="$WORK/$tag/mutmut.log"
    if ! (cd "$tree" && timeout "${MUTATION_MODULE_TIMEOUT:-1800}" "$MUTMUT" run --max-children "$CHILDREN" \
            ${names[@]+"${names[@]}"} > "$log" 2>&1); then
        echo "    mutmut failed or timed out (log: $log):"
        # mutmut's spinner redraws on one line: keep only its last lines of text
        tr '\r' '\n' < "$log" | grep -av "Generating mutants\|Running stats\|Running clean\|Running forced" |
            tail -n 6 | cut -c1-300 | sed 's/^/    | /'
    fi
    if ! "$PY" "$HERE/score.py" --tree "$tree" --tag "$tag" --file "$file" --functions "$functions" \
            --equivalent "$HERE/equivalent.txt" --goal "$GOAL" --summary "$summary" \
            --tests "$tests" --select "$select"; then
        status=1
    fi
done < "$HERE/modules.txt"

echo
echo "=== mutation score per module (goal ${GOAL}%; equivalent mutants left out of the count)"
column -t -s $'\t' "$summary"
echo "(work folder: $WORK)"
exit $status
