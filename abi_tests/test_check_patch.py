"""``xenabi check-patch`` on the real tree with the SIF_HVM_GHCB seed and its variants.

The seed (``shared/seed/sif-hvm-ghcb.mangled.patch`` beside the checkout)
was made against master and copied out of a web archive: context lines lost
their leading whitespace, blank context lines vanished, runs of spaces
collapsed. Where the hunks go is checked against independent answers: GNU
patch places the pvh.pandoc hunk (once the context lines have their space
back), and the xen.h hunk's first context line is where grep finds it.
The tests skip with the reason when the seed is absent.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from xenabi.cli import main
from xenabi.tree import XenTree

pytestmark = pytest.mark.needs("checkout", "docs")

#: ``shared/`` beside the checkout (or beside the directory of worktrees a checkout is in)
SEED = next((p for p in (Path(__file__).resolve().parents[i] / "shared/seed/"
                         "sif-hvm-ghcb.mangled.patch" for i in (2, 3)) if p.is_file()),
            Path(__file__).resolve().parents[2] / "shared/seed/sif-hvm-ghcb.mangled.patch")
PM_MASK = "#define SIF_PM_MASK (0xFF<<8) /* reserve 1 byte for xen-pm options */\n"


@pytest.fixture(scope="module")
def seed() -> str:
    if not SEED.is_file():
        pytest.skip(f"{SEED}: the seed patch is not on this machine")
    return SEED.read_text()


@pytest.fixture
def checkout(xen_tree: XenTree) -> XenTree:
    return xen_tree


def check_patch(tree: XenTree, tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str],
                fmt: str = "json") -> tuple[int, dict[str, object] | str]:
    path = tmp_path / "seed.patch"
    path.write_text(text)
    code = main(["check-patch", str(path), "--xen-root", str(tree.root), "--format", fmt])
    out = capsys.readouterr().out
    return code, json.loads(out) if fmt == "json" else out


def _changes(data: object) -> list[tuple[str, str, str]]:
    assert isinstance(data, dict)
    return [(c["class"], c["kind"], c["symbol"]) for c in data["changes"]]


def _errors(data: object) -> list[str]:
    assert isinstance(data, dict)
    return [f["message"] for f in data["findings"] if f["severity"] == "error"]


def test_the_seed_is_one_compatible_change(checkout: XenTree, seed: str, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    code, data = check_patch(checkout, tmp_path, seed, capsys)
    assert code == 0
    assert _changes(data) == [("compatible", "constant-added", "SIF_HVM_GHCB")]
    assert isinstance(data, dict)
    (change,) = data["changes"]
    assert {int(v, 0) for v in change["after"].values()} == {1 << 5}
    # SIF_PM_MASK is (0xFF<<8); bits 0-4 are SIF_PRIVILEGED .. SIF_VIRT_P2M_4TOOLS
    assert change["message"] == ("new flag SIF_HVM_GHCB (bit 5): free, outside SIF_PM_MASK "
                                 "(bits 8-15)")
    assert _errors(data) == []


def test_both_seed_hunks_are_placed_where_the_oracles_put_them(
        checkout: XenTree, seed: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    _, data = check_patch(checkout, tmp_path, seed, capsys)
    assert isinstance(data, dict)
    placed = {p["file"]: p for p in data["patches"][0]["placements"]}
    xen_h = (checkout.public / "xen.h").read_text().splitlines()
    first = next(i for i, ln in enumerate(xen_h, 1) if ln.startswith("#define SIF_MOD_START_PFN"))
    assert (placed["xen/include/public/xen.h"]["line"],
            placed["xen/include/public/xen.h"]["how"]) == (first, "whitespace")
    assert placed["xen/include/public/xen.h"]["offset"] == first - 890
    assert placed["docs/misc/pvh.pandoc"]["line"] == gnu_patch_line(checkout, seed,
                                                                   "docs/misc/pvh.pandoc")


def gnu_patch_line(tree: XenTree, seed: str, file: str) -> int:
    """Where GNU patch puts the hunk of ``file`` once its context lines have their leading
    space back and the header counts what is left (``-F2``: blank lines are still lost)."""
    if shutil.which("patch") is None:
        pytest.skip("GNU patch is not installed (the oracle of the placement)")
    chunk = seed[seed.index(f"diff --git a/{file}"):]
    chunk = chunk[:chunk.find("\ndiff --git", 1) + 1 or len(chunk)]
    head, _, body = chunk.partition("\n@@")
    header, _, rest = body.partition("\n")
    lines = [ln if ln[:1] in "+-" else " " + ln for ln in rest.splitlines() if ln]
    old = sum(ln[0] != "+" for ln in lines)
    new = sum(ln[0] != "-" for ln in lines)
    m = re.match(r" -(\d+),\d+ \+(\d+),\d+ @@(.*)", header)
    assert m
    text = f"{head}\n@@ -{m[1]},{old} +{m[2]},{new} @@{m[3]}\n" + "\n".join(lines) + "\n"
    out = subprocess.run(["patch", "--dry-run", "-p1", "-F2", "-d", str(tree.root)],
                         input=text, text=True, capture_output=True).stdout
    found = re.search(r"Hunk #1 succeeded at (\d+)", out)
    assert found, out
    return int(found.group(1))


@pytest.mark.parametrize("edit, messages", [
    (("SIF_HVM_GHCB (1<<5)", "SIF_HVM_GHCB (1<<4)"),
     ["SIF_HVM_GHCB (bit 4) shares bit 4 with SIF_VIRT_P2M_4TOOLS"]),
    (("SIF_HVM_GHCB (1<<5)", "SIF_HVM_GHCB (1<<8)"),
     ["SIF_HVM_GHCB (bit 8) lies inside SIF_PM_MASK (bits 8-15"]),
    ((PM_MASK, "-" + PM_MASK + "+" + PM_MASK.replace("0xFF<<8", "0xFF<<4")),
     ["SIF_VIRT_P2M_4TOOLS (bit 4) lies inside SIF_PM_MASK (bits 4-11",
      "SIF_HVM_GHCB (bit 5) lies inside SIF_PM_MASK (bits 4-11"]),
], ids=["bit-4", "bit-8", "wider-mask"])
def test_colliding_variants_exit_1(checkout: XenTree, seed: str, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str],
                                   edit: tuple[str, str], messages: list[str]) -> None:
    assert edit[0] in seed
    code, data = check_patch(checkout, tmp_path, seed.replace(edit[0], edit[1]), capsys)
    assert code == 1
    errors = _errors(data)
    for m in messages:
        assert any(e.startswith(m) for e in errors), (m, errors)


def test_the_wider_mask_is_a_breaking_value_change(checkout: XenTree, seed: str,
                                                   tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    text = seed.replace(PM_MASK, "-" + PM_MASK + "+" + PM_MASK.replace("0xFF<<8", "0xFF<<4"))
    _, data = check_patch(checkout, tmp_path, text, capsys)
    assert isinstance(data, dict)
    mask = [c for c in data["changes"] if c["symbol"] == "SIF_PM_MASK"]
    assert [(c["class"], {int(v, 0) for v in c["before"].values()},
             {int(v, 0) for v in c["after"].values()})
            for c in mask] == [("breaking", {0xFF << 8}, {0xFF << 4})]


def test_without_the_doc_hunk_a_coverage_note_names_pvh(
        checkout: XenTree, seed: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    code, data = check_patch(checkout, tmp_path, seed[seed.index("diff --git a/xen"):], capsys)
    assert code == 0
    assert isinstance(data, dict)
    notes = [f["message"] for f in data["findings"]
             if f["rule"] == "doc-coverage" and f["symbols"] == ["SIF_HVM_GHCB"]]
    assert len(notes) == 1 and "docs/misc/pvh.pandoc" in notes[0], data["findings"]


def test_the_seed_as_an_email_reply(checkout: XenTree, seed: str, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    code, out = check_patch(checkout, tmp_path, seed, capsys, "email")
    assert code == 0 and isinstance(out, str)
    assert all(len(ln) < 76 for ln in out.splitlines()), out
    assert "\x1b" not in out
    text = " ".join(out.split())
    assert "SIF_HVM_GHCB" in text and "placed with whitespace ignored" in text


def test_a_derived_step_finds_what_the_full_rules_find(checkout: XenTree, seed: str,
                                                       tmp_path: Path) -> None:
    """The seed's step is derived, and the findings it carries over from the base (the
    record rules', lines moved, and the flags of every header but xen.h: see
    :mod:`xenabi.carry`) are those the rules find."""
    from xenabi import checkpatch
    from xenabi.check import findings
    from xenabi.patch import Overlay, dir_reader, read_patches
    from xenabi.rules import REGISTRY, runnable
    from xenabi.snapshot import take_all

    base = take_all(checkout)
    before = checkpatch._findings(checkout, base, True)
    overlay = Overlay(dir_reader(checkout.root), checkout.root)
    (step,) = checkpatch.apply_series(checkout, overlay, read_patches(seed.encode(), "seed"),
                                      tmp_path, base, take_all)
    assert step.derived and step.carried is not None
    assert step.carried.kept and step.carried.changed == {"xen.h"}
    rules, _ = runnable(step.tree, tuple(REGISTRY))
    assert checkpatch._findings(step.tree, step.snapshots, False, before, step.carried) == \
        findings(step.tree, step.snapshots, rules)
