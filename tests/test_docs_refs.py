"""What a code span names: C symbols are told apart from registers, options, paths and prose."""

from __future__ import annotations

import pytest

from xenabi.docs import read_documents
from xenabi.docs.refs import CHECKED, Kind, classify, headers_named, refs


@pytest.mark.parametrize("text, kind, name", [
    ("xen/include/public/arch-x86/hvm/start_info.h", Kind.HEADER, "arch-x86/hvm/start_info.h"),
    ("public/hvm/hvm_vcpu.h", Kind.HEADER, "hvm/hvm_vcpu.h"),
    ("xen/include/xen/hypfs.h", Kind.PATH, "xen/include/xen/hypfs.h"),
    ("tools/libs/light/libxl_stream_{read,write}.c", Kind.PATH,
     "tools/libs/light/libxl_stream_{read,write}.c"),
    ("/boot/efi", Kind.PATH, "/boot/efi"),
    ("struct   pvcalls_data_intf", Kind.RECORD, "struct pvcalls_data_intf"),
    ("union netif_tx_sring_entry", Kind.RECORD, "union netif_tx_sring_entry"),
    ("enum psr_feat_type", Kind.RECORD, "enum psr_feat_type"),
    ("HYPERVISOR_vcpu_op", Kind.HYPERCALL, "vcpu_op"),
    ("__HYPERVISOR_sched_op()", Kind.HYPERCALL, "sched_op"),
    ("start_info.flags", Kind.DESIGNATOR, "start_info.flags"),
    ("op->u.bind", Kind.DESIGNATOR, "op.u.bind"),
    ("SIF_HVM_GHCB", Kind.CONSTANT, "SIF_HVM_GHCB"),
    ("VCPUOP_initialise", Kind.CONSTANT, "VCPUOP_initialise"),
    ("XEN_ELFNOTE_PHYS32_ENTRY", Kind.CONSTANT, "XEN_ELFNOTE_PHYS32_ENTRY"),
    ("XenbusStateConnected", Kind.CONSTANT, "XenbusStateConnected"),
    ("_NETTXF_csum_blank", Kind.CONSTANT, "_NETTXF_csum_blank"),
    ("domid_t", Kind.TYPEDEF, "domid_t"),
    ("xc_domain_restore()", Kind.FUNCTION, "xc_domain_restore"),
    ("cr0", Kind.REGISTER, "cr0"),
    ("ebx", Kind.REGISTER, "ebx"),
    ("eflags", Kind.REGISTER, "eflags"),
    ("x0", Kind.REGISTER, "x0"),
    ("x86", Kind.IDENTIFIER, "x86"),
    ("flags", Kind.IDENTIFIER, "flags"),
    ("rsdp_paddr", Kind.IDENTIFIER, "rsdp_paddr"),
    ("xl", Kind.IDENTIFIER, "xl"),
    ("ELFNOTE", Kind.IDENTIFIER, "ELFNOTE"),
    ("dom0_mem=", Kind.OPTION, "dom0_mem="),
    ("sched=null", Kind.OPTION, "sched=null"),
    ("--build-id", Kind.OPTION, "--build-id"),
    ("xl migrate $VM localhost", Kind.PROSE, "xl migrate $VM localhost"),
    ("Signed-off-by:", Kind.PROSE, "Signed-off-by:"),
    ("0x49d2", Kind.OTHER, "0x49d2"),
    ("(1 << ring_order) *   PAGE_SIZE", Kind.OTHER, "(1 << ring_order) * PAGE_SIZE"),
])
def test_classify(text: str, kind: Kind, name: str) -> None:
    assert classify(text) == (kind, name)


def test_only_c_shapes_are_checked() -> None:
    checked = {Kind.HEADER, Kind.RECORD, Kind.HYPERCALL, Kind.DESIGNATOR, Kind.CONSTANT,
               Kind.TYPEDEF}
    assert checked == CHECKED


def test_header_paths_in_running_text_and_code_spans() -> None:
    doc = read_documents({"d.pandoc": (
        "Intro.\n\n"
        "The layout is in xen/include/public/hvm/params.h, see also\n"
        "`public/hvm/hvm_op.h` and the file public/io/ring.h.\n"
        "Not public: xen/include/xen/lib.h.\n")}, cache=False).documents[0]
    assert [(r.kind, r.name, r.line, r.in_code) for r in refs(doc) if r.kind is Kind.HEADER] == [
        (Kind.HEADER, "hvm/hvm_op.h", 4, True),
        (Kind.HEADER, "hvm/params.h", 3, False),
        (Kind.HEADER, "io/ring.h", 4, False),
    ]
    assert headers_named(doc) == {"hvm/hvm_op.h", "hvm/params.h", "io/ring.h"}
