"""The report's opening block: the reality check's findings, computed after every check.

One line per finding of the run's ``findings`` result (:mod:`audit.checks.findings`): its title,
its status (supported, not supported, not tested — every status shown, none hidden), the sentence
with its numbers, and a link to the section that backs it when that section is in the report.
Then the rule and the numbers of each finding, the role each embedding played (its label, e.g.
"genuine acoustic word embedding", with the role's name) and the claims the run was given. Only
fields of the stored results are shown.
"""

from __future__ import annotations

from reports.document import FindingLine, Heading, Number, Paragraph, Table
from reports.run import ReportData

# the result kind a finding rests on -> (the anchor of its section, the section's short name)
SECTIONS = {"homophones": ("homophones", "homophone section"), "vocab": ("vocabulary", "vocabulary section"),
            "benchmarks": ("benchmarks", "benchmark section"), "provenance": ("provenance", "model provenance section")}


def _value(value) -> str:
    if isinstance(value, bool):
        return Number(value).text()   # yes / no
    if isinstance(value, float) and value.is_integer():
        return Number(int(value)).text()     # counts (JSON keeps no int/float distinction in this table)
    if isinstance(value, float):
        return Number(value, 3).text()
    return "-" if value is None else str(value)


def role_text(result, name: str) -> str:
    """An embedding's role as the reader sees it: its label with the role's name (``--roles``) beside it,
    e.g. "genuine acoustic word embedding (acoustic-model)"; the bare role when the label is the same
    word or the result (written before labels were recorded) has none."""
    role = result.roles.get(name)
    if role is None:
        return ""
    label = result.labels.get(role, role)
    return role if label == role else f"{label} ({role})"


# What a status is a judgement of: the reality check's conclusion, not the release's claim (a
# vocabulary that is exactly as claimed makes that finding "not supported").
FINDINGS_INTRO = ("Each finding is one conclusion of the reality check (that the release is not what its paper "
                  "says). Supported: these numbers show that conclusion; not supported: the numbers are there and "
                  "do not show it (a vocabulary exactly as claimed, for one); not tested: what it needs is missing or "
                  "inconclusive.")


def findings_section(data: ReportData) -> list:
    result = data.findings
    if result is None:
        return []
    blocks: list = [Heading("Findings", anchor="findings"), Paragraph(FINDINGS_INTRO)]
    for finding in result.findings:
        anchor, label = SECTIONS.get(finding.section, ("", ""))
        shown = bool(anchor) and bool(data.having(finding.section))
        blocks.append(FindingLine(finding.title, finding.status, finding.sentence,
                                  anchor if shown else "", label if shown else ""))
    blocks.append(Table(["finding", "status", "numbers", "rule"],
                        [[f.title, f.status, "; ".join(f"{k} = {_value(v)}" for k, v in f.numbers.items()) or "-",
                          f.rule] for f in result.findings],
                        caption="Each finding's numbers (from the results of its section) and the rule that decides "
                                "its status."))
    roles = [[role_text(result, name), name] for name in result.roles]
    if roles:
        blocks.append(Table(["role", "embedding"], roles, caption="The role each embedding plays in the findings "
                                                                   "(given with --roles, else inferred)."))
    if data.claims:
        rows = []
        for name, c in data.claims.items():
            scores = ", ".join(f"{k} {Number(v, 2).text()}" for k, v in c.benchmark_scores.items())
            rows.append([name, c.kind or "-", c.corpus or "-", " + ".join(c.subsets) if c.subsets else "-",
                         c.min_count, c.dim, c.benchmark_set or scores or "-", c.source or "-"])
        blocks.append(Table(["embedding", "claimed kind", "corpus", "subsets", "min count", "dim", "benchmarks",
                             "source"], rows, caption="The claims the run was given (--claims)."))
    else:
        blocks.append(Paragraph("No claims file was given (--claims): the findings compare what was found with "
                                "no stated claim.", emphasis=True))
    return blocks
