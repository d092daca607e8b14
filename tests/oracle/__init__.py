"""Independent oracles for the test suites: what a real compiler, or Xen itself, says about C.

Nothing here uses xenabi's parser, preprocessor, prelude or layout engine;
the only thing taken from xenabi is the table of targets (names and clang
triples). :mod:`tests.oracle.clang` asks clang; :func:`read_reference_size`
reads Xen's own table of struct sizes.
"""

from __future__ import annotations

from pathlib import Path


def read_reference_size(path: Path) -> dict[str, dict[str, int | None]]:
    """Xen's ``tools/include/xen-foreign/reference.size``: struct -> arch -> size.

    The file is a table printed by xen-foreign's checker::

        structs                   |   arm32   arm64  x86_32  x86_64

        start_info                |       -       -    1112    1168

    A ``-`` cell (None here) says the arch has no such struct. Arch names are
    the column heads, as Xen's xen-foreign spells them.
    """
    arches: list[str] | None = None
    table: dict[str, dict[str, int | None]] = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        name, bar, cells = line.partition("|")
        if not bar:
            raise ValueError(f"{path}:{n}: no '|' in {line!r}")
        if arches is None:
            if name.strip() != "structs":
                raise ValueError(f"{path}:{n}: expected the 'structs | ARCH...' head line")
            arches = cells.split()
            continue
        values = cells.split()
        if len(values) != len(arches):
            raise ValueError(f"{path}:{n}: {len(values)} cells for {len(arches)} arches")
        table[name.strip()] = {a: None if v == "-" else int(v) for a, v in zip(arches, values)}
    if arches is None:
        raise ValueError(f"{path}: empty")
    return table
