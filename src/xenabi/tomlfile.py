"""Where each table of a TOML file starts: tomllib gives values, not lines.

The waiver list and the Arm list are TOML arrays of tables; a finding about an
entry names its line, so both read the lines the same way here.
"""

from __future__ import annotations

import re


def table_lines(text: str, name: str) -> list[int]:
    """The line of each ``[[name]]`` of a TOML text, in order."""
    header = re.compile(rf"\s*\[\[\s*{re.escape(name)}\s*\]\]")
    return [no for no, line in enumerate(text.splitlines(), 1) if header.match(line)]
