"""The docs test's summary line: how many blocks ran, and how many were not run here, by reason.

Printed by the process that reports (the xdist controller, or the only process), when any docs test ran.
"""

from __future__ import annotations

import pytest
from doc_blocks import tally


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    reports = [report for reports in terminalreporter.stats.values() for report in reports]
    if any(getattr(report, "nodeid", "").startswith("tests/docs/") for report in reports):
        counts = tally()
        other = ", ".join(f"{reason}: {count}" for reason, count in sorted(counts.items()) if reason != "run")
        terminalreporter.write_line(f"docs blocks: {counts['run']} run; not run here: {other or 'none'}")
