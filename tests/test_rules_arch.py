"""The arch rule on hand-made snapshots: which records it compares, and how severe each difference is."""

from __future__ import annotations

from pathlib import Path

from tests.ruleskit import context, fld, make_tree, rec, snapshot, td
from xenabi.model import RecordLayout, Severity, Snapshot
from xenabi.analysis.compare import differences
from xenabi.rules.arch import FixedWidth, check_arch, unshared

ALL = ("x86_32", "x86_64", "arm32", "arm64")


def u64_after_u32(arch: str) -> RecordLayout:
    """``struct { uint32_t a; uint64_t b; }`` as each target lays it out."""
    off, size, align = (4, 12, 4) if arch == "x86_32" else (8, 16, 8)
    return rec(size, align, fld("a", "uint32_t", 0, 4), fld("b", "uint64_t", off, 8),
               header="memory.h", line=10)


def snaps(records: dict[str, dict[str, RecordLayout]], views: tuple[str, ...] = ("tools",),
          arches: tuple[str, ...] = ALL, **kw: object) -> list[Snapshot]:
    """``records``: key -> arch -> layout (an arch missing from it: the target lacks it)."""
    return [snapshot(a, v, records={k: by[a] for k, by in records.items() if a in by}, **kw)
            for a in arches for v in views]


def run(tmp_path: Path, ss: list[Snapshot], xlat: str | None = None) -> list[tuple[str, str]]:
    ctx = context(make_tree(tmp_path, {}, xlat=xlat), ss)
    return [(f.severity.value, f.message) for f in check_arch(ctx)]


def same(r: RecordLayout) -> dict[str, RecordLayout]:
    return {a: r for a in ALL}


def test_identical_fixed_width_records_pass(tmp_path: Path) -> None:
    r = rec(8, 4, fld("a", "uint32_t", 0, 4), fld("b", "uint32_t", 4, 4))
    assert run(tmp_path, snaps({"struct ok": same(r)})) == []


def test_tools_only_record_that_differs_on_x86_is_an_error(tmp_path: Path) -> None:
    recs = {"struct xen_domctl_shrunk": {a: u64_after_u32(a) for a in ALL}}
    assert run(tmp_path, snaps(recs, views=("tools",)) + snaps({}, views=("guest",))) == [
        ("error", "struct xen_domctl_shrunk is built from fixed-width types but its layout "
                  "differs (a 32-bit toolstack and 64-bit Xen disagree): `b` offset 4 (x86_32) "
                  "vs 8 (x86_64, arm32, arm64); size 12 (x86_32) vs 16 (x86_64, arm32, arm64)")]


def test_guest_record_that_differs_on_x86_only_is_a_warning(tmp_path: Path) -> None:
    recs = {"struct guest_op": {a: u64_after_u32(a) for a in ALL}}
    found = run(tmp_path, snaps(recs, views=("guest", "tools")))
    assert {f[0] for f in found} == {"warning"}
    assert found[0][1].startswith("struct guest_op differs between x86_32 and x86_64, so Xen's "
                                  "compat layer must translate it: `b` offset 4 (x86_32)")


def test_translated_records_differ_as_information(tmp_path: Path) -> None:
    recs = {"struct xen_pod_target": {a: u64_after_u32(a) for a in ALL}}
    found = run(tmp_path, snaps(recs, views=("guest",)), xlat="!\tpod_target\tmemory.h\n")
    assert [f[0] for f in found] == ["info"]
    assert "(translated: `!` in xlat.lst)" in found[0][1]


def test_arm_pair_difference_is_an_error_even_for_guests(tmp_path: Path) -> None:
    small = rec(8, 4, fld("a", "uint32_t", 0, 4), fld("pad", "uint8_t[4]", 4, 4))
    big = rec(12, 4, fld("a", "uint32_t", 0, 4), fld("pad", "uint8_t[8]", 4, 8))
    recs = {"struct shared": {"x86_32": small, "x86_64": big, "arm32": small, "arm64": big}}
    found = run(tmp_path, snaps(recs, views=("guest",)))
    assert found == [("error", "struct shared is built from fixed-width types but its layout "
                               "differs (arm32 and arm64 disagree): `pad` size 4 (x86_32, arm32)"
                               " vs 8 (x86_64, arm64); size 8 (x86_32, arm32) vs 12 (x86_64, "
                               "arm64)")]


def test_alignment_only_is_a_warning(tmp_path: Path) -> None:
    def entry(arch: str) -> RecordLayout:
        return rec(16, 4 if arch == "x86_32" else 8, fld("a", "uint64_t", 0, 8),
                   fld("b", "uint64_t", 8, 8))
    found = run(tmp_path, snaps({"struct hvm_modlist_entry": {a: entry(a) for a in ALL}}))
    assert found == [("warning", "struct hvm_modlist_entry has one layout but its alignment "
                                 "differs: 4 (x86_32) vs 8 (x86_64, arm32, arm64)")]


def test_x86_against_arm_only_is_a_warning(tmp_path: Path) -> None:
    x86 = rec(8, 4, fld("a", "uint32_t", 0, 4), fld("arch", "uint8_t[4]", 4, 4))
    arm = rec(12, 4, fld("a", "uint32_t", 0, 4), fld("arch", "uint8_t[8]", 4, 8))
    recs = {"struct cfg": {"x86_32": x86, "x86_64": x86, "arm32": arm, "arm64": arm}}
    assert [f[0] for f in run(tmp_path, snaps(recs))] == ["warning"]


def test_records_with_longs_pointers_or_handles_are_not_compared_on_x86(
        tmp_path: Path) -> None:
    def r(arch: str, t: str) -> RecordLayout:
        n = 4 if arch.endswith("32") else 8
        return rec(n, n, fld("v", t, 0, n))
    x86 = ("x86_32", "x86_64")
    recs = {"struct l": {a: r(a, "unsigned long") for a in x86},
            "struct p": {a: r(a, "uint8_t *") for a in x86},
            "struct t": {a: r(a, "xen_ulong_t") for a in x86}}
    ss = snaps(recs, arches=x86, typedefs={"xen_ulong_t": td("unsigned long", 8, 8)})
    assert run(tmp_path, ss) == []


def mod_list(arch: str, pad: str = "unsigned long") -> RecordLayout:
    """``struct xen_multiboot_mod_list`` with its ``uint32_t pad`` made ``unsigned long``."""
    n = 8 if arch.endswith("64") and pad == "unsigned long" else 4
    return rec(12 + n + (4 if n == 8 else 0), n, fld("mod_start", "uint32_t", 0, 4),
               fld("mod_end", "uint32_t", 4, 4), fld("cmdline", "uint32_t", 8, 4),
               fld("pad", pad, 16 if n == 8 else 12, n), header="arch-arm.h", line=5)


def test_arm_compares_every_record_both_use_by_layout_not_by_spelling(tmp_path: Path) -> None:
    # a shared struct that stops being fixed-width is still one layout on arm32 and arm64
    arm = ("arm32", "arm64")
    recs = {"struct xen_multiboot_mod_list": {a: mod_list(a) for a in arm}}
    assert run(tmp_path, snaps(recs, arches=arm)) == [
        ("error", "struct xen_multiboot_mod_list differs between arm32 and arm64, which share "
                  "one layout (no compat layer: a 32-bit guest on 64-bit Xen hands over these "
                  "very bytes): `pad` offset 12 (arm32) vs 16 (arm64); size 16 (arm32) vs 24 "
                  "(arm64)")]
    # spelled otherwise with one layout: nothing to say
    same_layout = {"struct xen_multiboot_mod_list": {a: mod_list(a, "unsigned int")
                                                     for a in arm}}
    assert run(tmp_path, snaps(same_layout, arches=arm)) == []


def test_on_arm_a_native_pointer_is_private_but_what_it_moves_is_not(tmp_path: Path) -> None:
    def ring(arch: str, after: bool) -> RecordLayout:
        n = 8 if arch == "arm64" else 4
        fields = [fld("req_prod_pvt", "unsigned int", 0, 4), fld("sring", "struct s *", n, n)]
        if after:
            fields.append(fld("nr_ents", "unsigned int", 2 * n, 4))
        return rec(2 * n + (n if after else 0), n, *fields)
    arm = ("arm32", "arm64")
    # a ring's private bookkeeping: the pointer's own size is no ABI
    assert run(tmp_path, snaps({"struct x_front_ring": {a: ring(a, False) for a in arm}},
                               arches=arm)) == []
    found = run(tmp_path, snaps({"struct x_front_ring": {a: ring(a, True) for a in arm}},
                                arches=arm))
    assert [(sev, m.split("bytes): ", 1)[1]) for sev, m in found] == [
        ("error", "`nr_ents` offset 8 (arm32) vs 16 (arm64)")]


def test_arm_interfaces_xen_on_arm_does_not_exchange_are_listed_with_reasons(
        tmp_path: Path) -> None:
    listed = unshared()
    assert "struct mmuext_op" in listed and "struct xen_multiboot_mod_list" not in listed
    assert all(u.reason.strip() and u.evidence.strip() for u in listed.values())
    arm = ("arm32", "arm64")
    recs = {"struct mmuext_op": {a: mod_list(a) for a in arm}}
    (found,) = run(tmp_path, snaps(recs, arches=arm))
    assert found[0] == "info"
    assert found[1].startswith("struct mmuext_op differs between arm32 and arm64, which Xen "
                               "on Arm does not exchange (xenabi/data/arm-unshared.toml:"
                               f"{listed['struct mmuext_op'].line}): `pad` offset 12")


def test_helper_records_of_macros_are_information(tmp_path: Path) -> None:
    recs = {"struct __SAVE_TYPE_CPU": {a: u64_after_u32(a) for a in ALL}}
    assert [f[0] for f in run(tmp_path, snaps(recs))] == ["info"]


def test_same_key_from_different_headers_is_not_compared(tmp_path: Path) -> None:
    x86 = rec(8, 4, fld("a", "uint32_t", 0, 4), fld("b", "uint32_t", 4, 4), header="arch-x86/xen.h")
    arm = rec(4, 4, fld("a", "uint32_t", 0, 4), header="arch-arm.h")
    recs = {"struct arch_vcpu_info": {"x86_32": x86, "x86_64": x86, "arm32": arm, "arm64": arm}}
    assert run(tmp_path, snaps(recs)) == []


def test_fixed_width_looks_through_typedefs_arrays_and_nested_records() -> None:
    inner = rec(8, 8, fld("q", "uint64_aligned_t", 0, 8))
    outer = rec(16, 8, fld("i", "struct inner", 0, 8), fld("h", "domid_t[4]", 8, 8))
    bad = rec(8, 8, fld("x", "struct outer", 0, 16), fld("p", "char *", 8, 8))
    snap = snapshot(records={"struct inner": inner, "struct outer": outer, "struct bad": bad},
                    typedefs={"domid_t": td("uint16_t", 2, 2)})
    fw = FixedWidth(snap)
    assert fw.record("struct inner") and fw.record("struct outer")
    assert not fw.record("struct bad")
    assert fw.type("enum xenbus_state") and not fw.type("unknown_t")


def test_guest_handles_are_fixed_width_where_they_are_64_bits() -> None:
    def snap_for(arch: str) -> Snapshot:
        n = 4 if arch == "x86_32" else 8
        plain = rec(n, n, fld("p", "uint8_t *", 0, n))
        wide = rec(8, 8 if arch != "x86_32" else 4, fld("p", "uint8_t *", 0, n))
        return snapshot(arch, records={"__guest_handle_uint8": plain,
                                       "__guest_handle_64_uint8": wide})
    for arch, plain_fixed in (("x86_32", False), ("x86_64", True), ("arm32", True)):
        fw = FixedWidth(snap_for(arch))
        assert fw.type("__guest_handle_uint8") is plain_fixed, arch
        assert fw.type("__guest_handle_64_uint8"), arch  # declared 64 bits, whatever its align


def test_differences_lists_fields_then_size_and_caps_the_list() -> None:
    recs = {a: rec(4 * n, 4, *(fld(f"f{i}", "uint32_t", i * n, 4) for i in range(6)))
            for a, n in (("x86_32", 4), ("x86_64", 8))}
    out = differences(recs, limit=2)
    assert out == ["`f1` offset 4 (x86_32) vs 8 (x86_64)", "`f2` offset 8 (x86_32) vs 16 (x86_64)",
                   "and 3 more fields", "size 16 (x86_32) vs 32 (x86_64)"]


def test_one_finding_per_view_each_naming_its_targets(tmp_path: Path) -> None:
    recs = {"struct xen_domctl_shrunk": {a: u64_after_u32(a) for a in ("x86_32", "x86_64")}}
    ctx = context(make_tree(tmp_path, {}), snaps(recs, arches=("x86_32", "x86_64")))
    (f,) = check_arch(ctx)
    assert (f.file, f.line, f.symbols, f.arches, f.views, f.severity) == (
        "xen/include/public/memory.h", 10, ("struct xen_domctl_shrunk",), ("x86_32", "x86_64"),
        ("tools",), Severity.WARNING)  # no guest view computed: counted guest-visible
