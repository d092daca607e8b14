"""The README's "Findings in Xen 4.17" names every waiver xenabi ships for 4.17, and counts them.

The waiver file is what ``check`` applies; the README is what a maintainer reads first.
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Findings in Xen 4.17")
    return text[start:text.index("\n## ", start + 1)]


def _shipped_417() -> list[dict[str, object]]:
    data = tomllib.loads((resources.files("xenabi") / "data" / "waivers.toml")
                         .read_text(encoding="utf-8"))
    return [w for w in data["waiver"] if w["found_in"] == "4.17"]


def test_every_shipped_waiver_is_named_in_the_readme():
    quoted = set(re.findall(r"`([^`]+)`", _section().replace("\n  ", " ")))
    names = {q.split(" ")[-1] for q in quoted}
    missing = []
    for w in _shipped_417():
        # struct xenfb_page -> xenfb_page; a member xen_sysctl_livepatch_action.time ->
        # both the record and the member
        parts = str(w["symbol"]).split(" ")[-1].split(".")
        if not set(parts) <= names:
            missing.append(str(w["symbol"]))
    assert not missing, f"README findings section does not name: {missing}"


def test_the_readme_counts_the_shipped_waivers():
    said = re.search(r"the rules make (\d+) errors", _section())
    assert said is not None, "the section no longer says how many errors the rules make"
    assert int(said.group(1)) == len(_shipped_417())
