"""Waived findings in ``check``'s text: one short line each; in full with ``--show-waived``.

Expected places come from the texts themselves: the header line that defines the
symbol and the ``[[waiver]]`` line of the shipped list that names it.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from xenabi.cli import main

REAL = Path(__file__).resolve().parents[1] / "headers" / "xen-4.17"
ARM = "xen/include/public/arch-arm.h"


def _line_of(text: str, needle: str) -> int:
    return next(i for i, ln in enumerate(text.splitlines(), 1) if needle in ln)


def _waiver_line(symbol: str) -> int:
    lines = resources.files("xenabi").joinpath("data/waivers.toml").read_text().splitlines()
    at = _line_of("\n".join(lines), f'symbol = "{symbol}"')
    return max(i for i in range(1, at + 1) if lines[i - 1].strip() == "[[waiver]]")


def _check(capsys: pytest.CaptureFixture[str], *extra: str) -> list[str]:
    if not (REAL / ARM).is_file():
        pytest.skip("no headers/xen-4.17")
    code = main(["check", "--xen-root", str(REAL), "--rule", "flags", *extra])
    assert code == 0
    return capsys.readouterr().out.splitlines()


def test_a_waived_finding_is_one_short_line_naming_its_waiver(
        capsys: pytest.CaptureFixture[str]) -> None:
    out = _check(capsys)
    waived = [ln for ln in out if ln.startswith("waived")]
    define = _line_of((REAL / ARM).read_text(), "#define PSR_DBG_MASK")
    assert (f"waived [flags] PSR_DBG_MASK at {ARM}:{define} "
            f"(xenabi/data/waivers.toml:{_waiver_line('PSR_DBG_MASK')})") in waived
    assert len(waived) == 2  # PSR_DBG_MASK and PSR_IT_MASK, the shipped flags waivers
    assert all("error:" not in ln and len(ln) < 120 for ln in waived)


def test_show_waived_prints_the_finding_the_reason_and_the_evidence(
        capsys: pytest.CaptureFixture[str]) -> None:
    out = _check(capsys, "--show-waived")
    (full,) = [ln for ln in out if "PSR_DBG_MASK" in ln and ln.startswith("waived")]
    assert full.startswith(f"waived: {ARM}:")
    assert "error: PSR_DBG_MASK (bit 9) shares bit 9 with PSR_BIG_ENDIAN" in full
    # words of the shipped reason (waivers.toml), not of the rule's message
    assert "AArch32" in full and "AArch64" in full and "DDI 0487" in full
