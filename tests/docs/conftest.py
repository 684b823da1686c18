"""The docs test's summary line: how many blocks ran, and how many were not run here, by reason."""

from __future__ import annotations

import pytest
from doc_blocks import TALLY


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    tally = config.stash.get(TALLY, None)
    if tally:
        other = ", ".join(f"{reason}: {count}" for reason, count in sorted(tally.items()) if reason != "run")
        terminalreporter.write_line(f"docs blocks: {tally['run']} run; not run here: {other or 'none'}")
