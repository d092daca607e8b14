"""``xenabi diff`` on edits made at test time to copies of the real 4.17 tree.

Each edit names the changes it must produce (from what the edit means: a
constant renumbered, a field inserted before others moves them) and the
classes allowed; the harmless edits must list no change at all. Only
``xen/include/public`` is copied per edit; the base is the real tree, whose
snapshots the cache shares between edits. The counts per class print at the
end of the run.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path

import pytest

from xenabi.sides import Side, diff_sides
from xenabi.tree import PUBLIC, open_tree

TREE = Path(__file__).resolve().parent.parent / "headers" / "xen-4.17"

B, C, S = "breaking", "compatible", "suspicious"

XEN, DOMCTL, SYSCTL, VCPU = "xen.h", "domctl.h", "sysctl.h", "vcpu.h"
EVTCHN = "event_channel.h"

#: (id, header, old text, new text, changes that must be reported {(kind, class, symbol)})
EDITS = [
    # harmless: no change at all
    ("comment", XEN, "struct vcpu_time_info {", "/* a comment */\nstruct vcpu_time_info {", set()),
    ("whitespace", XEN, "    uint32_t version;\n    uint32_t pad0;",
     "\tuint32_t    version ;\n\n    uint32_t pad0;", set()),
    ("reordered-defines", XEN,
     "#define SIF_PRIVILEGED    (1<<0)  /* Is the domain privileged? */\n"
     "#define SIF_INITDOMAIN    (1<<1)  /* Is this the initial control domain? */",
     "#define SIF_INITDOMAIN    (1<<1)  /* Is this the initial control domain? */\n"
     "#define SIF_PRIVILEGED    (1<<0)  /* Is the domain privileged? */", set()),
    ("shift-as-hex", XEN, "#define SIF_MOD_START_PFN (1<<3)", "#define SIF_MOD_START_PFN 0x8",
     set()),
    ("respelled", VCPU, "    uint32_t offset; /* offset within page */",
     "    unsigned int offset; /* offset within page */", set()),
    ("if0", XEN, "struct vcpu_time_info {",
     "#if 0\n#define XEN_DEAD 1\nstruct xen_dead { int x; };\n#endif\nstruct vcpu_time_info {",
     set()),
    ("doc-prose", XEN, "Updates to the following values are preceded",
     "Every update to the following values is preceded", set()),
    ("blank-lines", EVTCHN, "struct evtchn_bind_virq {", "\n\n\nstruct evtchn_bind_virq {",
     set()),
    ("macro-respelled", XEN, "#define DOMID_COW            xen_mk_uint(0x7FF3)",
     "#define DOMID_COW            xen_mk_uint(0x7ff3)", set()),
    ("typedef-respelled", VCPU, "    uint64_t mfn;    /* mfn of page to place vcpu_info */",
     "    uint64_t mfn ;", set()),
    # constants
    ("value-changed", XEN, "#define VIRQ_CONSOLE    2", "#define VIRQ_CONSOLE    12",
     {("constant-value-changed", B, "VIRQ_CONSOLE")}),
    ("removed", XEN, "#define SIF_MOD_START_PFN (1<<3)", "",
     {("constant-removed", B, "SIF_MOD_START_PFN")}),
    ("renamed", XEN, "#define SIF_MOD_START_PFN (1<<3)", "#define SIF_MODSTART_PFN (1<<3)",
     {("constant-removed", B, "SIF_MOD_START_PFN"),
      ("constant-added", C, "SIF_MODSTART_PFN")}),
    ("added", XEN, "#define SIF_PM_MASK", "#define SIF_HVM_GHCB      (1<<5)\n#define SIF_PM_MASK",
     {("constant-added", C, "SIF_HVM_GHCB")}),
    ("flag-on-used-bit", XEN, "#define SIF_PM_MASK",
     "#define SIF_HVM_GHCB      (1<<4)\n#define SIF_PM_MASK",
     {("constant-collides", S, "SIF_HVM_GHCB")}),
    ("flag-in-mask", XEN, "#define SIF_PM_MASK",
     "#define SIF_HVM_GHCB      (1<<8)\n#define SIF_PM_MASK",
     {("constant-collides", S, "SIF_HVM_GHCB")}),
    ("reserved-domid", XEN, "#define DOMID_IDLE ", "#define DOMID_ANY xen_mk_uint(0x7FF5)\n"
     "#define DOMID_IDLE ", {("constant-collides", S, "DOMID_ANY")}),
    ("numbering-reuse", XEN, "#define VIRQ_TBUF       4",
     "#define VIRQ_TBUF       4\n#define VIRQ_NEWONE     3",
     {("constant-collides", S, "VIRQ_NEWONE")}),
    ("promotes", XEN, "#define XEN_PVCLOCK_TSC_STABLE_BIT     (1 << 0)",
     "#define XEN_PVCLOCK_TSC_STABLE_BIT     (1ULL << 0)",
     {("constant-type-changed", B, "XEN_PVCLOCK_TSC_STABLE_BIT")}),
    # records
    ("field-inserted", EVTCHN, "    uint32_t vcpu;\n    /* OUT parameters. */",
     "    uint32_t extra;\n    uint32_t vcpu;\n    /* OUT parameters. */",
     {("field-offset-changed", B, "struct evtchn_bind_virq.vcpu"),
      ("field-offset-changed", B, "struct evtchn_bind_virq.port"),
      ("record-size-changed", B, "struct evtchn_bind_virq"),
      ("field-added", C, "struct evtchn_bind_virq.extra")}),
    ("field-removed", EVTCHN, "    uint32_t vcpu;\n    /* OUT parameters. */",
     "    /* OUT parameters. */",
     {("field-removed", B, "struct evtchn_bind_virq.vcpu"),
      ("record-size-changed", B, "struct evtchn_bind_virq")}),
    ("fields-reordered", EVTCHN, "    uint32_t virq; /* enum virq */\n    uint32_t vcpu;",
     "    uint32_t vcpu;\n    uint32_t virq; /* enum virq */",
     {("field-offset-changed", B, "struct evtchn_bind_virq.vcpu"),
      ("field-offset-changed", B, "struct evtchn_bind_virq.virq")}),
    ("field-retyped", EVTCHN, "    uint32_t vcpu;\n    /* OUT parameters. */",
     "    int32_t vcpu;\n    /* OUT parameters. */",
     {("field-type-changed", B, "struct evtchn_bind_virq.vcpu")}),
    ("field-renamed", EVTCHN, "    uint32_t vcpu;\n    /* OUT parameters. */",
     "    uint32_t cpu;\n    /* OUT parameters. */",
     {("field-renamed", B, "struct evtchn_bind_virq.vcpu")}),
    ("field-widened", EVTCHN, "    uint32_t vcpu;\n    /* OUT parameters. */",
     "    uint64_t vcpu;\n    /* OUT parameters. */",
     {("field-size-changed", B, "struct evtchn_bind_virq.vcpu"),
      ("record-size-changed", B, "struct evtchn_bind_virq")}),
    ("widened-x86_32-only", VCPU, "    uint32_t rsvd;   /* unused */",
     "    uint32_t rsvd;   /* unused */\n#ifdef __i386__\n    uint32_t more;\n#endif",
     {("record-size-changed", B, "struct vcpu_register_vcpu_info"),
      ("field-added", C, "struct vcpu_register_vcpu_info.more")}),
    ("widened-arm32-only", VCPU, "    uint32_t rsvd;   /* unused */",
     "    uint32_t rsvd;   /* unused */\n#ifdef __arm__\n    uint32_t more;\n#endif",
     {("record-size-changed", B, "struct vcpu_register_vcpu_info"),
      ("field-added", C, "struct vcpu_register_vcpu_info.more")}),
    ("array-length", SYSCTL, "    uint8_t pad0, pad1;\n    /*\n     * IN:  Start index",
     "    uint8_t pad0, pad1[2];\n    /*\n     * IN:  Start index",
     {("field-size-changed", B, "struct xen_sysctl_readconsole.pad1")}),
    ("aligned-attribute", VCPU, "struct vcpu_register_vcpu_info {",
     "struct __attribute__((aligned(16))) vcpu_register_vcpu_info {",
     {("record-align-changed", B, "struct vcpu_register_vcpu_info")}),
    ("record-removed", VCPU, "struct vcpu_register_vcpu_info {\n    uint64_t mfn;",
     "struct vcpu_register_vcpu_info_gone {\n    uint64_t mfn;",
     {("record-removed", B, "struct vcpu_register_vcpu_info"),
      ("record-added", C, "struct vcpu_register_vcpu_info_gone")}),
    ("record-added", VCPU, "struct vcpu_register_vcpu_info {",
     "struct xen_vcpu_new { uint64_t a; };\nstruct vcpu_register_vcpu_info {",
     {("record-added", C, "struct xen_vcpu_new")}),
    ("tools-break-no-bump", SYSCTL, "    uint8_t pad0, pad1;\n    /*\n     * IN:  Start index",
     "    uint16_t pad0, pad1;\n    /*\n     * IN:  Start index",
     {("field-size-changed", B, "struct xen_sysctl_readconsole.pad0")}),
    ("tools-break-bumped", SYSCTL,
     ("#define XEN_SYSCTL_INTERFACE_VERSION 0x00000015\n",
      "    uint8_t pad0, pad1;\n    /*\n     * IN:  Start index"),
     ("#define XEN_SYSCTL_INTERFACE_VERSION 0x00000016\n",
      "    uint16_t pad0, pad1;\n    /*\n     * IN:  Start index"),
     {("version-bumped", C, "XEN_SYSCTL_INTERFACE_VERSION"),
      ("field-size-changed", C, "struct xen_sysctl_readconsole.pad0")}),
    ("padding-explicit", XEN, "#endif /* XEN_HAVE_PV_UPCALL_MASK */\n",
     "#endif /* XEN_HAVE_PV_UPCALL_MASK */\n    uint16_t _pad1;\n",
     {("padding-made-explicit", C, "struct vcpu_info._pad1")}),
    ("field-in-padding", XEN, "#endif /* XEN_HAVE_PV_UPCALL_MASK */\n",
     "#endif /* XEN_HAVE_PV_UPCALL_MASK */\n    uint16_t upcall_flags;\n",
     {("field-in-padding", S, "struct vcpu_info.upcall_flags")}),
    ("bitfield-width", "hvm/ioreq.h", "    uint8_t state:4;", "    uint8_t state:3;",
     {("field-width-changed", B, "struct ioreq.state")}),
    ("bitfield-retyped-same", "hvm/ioreq.h", "    uint8_t df:1;", "    unsigned char df:1;",
     set()),
    ("domctl-bump-only", DOMCTL, "#define XEN_DOMCTL_INTERFACE_VERSION 0x00000015",
     "#define XEN_DOMCTL_INTERFACE_VERSION 0x00000016",
     {("version-bumped", C, "XEN_DOMCTL_INTERFACE_VERSION")}),
    ("domctl-flag-added", DOMCTL, "#define _XEN_DOMCTL_CDF_iommu         5",
     "#define XEN_DOMCTL_CDF_newflag (1U<<30)\n#define _XEN_DOMCTL_CDF_iommu         5",
     {("constant-added", C, "XEN_DOMCTL_CDF_newflag")}),
    ("domctl-flag-reused", DOMCTL, "#define _XEN_DOMCTL_CDF_iommu         5",
     "#define XEN_DOMCTL_CDF_newflag (1U<<1)\n#define _XEN_DOMCTL_CDF_iommu         5",
     {("constant-collides", S, "XEN_DOMCTL_CDF_newflag")}),
    ("virq-removed", XEN, "#define VIRQ_TBUF       4", "",
     {("constant-removed", B, "VIRQ_TBUF")}),
]


COUNTS: Counter[str] = Counter()


@pytest.fixture(scope="module")
def base() -> Side:
    if not (TREE / PUBLIC / "xen.h").is_file():
        reason = f"{TREE}: the 4.17 tree is not provisioned (scripts/provision)"
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return Side("base", open_tree(TREE))


@pytest.mark.parametrize("name,header,old,new,expected", EDITS, ids=[e[0] for e in EDITS])
def test_edit_is_classified(tmp_path, base, name, header, old, new, expected):
    head = tmp_path / "head"
    shutil.copytree(TREE / PUBLIC, head / PUBLIC, symlinks=True)
    path = head / PUBLIC / header
    text = path.read_text()
    for o, n in zip(*((old, new) if isinstance(old, tuple) else ((old,), (new,)))):
        assert o in text, f"{header}: the edit's text {o!r} is not there"
        text = text.replace(o, n, 1)
    path.write_text(text)
    r = diff_sides(base, Side("head", open_tree(head)), findings=False)
    got = {(c.kind, c.cls.value, c.symbol) for c in r.changes}
    COUNTS.update({c.cls.value for c in r.changes} or {"no change"})
    assert expected <= got, "\n".join(map(str, r.changes))
    if name.startswith("widened-"):  # widened on one target: the change lists that one alone
        (size,) = [c for c in r.changes if c.kind == "record-size-changed"]
        assert size.arches == (name.split("-")[1],)
    allowed = {cls for _, cls, _ in expected}
    assert {c.cls.value for c in r.changes} <= allowed, "\n".join(map(str, r.changes))


def teardown_module() -> None:
    if COUNTS:
        print("\ndiff edits by class:", ", ".join(f"{n} {k}" for k, n in sorted(COUNTS.items())))
