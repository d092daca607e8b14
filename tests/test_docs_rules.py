"""doc-refs, doc-semantics and doc-coverage over a tiny tree and hand-made snapshots.

The headers below are written for these tests (a few lines in Xen's style,
not copied from Xen); the snapshots give the layouts a reader works out from
them by hand, on x86_64 and x86_32 (where ``unsigned long`` is 4 bytes). Each
document line that should be found carries its expected message in
``BAD`` below, written from the headers, not from the program's output.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from xenabi.docs import read_documents
from xenabi.docs.symbols import SymbolIndex, closest, declared_names
from xenabi.model import Constant, Coord, FieldLayout, IntConstant, RecordLayout, Severity, Snapshot
from xenabi.analysis.context import Context
from xenabi.analysis.symbols import context_index
from xenabi.rules.doc_coverage import Gap, coverage, coverage_findings, documented_families
from xenabi.rules.doc_refs import check_refs
from xenabi.rules.doc_semantics import check_statements
from xenabi.tree import PUBLIC, XenTree

HEADERS = {
    "xen.h": """\
/* stand-in for xen.h */
#define __HYPERVISOR_vcpu_op 24
#define VCPUOP_initialise 0
#define VCPUOP_up         1
#define VCPUOP_down       2
#define RING_GET_REQUEST(r, i) ((r)->ring[i])

struct start_info {
    char magic[32];
    unsigned long nr_pages;
    uint32_t flags;             /* SIF_xxx flags. */
};
#define SIF_PRIVILEGED    (1<<0)
#define SIF_INITDOMAIN    (1<<1)
#define SIF_PM_MASK       (0xFF<<8)
#define _VGCF_online      5
#define VGCF_online       (1<<_VGCF_online)
""",
    "features.h": """\
#define XENFEAT_writable_page_tables 0
#define XENFEAT_hvm_callback_vector  8
#define XENFEAT_dom0                 11
""",
    "arch-x86/hvm/start_info.h": """\
#define XEN_HVM_START_MAGIC_VALUE 0x336ec578
struct hvm_start_info {
    uint32_t magic;
    uint32_t version;
    uint32_t flags;             /* SIF_xxx flags. */
    uint32_t nr_modlist_entries;
    uint64_t modlist_paddr;
    uint64_t cmdline_paddr;
    uint64_t rsdp_paddr;
};
struct hvm_memmap_table_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
    uint32_t reserved;
};
""",
    "io/netif.h": """\
struct netif_tx_request { uint16_t id; uint16_t flags; };
union netif_tx_sring_entry { struct netif_tx_request req; };
""",
}


def _line(header: str, needle: str) -> int:
    return next(i for i, ln in enumerate(HEADERS[header].splitlines(), 1) if needle in ln)


def _const(header: str, name: str, value: int) -> Constant:
    return IntConstant(value, "macro", Coord(header, _line(header, f"#define {name} ")))


def _record(kind: str, header: str, tag: str, size: int, align: int,
            fields: list[tuple[str, str, int, int]]) -> RecordLayout:
    """``fields``: (name, type, offset in bytes, size in bytes)."""
    return RecordLayout(kind, size, align, Coord(header, _line(header, f"{kind} {tag} {{")),  # type: ignore[arg-type]
                        tuple(FieldLayout(n, t, 8 * o, 8 * s) for n, t, o, s in fields))


def _snapshot(arch: str) -> Snapshot:
    long = 8 if arch == "x86_64" else 4
    consts = [("xen.h", "__HYPERVISOR_vcpu_op", 24), ("xen.h", "VCPUOP_initialise", 0),
              ("xen.h", "VCPUOP_up", 1), ("xen.h", "VCPUOP_down", 2),
              ("xen.h", "SIF_PRIVILEGED", 1), ("xen.h", "SIF_INITDOMAIN", 2),
              ("xen.h", "SIF_PM_MASK", 0xFF00),
              ("xen.h", "_VGCF_online", 5), ("xen.h", "VGCF_online", 32),
              ("features.h", "XENFEAT_writable_page_tables", 0),
              ("features.h", "XENFEAT_hvm_callback_vector", 8),
              ("features.h", "XENFEAT_dom0", 11),
              ("arch-x86/hvm/start_info.h", "XEN_HVM_START_MAGIC_VALUE", 0x336EC578)]
    start_info = _record("struct", "xen.h", "start_info", 32 + 2 * long, long, [
        ("magic", "char[32]", 0, 32), ("nr_pages", "unsigned long", 32, long),
        ("flags", "uint32_t", 32 + long, 4)])
    hvm_start_info = _record("struct", "arch-x86/hvm/start_info.h", "hvm_start_info", 40,
                             8 if arch == "x86_64" else 4, [
        ("magic", "uint32_t", 0, 4), ("version", "uint32_t", 4, 4), ("flags", "uint32_t", 8, 4),
        ("nr_modlist_entries", "uint32_t", 12, 4), ("modlist_paddr", "uint64_t", 16, 8),
        ("cmdline_paddr", "uint64_t", 24, 8), ("rsdp_paddr", "uint64_t", 32, 8)])
    memmap = _record("struct", "arch-x86/hvm/start_info.h", "hvm_memmap_table_entry", 24,
                     8 if arch == "x86_64" else 4, [
        ("addr", "uint64_t", 0, 8), ("size", "uint64_t", 8, 8), ("type", "uint32_t", 16, 4),
        ("reserved", "uint32_t", 20, 4)])
    tx_request = RecordLayout("struct", 4, 2, Coord("io/netif.h", 1), (
        FieldLayout("id", "uint16_t", 0, 16), FieldLayout("flags", "uint16_t", 16, 16)))
    tx_entry = RecordLayout("union", 4, 2, Coord("io/netif.h", 2), (
        FieldLayout("req", "struct netif_tx_request", 0, 32),))
    return Snapshot(arch, "guest", 0x40E00,
                    {"struct start_info": start_info, "struct hvm_start_info": hvm_start_info,
                     "struct hvm_memmap_table_entry": memmap,
                     "struct netif_tx_request": tx_request,
                     "union netif_tx_sring_entry": tx_entry},
                    {n: _const(h, n, v) for h, n, v in consts}, {}, {})


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> XenTree:
    root = tmp_path_factory.mktemp("tree")
    for name, text in {**HEADERS, "xen-compat.h": ""}.items():
        (root / PUBLIC / name).parent.mkdir(parents=True, exist_ok=True)
        (root / PUBLIC / name).write_text(text)
    return XenTree("checkout", root, root / PUBLIC, PUBLIC.as_posix() + "/")


@pytest.fixture(scope="module")
def index(tree: XenTree) -> SymbolIndex:
    snaps = {(a, "guest"): _snapshot(a) for a in ("x86_32", "x86_64")}
    return SymbolIndex(snaps, declared_names(HEADERS), HEADERS)


GOOD = """\
# Nothing here contradicts the headers

The domain builder must set `SIF_PRIVILEGED` in start_info for dom0,
and loaders set `SIF_PRIVILEGED` in `hvm_start_info.flags`.
The start info structure has a pointer to the RSDP (field `rsdp_paddr`).
See `xen/include/public/arch-x86/hvm/start_info.h` and `VCPUOP_up`.
Call `HYPERVISOR_vcpu_op` with `VCPUOP_initialise`; `RING_GET_REQUEST` reads a ring.

- `XENFEAT_dom0`: 11

Not C: `cr0`, `ebx`, `dom0_mem=`, `xl create`; not the ABI: `struct feat_node`,
`IA32_PQR_ASSOC`, `d->argo`.

`XEN_HVM_START_MAGIC_VALUE` has the value 0x336ec578.
`VGCF_online` (bit 5) is a mask; `_VGCF_online` is bit 5 by its number.
The size of `struct hvm_start_info` is 40 bytes.
`struct start_info` is 48 bytes on 64-bit.
`hvm_start_info.rsdp_paddr` is at offset 32.
The argument is of the type hvm_start_info.

    struct hvm_memmap_table_entry {
        uint64_t addr, size;
        uint32_t type, reserved;
    };
"""

BAD = """\
The domain builder must set `SIF_HVM_GHCB` in start_info.

The toolstack sets `XENFEAT_dom0` in start_info.

It must set `SIF_PRIVILEGED` in hvm_memmap_table_entry.

Read the start info structure (field `rsdp_padr`).

See `xen/include/public/arch-x86/hvm/start_inf.h`.

`VCPUOP_upp` brings a vCPU up.

Fill `struct netif_tx_sring_entry`.

Test `start_info.flagz`.

Call `HYPERVISOR_vcpu_opp`.

- `XENFEAT_dom0`: 12

`SIF_INITDOMAIN` (bit 2) marks dom0.

The size of `struct start_info` is 48 bytes.

`hvm_start_info.rsdp_paddr` is at offset 48.

The argument is of the type hvm_start_inf.

    struct hvm_memmap_table_entry {
        uint64_t addr, length;
    };

It sets `SIF_PRIVILEGED` in `hvm_start_info.flagz`.

The size of `struct hvm_start_infoo` is 40 bytes.
"""

XEN_H = "xen/include/public/xen.h"
START_INFO_H = "xen/include/public/arch-x86/hvm/start_info.h"
SI = f"{XEN_H}:{_line('xen.h', 'struct start_info {')}"
HSI = f"{START_INFO_H}:{_line('arch-x86/hvm/start_info.h', 'struct hvm_start_info {')}"
MEMMAP = f"{START_INFO_H}:{_line('arch-x86/hvm/start_info.h', 'struct hvm_memmap_table_entry {')}"

#: (rule, line, message) for every finding in BAD, in line order
EXPECTED_BAD = [
    ("doc-semantics", 1, f"SIF_HVM_GHCB is said to be set in start_info, but {XEN_H} defines "
                         "no such flag"),
    ("doc-semantics", 3, f"XENFEAT_dom0 is said to be set in start_info, but the flags field of "
                         f"struct start_info ({SI}) carries SIF_* flags, and XENFEAT_dom0 is a "
                         "XENFEAT_* value (xen/include/public/features.h:3)"),
    ("doc-semantics", 5, "SIF_PRIVILEGED is said to be set in hvm_memmap_table_entry, but "
                         f"struct hvm_memmap_table_entry ({MEMMAP}) has no flags field"),
    ("doc-semantics", 7, "rsdp_padr is said to be a field of the start info structure, but "
                         f"struct start_info ({SI}) and struct hvm_start_info ({HSI}) have no "
                         "such field (did you mean rsdp_paddr?)"),
    ("doc-refs", 9, "xen/include/public/arch-x86/hvm/start_inf.h does not exist "
                    f"(did you mean {START_INFO_H}?)"),
    ("doc-refs", 11, f"VCPUOP_upp is not defined by the public headers (did you mean VCPUOP_up, "
                     f"{XEN_H}:4?)"),
    ("doc-refs", 13, "struct netif_tx_sring_entry is not defined by the public headers; "
                     "union netif_tx_sring_entry is (xen/include/public/io/netif.h:2)"),
    ("doc-refs", 15, f"start_info.flagz: struct start_info ({SI}) has no field flagz "
                     "(did you mean flags?)"),
    ("doc-refs", 17, "HYPERVISOR_vcpu_opp: the public headers define no __HYPERVISOR_vcpu_opp"),
    ("doc-semantics", 19, "XENFEAT_dom0 is said to be 12, but xen/include/public/features.h:3 "
                          "defines it as 11"),
    ("doc-semantics", 21, f"SIF_INITDOMAIN is said to be bit 2, but {XEN_H}:14 defines it as 2 "
                          "(bit 1)"),
    ("doc-semantics", 23, f"struct start_info is said to be 48 bytes, but it is 40 bytes on "
                          f"x86_32 ({SI})"),
    ("doc-semantics", 25, "struct hvm_start_info field rsdp_paddr is said to be at offset 48, "
                          f"but it is at 32 ({HSI})"),
    ("doc-semantics", 27, "hvm_start_inf is said to be a type, but the public headers define no "
                          "such type (did you mean hvm_start_info?)"),
    ("doc-semantics", 29, "the struct hvm_memmap_table_entry shown here has a member length, but "
                          f"struct hvm_memmap_table_entry ({MEMMAP}) has no such field"),
    ("doc-semantics", 33, "SIF_PRIVILEGED is said to be set in the flagz field of "
                          f"hvm_start_info, but struct hvm_start_info ({HSI}) has no flagz field"),
    # a size statement leaves a name that does not exist to doc-refs
    ("doc-refs", 35, "struct hvm_start_infoo is not defined by the public headers (did you mean "
                     f"struct hvm_start_info, {HSI}?)"),
]


def _findings(index: SymbolIndex, tree: XenTree, text: str) -> list[tuple[str, int, str]]:
    docs = read_documents({"docs/misc/x.pandoc": text}, cache=False)
    found = [*check_refs(index, tree, docs), *check_statements(index, tree, docs)]
    return sorted((f.rule, f.line or 0, f.message) for f in found)


def test_a_document_that_agrees_with_the_headers_has_no_findings(
        index: SymbolIndex, tree: XenTree) -> None:
    assert _findings(index, tree, GOOD) == []


@pytest.mark.parametrize("rule, line, message", EXPECTED_BAD,
                         ids=[f"{r}-line{n}" for r, n, _ in EXPECTED_BAD])
def test_each_contradiction_is_found_with_a_clear_message(
        index: SymbolIndex, tree: XenTree, rule: str, line: int, message: str) -> None:
    assert (rule, line, message) in _findings(index, tree, BAD)


def test_nothing_else_is_found(index: SymbolIndex, tree: XenTree) -> None:
    assert _findings(index, tree, BAD) == sorted(EXPECTED_BAD)


def test_findings_name_the_doc_the_symbol_and_every_target(
        index: SymbolIndex, tree: XenTree) -> None:
    docs = read_documents({"docs/misc/x.pandoc": BAD}, cache=False)
    f = next(f for f in check_statements(index, tree, docs) if f.line == 1)
    assert (f.file, f.symbols, f.arches, f.views, f.severity) == (
        "docs/misc/x.pandoc", ("SIF_HVM_GHCB",), ("x86_32", "x86_64"), ("guest",), Severity.ERROR)
    assert str(f).startswith("docs/misc/x.pandoc:1: error: SIF_HVM_GHCB is said to be set in")
    size = next(f for f in check_statements(index, tree, docs) if f.line == 23)
    assert size.arches == ("x86_32",)  # only where it is not 48


# -- names the header text declares --------------------------------------------------


def test_declared_names_and_their_lines() -> None:
    text = ("/* c */\n\n  #define A 1\ntypedef struct s {\n  int x;\n} s_t;\ntypedef unsigned\n"
            "#define B 2\n  long ul_t;\nunion u { int y; };\nmyenum {\n#define F(x) (x)\n")
    assert {n: s.line for n, s in declared_names({"a.h": text}).items()} == {
        "A": 2,  # the blank line before it starts the match
        "struct s": 4,  # not a one-line typedef: a record defined here
        "ul_t": 7,  # a typedef over three lines, which hides B
        "union u": 10, "F": 12}  # not myenum: no word starts there


# -- did you mean --------------------------------------------------------------------


def test_closest_is_the_best_near_spelling() -> None:
    pool = ["XenbusStateConnected", "XenbusStateClosed", "XenstoreWatch"]
    assert closest("XenbusConnected", pool) == "XenbusStateConnected"  # 2 * 15 / 35 = 0.86
    assert closest("abcd", ["abcf", "abce"]) == "abcf"  # a tie (6/8): the greater name
    assert closest("abcd", ["abxy"]) is None  # 4/8, under 0.7
    assert closest("abcd", ["xbcd"]) is None  # 6/8, but another first letter


def test_closest_is_what_difflib_finds() -> None:
    pool = [a + b + c for a in ("SIF_", "SIF", "SF_") for b in ("PM_", "HVM_", "")
            for c in ("MASK", "GHCB", "INITDOMAIN", "PRIVILEGED", "MAS")]
    for name in ["SIF_PM_MAKS", "SIF_GHCB", "SF_HVM_GHBC", "SIFPMMASK", "SIF_INIT", "S"]:
        near = [p for p in pool if abs(len(p) - len(name)) <= 3 + len(name) // 3]
        assert [closest(name, pool)] == (difflib.get_close_matches(name, near, 1, 0.7) or [None])


# -- coverage ------------------------------------------------------------------------


def test_a_family_is_documented_by_a_member_or_by_the_structure_carrying_it(
        index: SymbolIndex) -> None:
    by_member = read_documents({"a.pandoc": "Use `VCPUOP_up`.\n"}, cache=False)
    assert documented_families(index, by_member) == {
        ("VCPUOP_", "xen.h"): "the docs mention VCPUOP_up"}
    by_header = read_documents(
        {"a.pandoc": "See xen/include/public/arch-x86/hvm/start_info.h.\n"}, cache=False)
    assert documented_families(index, by_header) == {
        ("SIF_", "xen.h"): "the flags field of struct hvm_start_info carries it, and a.pandoc "
                           "names arch-x86/hvm/start_info.h"}


def test_tree_coverage_lists_unmentioned_members_of_documented_families(
        index: SymbolIndex) -> None:
    docs = read_documents({"a.pandoc": GOOD}, cache=False)
    assert [(g.symbol, g.family) for g in coverage(index, docs)] == [
        ("SIF_INITDOMAIN", "SIF_"), ("SIF_PM_MASK", "SIF_"), ("VCPUOP_down", "VCPUOP_"),
        ("XENFEAT_hvm_callback_vector", "XENFEAT_"),
        ("XENFEAT_writable_page_tables", "XENFEAT_")]


def test_coverage_of_given_symbols_is_what_a_diff_gate_asks(index: SymbolIndex) -> None:
    docs = read_documents({"a.pandoc": "Use `VCPUOP_up`.\n"}, cache=False)
    gaps = coverage(index, docs, ["SIF_INITDOMAIN", "VCPUOP_up", "VCPUOP_down", "NOT_DEFINED"])
    assert gaps == [Gap("SIF_INITDOMAIN", "SIF_", False, "xen.h", 14),
                    Gap("VCPUOP_down", "VCPUOP_", True, "xen.h", 5)]


def test_coverage_findings_group_by_family_at_the_first_member(
        index: SymbolIndex, tree: XenTree) -> None:
    docs = read_documents({"a.pandoc": "Use `VCPUOP_up`.\n"}, cache=False)
    asked = ["VCPUOP_down", "VCPUOP_initialise"]
    (f,) = coverage_findings(index, tree, docs, Severity.WARNING, asked)
    assert (f.rule, f.severity, f.file, f.line, f.symbols) == (
        "doc-coverage", Severity.WARNING, XEN_H, 5, ("VCPUOP_down", "VCPUOP_initialise"))
    assert f.message == ("VCPUOP_* (documented: the docs mention VCPUOP_up): no document "
                         "mentions VCPUOP_down, VCPUOP_initialise")


def test_rules_run_from_a_context_and_skip_a_tree_without_docs(tree: XenTree) -> None:
    from xenabi.rules.doc_coverage import doc_coverage
    from xenabi.rules.doc_refs import doc_refs
    from xenabi.rules.doc_semantics import doc_semantics

    ctx = Context(tree, {("x86_64", "guest"): _snapshot("x86_64")})
    assert tree.docs is None
    assert [*doc_refs(ctx), *doc_semantics(ctx), *doc_coverage(ctx)] == []
    assert context_index(ctx) is context_index(ctx)  # built once, shared by the three rules


def test_rules_read_the_tree_docs(tmp_path: Path) -> None:
    from xenabi.rules import REGISTRY

    root = tmp_path
    for name, text in {**HEADERS, "xen-compat.h": ""}.items():
        (root / PUBLIC / name).parent.mkdir(parents=True, exist_ok=True)
        (root / PUBLIC / name).write_text(text)
    (root / "docs/misc").mkdir(parents=True)
    (root / "docs/misc/x.pandoc").write_text("Use `VCPUOP_upp`.\n")
    tree = XenTree("checkout", root, root / PUBLIC, PUBLIC.as_posix() + "/")
    ctx = Context(tree, {("x86_64", "guest"): _snapshot("x86_64")})
    (f,) = REGISTRY["doc-refs"].fn(ctx)
    assert (f.file, f.line, f.symbols) == ("docs/misc/x.pandoc", 1, ("VCPUOP_upp",))
