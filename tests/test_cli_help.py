"""``xenabi --help`` speaks to users: what the tool checks, every command, exit codes."""

from __future__ import annotations

import pytest

from xenabi.cli import main

#: the commands the README documents
COMMANDS = ["check", "rules", "dump", "snapshot", "diff", "check-patch", "history"]


def _help(capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    return capsys.readouterr().out


def test_help_lists_every_command_once(capsys: pytest.CaptureFixture[str]) -> None:
    listed = [line.split()[0] for line in _help(capsys).split("commands:")[1].splitlines()
              if line.startswith("    ") and not line.startswith("     ")]
    assert listed == COMMANDS


def test_help_says_what_is_checked_and_the_exit_codes(capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    text = _help(capsys)
    assert text.splitlines()[2].startswith("Check the binary interface of Xen's public headers")
    assert "Exit codes: 0 clean; 1 an unwaived error" in text
    assert "2 unusable input" in text
    # the module docstring is for developers: none of its words or markup reach users
    assert "subcommand" not in text and "``" not in text
