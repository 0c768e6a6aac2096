"""Append one benchmark entry to ``bench/results.md`` (shared by every benchmark in ``bench/``).

Why one helper: a number is only worth keeping with the facts that explain it
(which machine, how busy it was, which commit, which command), and every
benchmark should record those the same way so entries stay comparable. The file
is append-only: a new run never rewrites an older entry.

Usage::

    from _record import begin, record

    started = begin()            # load average and time at the start
    ...                          # run the benchmark
    record(
        "Throughput",            # title of the entry
        {"meldingen": 1000},     # parameters (a small dict, shown as a list)
        [{"run": "a", "s": 1.5}],  # rows of the main table (dicts; keys are the columns)
        started=started,
        tables={"Where the time goes": [...]},  # optional further tables
        notes=["..."],           # optional free text lines
    )

Numbers and what they mean never include a BSN or an outcome: benchmarks record
counts and times only.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shlex
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results.md"
#: overrides where entries go (the smoke test writes to a temporary file)
RESULTS_ENV = "NAZORG_BENCH_RESULTS"

Row = Mapping[str, object]


@dataclass(frozen=True)
class Started:
    """What :func:`begin` saw: wall-clock start and the load average then."""

    at: datetime
    monotonic: float
    loadavg: str
    #: the commit when the run started (what was measured, even if a commit lands meanwhile)
    commit: str


def loadavg() -> str:
    """The 1, 5 and 15 minute load averages (``/proc/loadavg``), e.g. ``"0.52 0.61 0.40"``."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def begin() -> Started:
    return Started(datetime.now(UTC), time.monotonic(), loadavg(), git_commit())


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                kib = int(line.split()[1])
                return f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError):
        pass
    return "unknown"


def machine() -> dict[str, str]:
    """The facts about this machine that a number depends on."""
    return {
        "nproc": str(os.cpu_count() or "unknown"),
        "memory": _memory(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }


def git_commit(repo: Path = REPO) -> str:
    """The checked-out commit, with ``-dirty`` when tracked files differ from it."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
        ).stdout.strip()

    commit = git("rev-parse", "--short=12", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return f"{commit}-dirty" if dirty else commit


def command_line(argv: Sequence[str] | None = None) -> str:
    argv = list(sys.argv if argv is None else argv)
    if argv and Path(argv[0]).is_absolute():
        with contextlib.suppress(ValueError):
            argv[0] = str(Path(argv[0]).relative_to(REPO))
    return "python " + shlex.join(argv)


def _cell(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(rows: Sequence[Row]) -> str:
    """Rows (dicts) as a markdown table; columns are the keys in first-seen order."""
    if not rows:
        return "(no rows)\n"
    columns: list[str] = []
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    lines = [
        "| " + " | ".join(columns) + " |",
        "|" + "|".join("---" for _ in columns) + "|",
    ]
    lines += ["| " + " | ".join(_cell(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def results_path(path: Path | None = None) -> Path:
    if path is not None:
        return path
    override = os.environ.get(RESULTS_ENV)
    return Path(override) if override else RESULTS


def render(
    title: str,
    parameters: Mapping[str, object],
    rows: Sequence[Row],
    *,
    started: Started,
    tables: Mapping[str, Sequence[Row]] | None = None,
    notes: Iterable[str] = (),
    command: str | None = None,
) -> str:
    """One entry as markdown (see :func:`record`)."""
    ended = datetime.now(UTC)
    facts = machine()
    lines = [
        f"## {title}: {started.at.strftime('%Y-%m-%d %H:%M')} UTC",
        "",
        f"- date: {started.at.isoformat(timespec='seconds')} to {ended.isoformat(timespec='seconds')}"
        f" ({time.monotonic() - started.monotonic:.0f} s)",
        f"- machine: nproc {facts['nproc']}, memory {facts['memory']}, cpu {facts['cpu']}, "
        f"python {facts['python']}, {facts['os']}",
        f"- load average (1/5/15 min): start {started.loadavg}, end {loadavg()}",
        f"- commit: {started.commit}",
        f"- command: `{command or command_line()}`",
    ]
    lines += [f"- {key}: {_cell(value)}" for key, value in parameters.items()]
    lines += ["", markdown_table(rows)]
    for caption, table in (tables or {}).items():
        lines += [f"{caption}:", "", markdown_table(table)]
    notes = list(notes)
    if notes:
        lines += [*(f"{note}" for note in notes), ""]
    return "\n".join(lines) + "\n"


def record(
    title: str,
    parameters: Mapping[str, object],
    rows: Sequence[Row],
    *,
    started: Started,
    tables: Mapping[str, Sequence[Row]] | None = None,
    notes: Iterable[str] = (),
    command: str | None = None,
    path: Path | None = None,
) -> Path:
    """Append an entry to the results file (``path``, ``$NAZORG_BENCH_RESULTS`` or ``bench/results.md``).

    The entry holds the title and start time, date and duration, machine facts
    (nproc, memory, cpu model, python), the load average at start and end, the
    git commit, the command, the parameters, the rows as a markdown table and any
    further tables and notes. Returns the file written to.
    """
    target = results_path(path)
    entry = render(title, parameters, rows, started=started, tables=tables, notes=notes, command=command)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        target.write_text("# Benchmark results\n\nAppend-only; see bench/README.md.\n\n", encoding="utf-8")
    with target.open("a", encoding="utf-8") as handle:
        handle.write(entry + "\n")
    return target
