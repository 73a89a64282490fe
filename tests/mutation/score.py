"""Score one module's mutmut run: killed / (mutants - equivalent), the survivors with their
diffs, and the equivalent mutants with the reason each cannot be killed.

Called by run.sh once per module, in that module's copy of the tree. ``equivalent.txt`` has one
kind of mutant a line: ``mutant name pattern | the mutated line as the mutant has it | why no
test can tell it apart``. A surviving mutant is equivalent when its name matches the pattern
and its diff adds exactly that line (names alone would drift: mutmut numbers mutants by
position, so an edit above renumbers them).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import subprocess
import sys
from pathlib import Path

KILLED = {1, 3, 36, -24, 24, 152, 255}   # test failure, pytest internal error, timeouts
NAMES = {0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", 35: "suspicious", None: "not checked",
         -11: "segfault", -9: "segfault", 37: "type check"}


def load_equivalent(path: Path) -> list[tuple[str, str, str]]:
    """(mutant name pattern, the mutated line as mutmut writes it, reason) per entry."""
    entries = []
    if not path.is_file():
        return entries
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        pattern, text, reason = (part.strip() for part in line.split("|", 2))
        entries.append((pattern, text, reason))
    return entries


def equivalent_reason(entries, name: str, diff: str) -> str | None:
    added = {line[1:].strip() for line in diff.splitlines() if line.startswith("+")}
    for pattern, text, reason in entries:
        if fnmatch.fnmatchcase(name, pattern) and text in added:
            return reason
    return None


def diff_of(tree: Path, file: str, name: str) -> str:
    """The mutant's changed lines (mutmut's own diff, read in this process from tree/mutants)."""
    try:
        from mutmut.mutation.diff_apply import get_diff_for_mutant

        text = get_diff_for_mutant(name, path=Path(file))
    except Exception:   # an older or newer mutmut: ask its command line
        done = subprocess.run([str(Path(sys.executable).parent / "mutmut"), "show", name], cwd=tree,
                              capture_output=True, text=True, timeout=120)
        text = done.stdout
    lines = text.splitlines()
    return "\n".join(line for line in lines if line.startswith(("-", "+")) and not line.startswith(("---", "+++")))


def run_directly(tree: Path, name: str, tests: list[str], select: str, limit: float = 60.0) -> str:
    """A mutant that hit mutmut's time limit, run again in a fresh pytest process (no fork server):
    'killed' when a test fails, 'survived' when they all pass, 'timeout' when it runs past ``limit``.
    mutmut's forked children can hang where a fresh process does not (a library thread pool used
    before the fork), and then a survivor reads as a timeout."""
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
               *[t for t in tests if (tree / "mutants" / t).exists()]]
    if select:
        command += ["-k", select]
    try:
        done = subprocess.run(command, cwd=tree / "mutants", env={**os.environ, "MUTANT_UNDER_TEST": name},
                              capture_output=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return "timeout"
    return {0: "survived", 1: "killed"}.get(done.returncode, f"exit {done.returncode}")


def main() -> int:
    parser = argparse.ArgumentParser()
    for option in ("--tree", "--tag", "--file", "--functions", "--equivalent", "--summary"):
        parser.add_argument(option, required=True)
    parser.add_argument("--goal", type=float, required=True)
    parser.add_argument("--tests", default="", help="the module's test files: timeouts are run again directly")
    parser.add_argument("--select", default="")
    args = parser.parse_args()
    tree = Path(args.tree)
    os.chdir(tree)
    meta = tree / "mutants" / (args.file + ".meta")
    if not meta.is_file():
        print(f"    no results for {args.file} (mutmut did not get to run its mutants)")
        with open(args.summary, "a", encoding="utf-8") as out:
            out.write(f"{args.tag}\t{args.file}\tno run\t\t\t\tFAILED\n")
        return 1
    codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
    patterns = [p for p in args.functions.split() if p]
    if patterns:
        module = args.file[:-3].replace("/", ".").removesuffix(".__init__")
        wanted = [f"{module}.x*{p}*__mutmut_*" for p in patterns]
        codes = {k: v for k, v in codes.items() if any(fnmatch.fnmatchcase(k, w) for w in wanted)}
    equivalent = load_equivalent(Path(args.equivalent))
    killed, survivors, equivalents = [], [], []
    not_run = sorted(name for name, code in codes.items() if code is None)
    codes = {name: code for name, code in codes.items() if code is not None}
    timed_out = []
    for name, code in sorted(codes.items()):
        if code in (1, 3):
            killed.append(name)
            continue
        diff = diff_of(tree, args.file, name)
        if code in KILLED and args.tests:   # the time limit: told apart by a direct run
            verdict = run_directly(tree, name, args.tests.split(), args.select)
            if verdict == "killed":
                killed.append(name)
                continue
            if verdict == "survived":
                code = 0
        if code in KILLED:   # the time limit: an equivalent mutant on a loaded machine, or a real loop
            if equivalent_reason(equivalent, name, diff) is None:
                killed.append(name)
                timed_out.append((name, diff))
                continue
        reason = equivalent_reason(equivalent, name, diff)
        if reason is not None:
            equivalents.append((name, diff, reason))
            continue
        survivors.append((name, NAMES.get(code, f"exit {code}"), diff))
    counted = len(codes) - len(equivalents)
    by_tests = len(killed) - len(timed_out)
    # The headline score counts only mutants a test failed on: on a loaded machine a slow survivor
    # can hit the time limit, so a timeout is not proof of a kill (each is listed below).
    score = 100.0 * by_tests / counted if counted else 0.0
    with_timeouts = 100.0 * len(killed) / counted if counted else 0.0
    ok = counted > 0 and score >= args.goal
    print(f"    {args.tag}: {by_tests} of {counted} mutants killed by a failing test: {score:.1f}% "
          f"{'ok' if ok else 'BELOW GOAL'}; {len(timed_out)} more hit the time limit ({with_timeouts:.1f}% counting "
          f"them); {len(equivalents)} equivalent left out", flush=True)
    if not_run:
        print(f"    NOT RUN: {len(not_run)} mutants (the module's time limit ended the run first); not counted")
    for name, diff, reason in equivalents:
        print(f"    equivalent {name}: {reason}")
        for line in diff.splitlines():
            print(f"        {line}")
    sys.stdout.flush()
    for name, diff in timed_out:   # not in the headline score; shown so a loop can be told from a slow survivor
        print(f"    hit the time limit: {name}")
        for line in diff.splitlines():
            print(f"        {line}")
    for name, why, diff in survivors:
        print(f"    {why}: {name}")
        for line in diff.splitlines():
            print(f"        {line}")
    with open(args.summary, "a", encoding="utf-8") as out:
        out.write(f"{args.tag}\t{args.file}\t{by_tests}/{counted}\t{score:.1f}%\t{len(timed_out)} timeouts "
                  f"({with_timeouts:.1f}% with them)\t{len(equivalents)} equivalent\t"
                  f"{len(survivors)} survived\t{len(not_run)} not run\t{'ok' if ok else 'BELOW GOAL'}\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
