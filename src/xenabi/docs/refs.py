"""What a code span names: a public header, a C symbol of some kind, or not C at all.

Code spans in Xen's docs hold much besides C: registers (`cr0`, `ebx`),
command-line options (`dom0_mem=`, `sched=null`), commands (`xl migrate`),
file paths of the tree, numbers and expressions. :func:`classify` sorts a
span's text by its shape alone; whether a C-looking name must exist is
decided against the headers (:mod:`xenabi.docs.symbols`). Header paths are
also found in running text (``see xen/include/public/io/ring.h``).
"""

from __future__ import annotations

import enum
import functools
import re
from dataclasses import dataclass

from xenabi.docs.facts import Document


class Kind(str, enum.Enum):
    """The shape of what a code span holds."""

    HEADER = "public header path"  #: ``xen/include/public/hvm/params.h``, ``public/hvm/hvm_vcpu.h``
    PATH = "other path"  #: ``xen/common/hypfs.c``, ``/boot/efi``: not part of the ABI
    RECORD = "struct/union/enum"  #: ``struct netif_tx_request``
    HYPERCALL = "hypercall"  #: ``HYPERVISOR_vcpu_op``, ``__HYPERVISOR_sched_op()``
    DESIGNATOR = "field designator"  #: ``start_info.flags``, ``op->u.bind``
    CONSTANT = "constant"  #: ``SIF_PRIVILEGED``, ``VCPUOP_up``, ``XenbusStateClosed``
    TYPEDEF = "typedef"  #: ``domid_t``, ``xen_pfn_t``
    FUNCTION = "function call"  #: ``xc_domain_restore()``
    REGISTER = "register"  #: ``cr0``, ``ebx``, ``eflags``
    IDENTIFIER = "lowercase identifier"  #: a field, variable, function or tool name
    OPTION = "option"  #: ``dom0_mem=``, ``--build-id``, ``sched=null``
    PROSE = "prose or command"  #: ``xl migrate $VM localhost``, ``Not Yet Done``
    OTHER = "number or expression"  #: ``0x10``, ``(1 << ring_order)``


#: the kinds a doc-refs check holds to the headers
CHECKED = frozenset({Kind.HEADER, Kind.RECORD, Kind.HYPERCALL, Kind.DESIGNATOR,
                     Kind.CONSTANT, Kind.TYPEDEF})

_ID = r"[A-Za-z_]\w*"
_IDENT = re.compile(_ID)
_RECORD = re.compile(rf"(struct|union|enum) ({_ID})")
_HYPERCALL = re.compile(r"(?:__)?HYPERVISOR_(\w+)(?:\(\))?")
_DESIGNATOR = re.compile(rf"{_ID}(?:(?:\.|->){_ID})+")
_CALL = re.compile(rf"{_ID}\(\)")
_MACRO = re.compile(r"_*[A-Z][A-Z0-9]*_\w+|[A-Z][a-z0-9]+[A-Z]\w*")
_CODE = re.compile(r"`[^`]*`")
#: numbers and C arithmetic on names: ``0x10``, ``(1 << ring_order) * PAGE_SIZE``
_EXPRESSION = re.compile(r"[\w\s()<>*+|&~^/.-]+")
_ARITHMETIC = re.compile(r"\d|<<|>>")
#: a word of prose: ``Note:``, ``don't``, ``x86-64``
_WORD = re.compile(r"[A-Za-z][\w'-]*:?")
#: x86 and Arm register names as docs write them in code spans
_REGISTER = re.compile(
    r"(?:[er]?[abcd]x|[er]?[sd]il?|[er]?[sb]pl?|[er]?ip|r(?:[89]|1[0-5])[dwb]?|[c-gs]s|tr|ldtr"
    r"|[er]flags|[cdt]r\d+|xcr0|[xw](?:[12]?\d|30)|sp|pc|lr|[cs]psr|ttbr[01]|sctlr|hcr|vbar)")
#: a path of the tree or the filesystem: at least one slash, no spaces
_PATH = re.compile(r"[\w.$<>{}*\[\],@~-]*(?:/[\w.$<>{}*\[\],@~-]*)+")
#: a public header named anywhere: ``xen/include/public/X.h`` or ``public/X.h``
_HEADER = re.compile(r"(?<![\w/.-])((?:xen/)?(?:include/)?public/((?:[\w-]+/)*[\w.-]+\.h))\b")


@dataclass(frozen=True, slots=True)
class Ref:
    """One name a document uses, with its shape."""

    kind: Kind
    #: normalised: ``struct foo``; a header relative to ``public/``; a bare hypercall name
    name: str
    text: str  #: as the document wrote it
    doc: str
    line: int
    in_code: bool = True  #: False for a header path found in running text


def classify(text: str) -> tuple[Kind, str]:
    """The shape of a code span's content, and the name it gives (see :class:`Kind`)."""
    t = " ".join(text.split())
    m = _HEADER.fullmatch(t)
    if m:
        return Kind.HEADER, m.group(2)
    m = _RECORD.fullmatch(t)
    if m:
        return Kind.RECORD, f"{m.group(1)} {m.group(2)}"
    m = _HYPERCALL.fullmatch(t)
    if m:
        return Kind.HYPERCALL, m.group(1)
    if _DESIGNATOR.fullmatch(t):
        return Kind.DESIGNATOR, t.replace("->", ".")
    if _CALL.fullmatch(t):
        return Kind.FUNCTION, t[:-2]
    if _IDENT.fullmatch(t):
        return _identifier(t), t
    if t.startswith("-") or ("=" in t and " " not in t.split("=", 1)[0]):
        return Kind.OPTION, t
    if _PATH.fullmatch(t):
        return Kind.PATH, t
    if _EXPRESSION.fullmatch(t) and _ARITHMETIC.search(t):
        return Kind.OTHER, t
    if " " in t or _WORD.fullmatch(t):
        return Kind.PROSE, t
    return Kind.OTHER, t


def _identifier(t: str) -> Kind:
    if _MACRO.fullmatch(t):
        return Kind.CONSTANT
    if t.endswith("_t"):
        return Kind.TYPEDEF
    if _REGISTER.fullmatch(t):
        return Kind.REGISTER
    return Kind.IDENTIFIER


@functools.lru_cache(maxsize=256)  # three rules ask about the same documents
def refs(doc: Document) -> tuple[Ref, ...]:
    """Every code span of a document, classified, and every header path of its running text."""
    found = []
    for text in doc.texts:
        for code in text.codes:
            kind, name = classify(code.text)
            found.append(Ref(kind, name, code.text, doc.path, code.line))
        if "public/" in text.text:
            # paths in running text, outside code spans
            bare = _CODE.sub(lambda m: " " * len(m.group(0)), text.text)
            found += [Ref(Kind.HEADER, m.group(2), m.group(1), doc.path, text.line_at(m.start()),
                          in_code=False) for m in _HEADER.finditer(bare)]
    return tuple(found)


def headers_named(doc: Document) -> frozenset[str]:
    """The public headers a document names (relative to ``public/``)."""
    return frozenset(r.name for r in refs(doc) if r.kind is Kind.HEADER)
