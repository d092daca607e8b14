"""The diff judged on edits to copies of the real 4.17 tree, each edit classified from its meaning.

Every case edits one copy of ``xen/include/public`` (made at test time,
hard links but for the edited file) and compares it with the unedited
copy. The expected class and changes are written from what the edit means
to a guest or a toolstack built against the base, never from xenabi's
output: an inserted field moves the ones after it (breaking), a flag on a
bit another flag has is suspicious, a comment is no change at all.

The base and every edit share one parse memo (:class:`xenabi.snapshot.Batch`),
so an edit re-parses only what it changed; each case computes only the
targets and views it needs.
"""

from __future__ import annotations

import os
import re
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from xenabi.diff import compare, values
from xenabi.model import Change, ChangeClass, Snapshot
from xenabi.sides import constant_families
from xenabi.snapshot import Batch, compute
from xenabi.tree import PUBLIC, XenTree, open_tree

REAL = Path(__file__).resolve().parents[1] / "headers" / "xen-4.17"

B, S, C = ChangeClass.BREAKING, ChangeClass.SUSPICIOUS, ChangeClass.COMPATIBLE
X64 = (("x86_64", "guest"),)
X86 = (("x86_32", "guest"), ("x86_64", "guest"))
ARM = (("arm32", "guest"), ("arm64", "guest"))
TOOLS = (("x86_64", "tools"),)


@dataclass(frozen=True)
class Edit:
    id: str
    #: (header, old text, new text): each old text must stand in the 4.17 header
    subs: tuple[tuple[str, str, str], ...]
    worst: ChangeClass | None  #: the most serious class listed; None: no change at all
    #: (class, kind, symbol) that must be listed
    expect: tuple[tuple[ChangeClass, str, str], ...] = ()
    pairs: tuple[tuple[str, str], ...] = X64
    arches: tuple[str, ...] | None = None  #: the targets the first expected change holds on
    says: str | None = None  #: a regex the first expected change's message matches


def sub(header: str, old: str, new: str) -> tuple[str, str, str]:
    return (header, old, new)


SIF_PRIV = "#define SIF_PRIVILEGED    (1<<0)  /* Is the domain privileged? */\n"
SIF_INIT = "#define SIF_INITDOMAIN    (1<<1)  /* Is this the initial control domain? */\n"
SIF_4TOOLS = "#define SIF_VIRT_P2M_4TOOLS (1<<4) /* Do Xen tools understand a virt. mapped */\n"
BIND = ("struct evtchn_bind_interdomain {\n    /* IN parameters. */\n    domid_t remote_dom;\n"
        "    evtchn_port_t remote_port;\n    /* OUT parameters. */\n"
        "    evtchn_port_t local_port;\n};")
BIND_T = "struct evtchn_bind_interdomain"
TIMER = "    uint64_t timeout_abs_ns;   /* Absolute system time value in nanoseconds. */\n"
TIMER_FLAGS = "    uint32_t flags;            /* VCPU_SSHOTTMR_??? */\n"
TIMER_T = "struct vcpu_set_singleshot_timer"
REASON = "    unsigned int reason;       /* SHUTDOWN_* => enum sched_shutdown_reason */\n"
SHUTDOWN_T = "struct sched_remote_shutdown"
DOMINFO_PAD = "    domid_t  domain;              /* Also echoed in domctl.domain */\n    uint16_t pad1;\n"
DOMCTL_V = "#define XEN_DOMCTL_INTERFACE_VERSION 0x00000015\n"
CDF_IOMMU = "#define _XEN_DOMCTL_CDF_iommu         5"
UPCALL = "#endif /* XEN_HAVE_PV_UPCALL_MASK */\n"
READCONSOLE = "    uint8_t incremental;\n    uint8_t pad0, pad1;\n"


EDITS = (
    # ---- constants
    Edit("constant-value", (sub("xen.h", "(0xFF<<8) /* reserve", "(0xFF<<9) /* reserve"),),
         B, ((B, "constant-value-changed", "SIF_PM_MASK"),), says=r"0xff00 -> 0x1fe00"),
    Edit("constant-removed", (sub("xen.h", "#define SIF_MOD_START_PFN (1<<3)", ""),),
         B, ((B, "constant-removed", "SIF_MOD_START_PFN"),)),
    Edit("constant-renamed", (sub("xen.h", "#define SIF_MULTIBOOT_MOD ",
                                  "#define SIF_MULTIBOOT_MODULE "),),
         B, ((B, "constant-removed", "SIF_MULTIBOOT_MOD"),
             (C, "constant-added", "SIF_MULTIBOOT_MODULE"))),
    Edit("constant-added", (sub("xen.h", SIF_4TOOLS, SIF_4TOOLS + "#define SIF_NEW (1<<5)\n"),),
         C, ((C, "constant-added", "SIF_NEW"),)),
    Edit("alias-added", (sub("xen.h", SIF_PRIV, SIF_PRIV + "#define SIF_PRIV SIF_PRIVILEGED\n"),),
         C, ((C, "constant-added", "SIF_PRIV"),)),
    Edit("flag-on-used-bit", (sub("xen.h", SIF_4TOOLS, SIF_4TOOLS + "#define SIF_HVM_GHCB (1<<4)\n"),),
         S, ((S, "constant-collides", "SIF_HVM_GHCB"),), says="SIF_VIRT_P2M_4TOOLS"),
    Edit("flag-in-reserved-mask",
         (sub("xen.h", SIF_4TOOLS, SIF_4TOOLS + "#define SIF_HVM_GHCB (1<<8)\n"),),
         S, ((S, "constant-collides", "SIF_HVM_GHCB"),), says="SIF_PM_MASK"),
    Edit("value-in-reserved-range",
         (sub("xen.h", "#define DOMID_INVALID        xen_mk_uint(0x7FF4)\n",
              "#define DOMID_INVALID        xen_mk_uint(0x7FF4)\n"
              "#define DOMID_ANY            xen_mk_uint(0x7FF5)\n"),),
         S, ((S, "constant-collides", "DOMID_ANY"),), says="DOMID_FIRST_RESERVED"),
    Edit("operation-number-reused",
         (sub("event_channel.h", "#define EVTCHNOP_set_priority    13\n",
              "#define EVTCHNOP_set_priority    13\n#define EVTCHNOP_get_priority    5\n"),),
         S, ((S, "constant-collides", "EVTCHNOP_get_priority"),), says="EVTCHNOP_status"),
    Edit("virq-removed", (sub("xen.h", "#define VIRQ_TBUF       4", ""),),
         B, ((B, "constant-removed", "VIRQ_TBUF"),)),
    Edit("domctl-flag-added", (sub("domctl.h", CDF_IOMMU,
                                   "#define XEN_DOMCTL_CDF_newflag (1U<<30)\n" + CDF_IOMMU),),
         C, ((C, "constant-added", "XEN_DOMCTL_CDF_newflag"),), pairs=TOOLS),
    Edit("domctl-flag-reused", (sub("domctl.h", CDF_IOMMU,
                                    "#define XEN_DOMCTL_CDF_newflag (1U<<1)\n" + CDF_IOMMU),),
         S, ((S, "constant-collides", "XEN_DOMCTL_CDF_newflag"),), pairs=TOOLS),
    Edit("enumerator-renumbered", (sub("io/xenbus.h", "XenbusStateClosed        = 6",
                                       "XenbusStateClosed        = 9"),),
         B, ((B, "constant-value-changed", "XenbusStateClosed"),)),
    Edit("enumerator-appended", (sub("io/xenbus.h", "XenbusStateReconfigured  = 8",
                                     "XenbusStateReconfigured  = 8,\n    XenbusStateGone = 9"),),
         C, ((C, "constant-added", "XenbusStateGone"),)),
    Edit("enumerator-value-reused", (sub("io/xenbus.h", "XenbusStateReconfigured  = 8",
                                         "XenbusStateReconfigured  = 8,\n    XenbusStateGone = 4"),),
         S, ((S, "constant-collides", "XenbusStateGone"),), says="XenbusStateConnected"),
    Edit("constant-type-promotes", (sub("vcpu.h", "(1U << _VCPU_SSHOTTMR_future)",
                                        "(1UL << _VCPU_SSHOTTMR_future)"),),
         B, ((B, "constant-type-changed", "VCPU_SSHOTTMR_future"),), says="promotes"),
    Edit("guest-version-bumped", (sub("xen-compat.h", "0x00040e00", "0x00040f00"),),
         C, ((C, "version-bumped", "__XEN_LATEST_INTERFACE_VERSION__"),)),
    # ---- records
    Edit("field-inserted", (sub("event_channel.h", BIND, BIND.replace(
        "    evtchn_port_t remote_port;\n", "    evtchn_port_t remote_port;\n    uint32_t flags;\n")),),
         B, ((B, "record-size-changed", BIND_T), (B, "field-offset-changed", f"{BIND_T}.local_port"),
             (C, "field-added", f"{BIND_T}.flags")), says="12 -> 16"),
    Edit("field-removed", (sub("event_channel.h", BIND, BIND.replace(
        "    evtchn_port_t local_port;\n", "")),),
         B, ((B, "field-removed", f"{BIND_T}.local_port"), (B, "record-size-changed", BIND_T))),
    Edit("fields-reordered", (sub("event_channel.h", BIND, BIND.replace(
        "    evtchn_port_t remote_port;\n    /* OUT parameters. */\n    evtchn_port_t local_port;\n",
        "    evtchn_port_t local_port;\n    /* OUT parameters. */\n    evtchn_port_t remote_port;\n")),),
         B, ((B, "field-offset-changed", f"{BIND_T}.local_port"),
             (B, "field-offset-changed", f"{BIND_T}.remote_port"))),
    Edit("field-retyped", (sub("vcpu.h", TIMER_FLAGS, TIMER_FLAGS.replace("uint32_t", "int32_t ")),),
         B, ((B, "field-type-changed", f"{TIMER_T}.flags"),), says="unsigned int -> int"),
    Edit("field-renamed", (sub("vcpu.h", TIMER_FLAGS, TIMER_FLAGS.replace("flags;", "fl;   ")),),
         B, ((B, "field-renamed", f"{TIMER_T}.flags"),), says="renamed to fl"),
    Edit("field-widened", (sub("vcpu.h", TIMER_FLAGS, TIMER_FLAGS.replace("uint32_t", "uint64_t")),),
         B, ((B, "field-size-changed", f"{TIMER_T}.flags"), (B, "record-size-changed", TIMER_T)),
         pairs=X86, arches=("x86_32", "x86_64")),
    Edit("widened-on-x86_32-only", (sub("sched.h", REASON,
                                        "#ifdef __i386__\n    uint64_t reason;\n#else\n" + REASON
                                        + "#endif\n"),),
         B, ((B, "field-size-changed", f"{SHUTDOWN_T}.reason"),), pairs=X86, arches=("x86_32",)),
    Edit("widened-on-arm32-only", (sub("sched.h", REASON,
                                       "#ifdef __arm__\n    uint64_t reason;\n#else\n" + REASON
                                       + "#endif\n"),),
         B, ((B, "field-size-changed", f"{SHUTDOWN_T}.reason"),), pairs=ARM, arches=("arm32",)),
    Edit("array-length", (sub("vcpu.h", "uint64_t time[4];", "uint64_t time[5];"),),
         B, ((B, "record-size-changed", "struct vcpu_runstate_info"),
             (B, "field-size-changed", "struct vcpu_runstate_info.time"))),
    Edit("bitfield-width", (sub("hvm/ioreq.h", "    uint8_t state:4;", "    uint8_t state:3;"),),
         B, ((B, "field-width-changed", "struct ioreq.state"),
             (B, "field-offset-changed", "struct ioreq.data_is_ptr"))),
    Edit("aligned-attribute", (sub("vcpu.h", TIMER, TIMER.replace(
        "timeout_abs_ns;", "timeout_abs_ns __attribute__((aligned(16)));")),),
         B, ((B, "record-align-changed", TIMER_T), (B, "record-size-changed", TIMER_T)),
         pairs=X86, arches=("x86_32", "x86_64")),
    Edit("data-field-in-padding", (sub("event_channel.h", BIND, BIND.replace(
        "    domid_t remote_dom;\n", "    domid_t remote_dom;\n    uint16_t flags;\n")),),
         S, ((S, "field-in-padding", f"{BIND_T}.flags"),), says="uninitialised"),
    Edit("vcpu_info-flags-in-padding", (sub("xen.h", UPCALL, UPCALL + "    uint16_t upcall_flags;\n"),),
         S, ((S, "field-in-padding", "struct vcpu_info.upcall_flags"),)),
    Edit("padding-made-explicit", (sub("event_channel.h", BIND, BIND.replace(
        "    domid_t remote_dom;\n", "    domid_t remote_dom;\n    uint16_t _pad;\n")),),
         C, ((C, "padding-made-explicit", f"{BIND_T}._pad"),)),
    Edit("tail-padding-explicit-but-i386", (sub("vcpu.h", TIMER_FLAGS,
                                                TIMER_FLAGS + "    uint32_t pad;\n"),),
         B, ((B, "record-size-changed", TIMER_T), (C, "padding-made-explicit", f"{TIMER_T}.pad")),
         pairs=X86, arches=("x86_32",)),
    Edit("record-renamed", (sub("sched.h", "struct sched_remote_shutdown {",
                                "struct sched_shutdown_remote {"),
                            sub("sched.h", "typedef struct sched_remote_shutdown sched_remote",
                                "typedef struct sched_shutdown_remote sched_remote")),
         B, ((B, "record-removed", SHUTDOWN_T), (C, "record-added", "struct sched_shutdown_remote"))),
    Edit("header-broken", (sub("sched.h", "struct sched_remote_shutdown {",
                               "struct sched_remote_shutdown {{"),),
         B, ((B, "header-failed", "sched.h"),)),
    Edit("record-added", (sub("sched.h", "typedef struct sched_remote_shutdown sched_remote_shutdown_t;\n",
                              "typedef struct sched_remote_shutdown sched_remote_shutdown_t;\n"
                              "struct sched_new_op { uint32_t a; };\n"),),
         C, ((C, "record-added", "struct sched_new_op"),)),
    # ---- typedefs
    Edit("typedef-widened", (sub("event_channel.h", "typedef uint32_t evtchn_port_t;",
                                 "typedef uint64_t evtchn_port_t;"),),
         B, ((B, "typedef-size-changed", "evtchn_port_t"), (B, "record-size-changed", BIND_T))),
    Edit("typedef-added", (sub("event_channel.h", "typedef uint32_t evtchn_port_t;",
                               "typedef uint32_t evtchn_port_t;\ntypedef uint16_t evtchn_prio_t;"),),
         C, ((C, "typedef-added", "evtchn_prio_t"),)),
    # ---- versioned tools interfaces
    Edit("domctl-break-without-bump", (sub("domctl.h", DOMINFO_PAD,
                                           DOMINFO_PAD.replace("uint16_t pad1", "uint32_t pad1")),),
         B, ((B, "field-size-changed", "struct xen_domctl_getdomaininfo.pad1"),), pairs=TOOLS,
         says="without a bump of XEN_DOMCTL_INTERFACE_VERSION"),
    Edit("domctl-break-with-bump", (sub("domctl.h", DOMINFO_PAD,
                                        DOMINFO_PAD.replace("uint16_t pad1", "uint32_t pad1")),
                                    sub("domctl.h", DOMCTL_V, DOMCTL_V.replace("15", "16"))),
         C, ((C, "field-size-changed", "struct xen_domctl_getdomaininfo.pad1"),
             (C, "version-bumped", "XEN_DOMCTL_INTERFACE_VERSION")), pairs=TOOLS,
         says="covered by the XEN_DOMCTL_INTERFACE_VERSION bump"),
    Edit("sysctl-break-without-bump", (sub("sysctl.h", READCONSOLE,
                                           READCONSOLE.replace("pad0, pad1", "pad0")),),
         B, ((B, "field-removed", "struct xen_sysctl_readconsole.pad1"),), pairs=TOOLS,
         says="XEN_SYSCTL_INTERFACE_VERSION"),
    Edit("domctl-bump-alone", (sub("domctl.h", DOMCTL_V, DOMCTL_V.replace("15", "16")),),
         C, ((C, "version-bumped", "XEN_DOMCTL_INTERFACE_VERSION"),), pairs=TOOLS),
    # ---- harmless: no change at all
    Edit("comment", (sub("xen.h", "/* Is the domain privileged? */", "/* Is this domain privileged? */"),),
         None),
    Edit("whitespace", (sub("xen.h", "#define SIF_PRIVILEGED    (1<<0)", "#define SIF_PRIVILEGED (1<<0)"),
                        sub("event_channel.h", "    domid_t remote_dom;\n",
                            "    domid_t\tremote_dom ;\n\n")), None),
    Edit("defines-reordered", (sub("xen.h", SIF_PRIV + SIF_INIT, SIF_INIT + SIF_PRIV),), None),
    Edit("shift-as-hex", (sub("xen.h", "#define SIF_MULTIBOOT_MOD (1<<2)",
                              "#define SIF_MULTIBOOT_MOD (0x4)   "),), None),
    Edit("respelled-same-type", (sub("sched.h", REASON, REASON.replace("unsigned int", "unsigned    ")),
                                 sub("vcpu.h", TIMER_FLAGS, TIMER_FLAGS.replace("uint32_t", "unsigned")),
                                 sub("event_channel.h", "    domid_t remote_dom;\n",
                                     "    uint16_t remote_dom;\n")), None, pairs=X86),
    Edit("bitfield-respelled", (sub("hvm/ioreq.h", "    uint8_t df:1;", "    unsigned char df:1;"),),
         None),
    Edit("dead-code", (sub("sched.h", "typedef struct sched_remote_shutdown sched_remote_shutdown_t;\n",
                           "typedef struct sched_remote_shutdown sched_remote_shutdown_t;\n#if 0\n"
                           "#define SCHEDOP_dead 99\nstruct sched_dead { int x; };\n#endif\n"),), None),
    Edit("doc-prose", (sub("xen.h", "is written non-zero by Xen to indicate",
                           "is set to a non-zero value by Xen, to indicate"),), None),
    Edit("lines-moved", (sub("xen.h", "/* Guest handles for primitive C types. */",
                             "\n\n\n/*\n * Guest handles for primitive C types.\n */\n\n"),
                         sub("event_channel.h", BIND, "\n\n" + BIND)), None, pairs=X86),
)


@pytest.fixture(scope="module")
def real() -> Path:
    if not (REAL / PUBLIC / "xen.h").is_file():
        reason = f"{REAL}: no Xen 4.17 tree (scripts/provision)"
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return REAL


class Shared:
    """The base copy, its snapshots per target and view, and the parse memo all cases share."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.batch = Batch()
        self.tree = open_tree(root)
        self._snaps: dict[tuple[str, str], Snapshot] = {}

    def snaps(self, pairs: tuple[tuple[str, str], ...]) -> dict[tuple[str, str], Snapshot]:
        for p in pairs:
            if p not in self._snaps:
                self._snaps[p] = compute(self.tree, *p, batch=self.batch)
        return {p: self._snaps[p] for p in pairs}


@pytest.fixture(scope="module")
def shared(real: Path, tmp_path_factory: pytest.TempPathFactory) -> Shared:
    base = tmp_path_factory.mktemp("base")
    shutil.copytree(real / PUBLIC, base / PUBLIC)
    return Shared(base)


def edited(shared: Shared, edit: Edit, dest: Path) -> XenTree:
    """A copy of the base with ``edit`` made: hard links, but a new file where edited."""
    shutil.copytree(shared.root / PUBLIC, dest / PUBLIC, copy_function=os.link)
    for header, old, new in edit.subs:
        path = dest / PUBLIC / header
        text = path.read_text()
        assert text.count(old) == 1, f"{edit.id}: {old!r} is not once in 4.17's {header}"
        path.unlink()  # never write through the link into the base
        path.write_text(text.replace(old, new))
    return open_tree(dest)


def diff(shared: Shared, edit: Edit, dest: Path) -> list[Change]:
    head_tree = edited(shared, edit, dest)
    base = shared.snaps(edit.pairs)
    head = {p: compute(head_tree, *p, batch=shared.batch) for p in edit.pairs}
    return compare(base, head, prefix=head_tree.prefix,
                   families=constant_families(head_tree, head))


_RANK = {B: 0, S: 1, C: 2}


@pytest.mark.parametrize("edit", EDITS, ids=[e.id for e in EDITS])
def test_edit_is_classified_from_its_meaning(shared: Shared, edit: Edit, tmp_path: Path) -> None:
    changes = diff(shared, edit, tmp_path)
    shown = "\n".join(str(c) for c in changes)
    if edit.worst is None:
        assert changes == [], f"{edit.id} must list no change:\n{shown}"
        return
    worst = min((c.cls for c in changes), key=_RANK.__getitem__, default=None)
    assert worst is edit.worst, f"{edit.id}: worst {worst}, expected {edit.worst}:\n{shown}"
    listed = {(c.cls, c.kind, c.symbol): c for c in changes}
    for want in edit.expect:
        assert want in listed, f"{edit.id}: {want} not listed:\n{shown}"
    first = listed[edit.expect[0]]
    if edit.arches is not None:
        assert first.arches == edit.arches, shown
    if edit.says is not None:
        assert re.search(edit.says, f"{first.message} ({values(first)})"), shown


def test_the_table_covers_every_class() -> None:
    """At least 40 edits; at least five of each class and five harmless ones."""
    counts = Counter("no change" if e.worst is None else e.worst.value for e in EDITS)
    assert len(EDITS) >= 40 and len({e.id for e in EDITS}) == len(EDITS)
    assert all(counts[k] >= 5 for k in ("breaking", "suspicious", "compatible", "no change")), \
        counts
