"""The collector is paused inside the block and left as it was found after it."""

from __future__ import annotations

import gc

import pytest

from xenabi import gcpause


@pytest.mark.parametrize("enabled", [True, False], ids=["was on", "was off"])
def test_paused_restores_the_collectors_state(enabled: bool) -> None:
    (gc.enable if enabled else gc.disable)()
    try:
        with pytest.raises(RuntimeError), gcpause.paused():
            assert not gc.isenabled()
            raise RuntimeError("an error inside the block")
        assert gc.isenabled() is enabled
    finally:
        gc.enable()
