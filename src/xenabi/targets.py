"""Xen targets as data: the C data model and predefined macros of each.

Names follow Xen's ``tools/include/xen-foreign``. Every ABI quirk lives in
this table (i386's 4-byte alignment of 64-bit integers inside structs, AAPCS
bitfield rules, ``char`` signedness); no other module asks which arch it is.
The table is checked for consistency when the module is imported.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from xenabi.errors import UsageError


@dataclass(frozen=True, slots=True)
class ScalarLayout:
    size: int  #: sizeof
    align: int  #: alignment as a struct member (i386: 4 for ``long long``)
    preferred: int  #: GNU ``__alignof__``: a lone object's alignment (i386: 8 for ``long long``)


@dataclass(frozen=True, slots=True)
class Target:
    name: str  #: ``x86_32``, as Xen's xen-foreign names it
    clang_triple: str  #: the oracle's ``--target``
    arch_family: str  #: ``x86``, ``arm``, ``riscv``, ``ppc``: which ``arch-*`` headers apply
    arch_headers: tuple[str, ...]  #: public headers (or dirs) of this family, relative to public/
    predefines: Mapping[str, str]  #: what the compiler predefines for this target
    scalars: Mapping[str, ScalarLayout]  #: every C scalar by canonical name, ``pointer`` included
    char_signed: bool
    #: SysV: a zero-width bitfield only pads; AAPCS: it also raises the record's alignment
    zero_width_bitfield_aligns_record: bool
    #: AAPCS: an unnamed bitfield's declared type raises the record's alignment; SysV: it does not
    unnamed_bitfield_aligns_record: bool
    #: the public header whose presence says a tree has this port (4.17 has no
    #: arch-riscv.h); None: every tree has it (x86 and arm, since Xen's first releases)
    marker: str | None = None
    #: headers of this family meant for a sibling target (arch-x86/xen.h picks its
    #: 32- or 64-bit half by target; the other half redefines the same records)
    sibling_headers: tuple[str, ...] = ()
    #: a port whose headers Xen's own build never compiles: what fails is a port gap
    young: bool = False
    #: how docs/misra/C-language-toolchain.rst names the architecture(s) of this target
    toolchain_names: tuple[str, ...] = ()

    @property
    def pointer(self) -> ScalarLayout:
        return self.scalars["pointer"]

    def int_bits(self, name: str) -> int:
        return self.scalars[name].size * 8


def _scalars(long: int, llong_align: int, double_align: int, ldouble: tuple[int, int],
             pointer: int) -> Mapping[str, ScalarLayout]:
    s = {
        "_Bool": (1, 1), "char": (1, 1), "signed char": (1, 1), "unsigned char": (1, 1),
        "short": (2, 2), "unsigned short": (2, 2), "int": (4, 4), "unsigned int": (4, 4),
        "long": (long, long), "unsigned long": (long, long),
        "long long": (8, llong_align), "unsigned long long": (8, llong_align),
        "float": (4, 4), "double": (8, double_align), "long double": ldouble,
        "pointer": (pointer, pointer), "enum": (4, 4),
    }
    # gcc and clang align a lone 8-byte integer or double to 8 even where the ABI gives
    # it 4 in a struct (i386); every other scalar's preferred alignment is its alignment
    wide = ("long long", "unsigned long long", "double")
    return MappingProxyType({k: ScalarLayout(size, align, max(align, size) if k in wide else align)
                             for k, (size, align) in s.items()})


_GNU_C11 = {"__GNUC__": "12", "__GNUC_MINOR__": "2", "__GNUC_PATCHLEVEL__": "0",
            "__CHAR_BIT__": "8", "__STDC_HOSTED__": "0",
            "__ORDER_LITTLE_ENDIAN__": "1234", "__ORDER_BIG_ENDIAN__": "4321",
            "__BYTE_ORDER__": "__ORDER_LITTLE_ENDIAN__",
            "__SIZEOF_SHORT__": "2", "__SIZEOF_INT__": "4", "__SIZEOF_LONG_LONG__": "8"}


def _predefines(long: int, **arch: str) -> Mapping[str, str]:
    d = dict(_GNU_C11, __SIZEOF_LONG__=str(long), __SIZEOF_POINTER__=str(long), **arch)
    if long == 8:
        d.update(__LP64__="1", _LP64="1")
    return MappingProxyType(d)


_X86 = ("arch-x86", "arch-x86_32.h", "arch-x86_64.h")
_ARM = ("arch-arm", "arch-arm.h")
_LP64 = _scalars(long=8, llong_align=8, double_align=8, ldouble=(16, 16), pointer=8)

TARGETS: Mapping[str, Target] = MappingProxyType({t.name: t for t in (
    Target("x86_32", "i686-linux-gnu", "x86", _X86,
           _predefines(4, __i386__="1", __i386="1"),
           _scalars(long=4, llong_align=4, double_align=4, ldouble=(12, 4), pointer=4),
           char_signed=True, zero_width_bitfield_aligns_record=False,
           unnamed_bitfield_aligns_record=False, sibling_headers=("arch-x86/xen-x86_64.h",),
           toolchain_names=("x86_32",)),
    Target("x86_64", "x86_64-linux-gnu", "x86", _X86,
           _predefines(8, __x86_64__="1", __x86_64="1", __amd64__="1", __amd64="1"),
           _LP64, char_signed=True, zero_width_bitfield_aligns_record=False,
           unnamed_bitfield_aligns_record=False, sibling_headers=("arch-x86/xen-x86_32.h",),
           toolchain_names=("x86_64",)),
    Target("arm32", "arm-linux-gnueabihf", "arm", _ARM,
           _predefines(4, __arm__="1", __ARM_EABI__="1", __ARMEL__="1", __ARM_ARCH="7",
                       __ARM_PCS_VFP="1", __CHAR_UNSIGNED__="1"),
           _scalars(long=4, llong_align=8, double_align=8, ldouble=(8, 8), pointer=4),
           char_signed=False, zero_width_bitfield_aligns_record=True,
           unnamed_bitfield_aligns_record=True,
           toolchain_names=("ARMv8-A AArch32", "ARMv8-R AArch32", "ARMv7-A")),
    Target("arm64", "aarch64-linux-gnu", "arm", _ARM,
           _predefines(8, __aarch64__="1", __AARCH64EL__="1", __CHAR_UNSIGNED__="1"),
           _LP64, char_signed=False, zero_width_bitfield_aligns_record=True,
           unnamed_bitfield_aligns_record=True, toolchain_names=("ARMv8-A AArch64",)),
    # RISC-V and 64-bit little-endian PowerPC (ELFv2): LP64, unsigned char, 16-byte
    # long double, SysV bitfields
    Target("riscv64", "riscv64-linux-gnu", "riscv", ("arch-riscv.h",),
           _predefines(8, __riscv="1", __riscv_xlen="64", __LITTLE_ENDIAN__="1",
                       __CHAR_UNSIGNED__="1"),
           _LP64, char_signed=False, zero_width_bitfield_aligns_record=False,
           unnamed_bitfield_aligns_record=False, marker="arch-riscv.h", young=True,
           toolchain_names=("RV64",)),
    Target("ppc64", "powerpc64le-linux-gnu", "ppc", ("arch-ppc.h",),
           _predefines(8, __powerpc64__="1", __powerpc__="1", __PPC64__="1", __PPC__="1",
                       _ARCH_PPC="1", _ARCH_PPC64="1", _CALL_ELF="2", __LITTLE_ENDIAN__="1",
                       __CHAR_UNSIGNED__="1"),
           _LP64, char_signed=False, zero_width_bitfield_aligns_record=False,
           unnamed_bitfield_aligns_record=False, marker="arch-ppc.h", young=True,
           toolchain_names=("PPC64",)),
)})

VIEWS: tuple[str, ...] = ("tools", "guest")


def tree_arches(headers: Collection[str]) -> tuple[str, ...]:
    """The targets a tree's public headers have (``headers``: relative to public/)."""
    return tuple(name for name, t in TARGETS.items() if t.marker is None or t.marker in headers)


def choose(headers: Collection[str], asked: Iterable[str] | None) -> tuple[str, ...]:
    """The targets to run: ``asked``, each of which the tree must have; by default every
    target the tree has. A target the tree lacks is a :class:`UsageError`."""
    have = tree_arches(headers)
    for a in asked or ():
        if a in TARGETS and a not in have:
            raise UsageError(f"--arch {a}: this tree has no {TARGETS[a].marker}, so no {a} "
                             f"port (it has: {' '.join(have)})")
    return tuple(asked) if asked else have


def _validate() -> None:
    for t in TARGETS.values():
        for name, s in t.scalars.items():
            assert 0 < s.align <= s.preferred <= s.size, (t.name, name)
        assert t.pointer.size * 8 == (64 if t.name.endswith("64") else 32), t.name
        assert t.predefines["__SIZEOF_POINTER__"] == str(t.pointer.size), t.name


_validate()
