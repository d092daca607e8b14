"""Where the Xen headers are: a checkout, a public headers directory, or an installed layout.

Discovery order: an explicit ``--xen-root`` (or ``XEN_ROOT``), a Xen checkout
above the working directory, then the tree provisioned in the project's
``headers/``. Anything unusable is a :class:`UsageError` (exit 2).
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

from xenabi.errors import UsageError

PUBLIC = Path("xen/include/public")

#: what libxen-dev installs beside the public headers: Linux driver and libxc
#: interfaces, not part of the hypervisor's public ABI
INSTALLED_EXTRAS = ("evtchn.h", "gntalloc.h", "gntdev.h", "privcmd.h", "sys/", "foreign/")

DEFAULT_TREE = "xen-4.17"

_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISDIR, "a directory"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))

#: the help of ``--xen-root``, for the CLI and the pytest plugin alike
XEN_ROOT_HELP = ("the Xen tree: a checkout, a public headers dir or an installed include dir "
                 "(default: $XEN_ROOT, a checkout above the working directory, then the "
                 f"project's headers/{DEFAULT_TREE})")


@dataclass(frozen=True)
class XenTree:
    """A Xen tree: where its public headers, docs and ABI tables are."""

    kind: Literal["checkout", "public", "installed"]
    root: Path  #: the checkout root, or the headers directory itself
    public: Path  #: the public headers directory
    prefix: str  #: how findings name a public header: ``xen/include/public/``

    @property
    def docs(self) -> Path | None:
        d = self.root / "docs"
        return d if self.kind == "checkout" and d.is_dir() else None

    @property
    def xlat(self) -> Path | None:
        p = self.root / "xen/include/xlat.lst"
        return p if self.kind == "checkout" and p.is_file() else None

    @property
    def reference_size(self) -> Path | None:
        p = self.root / "tools/include/xen-foreign/reference.size"
        return p if self.kind == "checkout" and p.is_file() else None

    def finding_path(self, header: str) -> str:
        """A public header's path as findings show it (relative to the tree root)."""
        return self.prefix + header

    @cached_property
    def headers(self) -> tuple[str, ...]:
        """Every regular ``.h`` file under the public directory, relative to it, sorted."""
        return tuple(h for h in self._names if h not in self.irregular)

    @cached_property
    def irregular(self) -> dict[str, str]:
        """The ``.h`` names that are never read, and why: what is not a regular file (a
        FIFO would block a read), and a symlink that leads out of the public headers
        (``evil.h -> /etc/hostname``: its content is not the tree's to show)."""
        inside = os.path.realpath(self.public) + "/"
        return {h: why for h in self._names
                if (why := _not_read(self.public / h, inside)) is not None}

    @cached_property
    def _names(self) -> tuple[str, ...]:
        return tuple(p.relative_to(self.public).as_posix() for p in sorted(self.public.rglob("*.h")))

    def is_extra(self, header: str) -> bool:
        """True for what an installed layout carries that is not a public Xen header."""
        return self.kind == "installed" and any(
            header == e or (e.endswith("/") and header.startswith(e)) for e in INSTALLED_EXTRAS)

    def read(self, header: str) -> str:
        """A header's text; an unreadable or non-UTF-8 file is unusable input."""
        path = self.public / header
        try:
            return path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as e:
            line = path.read_bytes()[: e.start].count(b"\n") + 1
            raise UsageError(f"{self.finding_path(header)}:{line}: not UTF-8 text") from None
        except OSError as e:
            raise UsageError(f"{self.finding_path(header)}: cannot read: {e.strerror}") from None

    @cached_property
    def fingerprint(self) -> str:
        """A hash of every public header's content: the cache key of a tree."""
        h = hashlib.sha256()
        for name in self.headers:
            h.update(name.encode() + b"\0" + self.read(name).encode() + b"\0")
        for name, kind in self.irregular.items():
            h.update(name.encode() + b"\1" + kind.encode() + b"\0")
        return h.hexdigest()

    @cached_property
    def latest_interface_version(self) -> int:
        """``__XEN_LATEST_INTERFACE_VERSION__`` from xen-compat.h."""
        text = self.read("xen-compat.h")
        m = re.search(r"^#define\s+__XEN_LATEST_INTERFACE_VERSION__\s+(0x[0-9a-fA-F]+|\d+)",
                      text, re.M)
        if not m:
            raise UsageError(f"{self.finding_path('xen-compat.h')}: "
                             "no __XEN_LATEST_INTERFACE_VERSION__ definition")
        return int(m.group(1), 0)


def _not_read(path: Path, inside: str) -> str | None:
    """Why the file at ``path`` is not read as a header, or None when it is."""
    real = os.path.realpath(path)
    if not real.startswith(inside):
        # judged by where it leads, never opened: it may be a device or a FIFO too
        return f"a symlink to {real}, outside the public headers (not read)"
    try:
        mode = path.stat().st_mode
    except OSError as e:
        if not path.is_symlink():
            return f"cannot be examined: {e.strerror} (not read)"
        what = "loops" if e.errno == errno.ELOOP else "does not exist"
        return f"a symlink to {os.readlink(path)}, which {what} (not read)"
    if stat.S_ISREG(mode):
        return None
    kind = next((k for test, k in _KINDS if test(mode)), "not a regular file")
    return f"{kind}, not a regular file (not read)"


def _classify(path: Path) -> XenTree | None:
    if (path / PUBLIC / "xen.h").is_file():
        return XenTree("checkout", path, path / PUBLIC, PUBLIC.as_posix() + "/")
    if (path / "xen.h").is_file() and (path / "xen-compat.h").is_file():
        if path.parts[-3:] == ("xen", "include", "public"):
            root = path.parents[2]
            return XenTree("checkout", root, root / PUBLIC, PUBLIC.as_posix() + "/")
        installed = any((path / e.rstrip("/")).exists() for e in INSTALLED_EXTRAS)
        kind: Literal["public", "installed"] = "installed" if installed else "public"
        return XenTree(kind, path, path, "")
    return None


def open_tree(path: str | os.PathLike[str]) -> XenTree:
    """The tree at an explicit path, or a one-line :class:`UsageError`."""
    p = Path(path)
    if not p.exists():
        raise UsageError(f"{p}: no such directory")
    if not p.is_dir():
        raise UsageError(f"{p}: not a directory")
    tree = _classify(p.resolve())
    if tree is None:
        raise UsageError(f"{p}: not a Xen tree (no xen/include/public/xen.h, "
                         "and not a public headers directory with xen.h and xen-compat.h)")
    return tree


def project_headers_dir() -> Path | None:
    """The project's ``headers/`` directory, found from the working directory or the package."""
    here = Path(__file__).resolve()
    for base in (Path.cwd(), *Path.cwd().parents, *here.parents):
        if (base / "headers" / DEFAULT_TREE).is_dir() or (base / "scripts/provision").is_file():
            return base / "headers"
    return None


def find_tree(explicit: str | os.PathLike[str] | None = None) -> XenTree:
    """Discover the tree to check (see the module docstring for the order)."""
    if explicit:
        return open_tree(explicit)
    env = os.environ.get("XEN_ROOT")
    if env:
        return open_tree(env)
    for base in (Path.cwd(), *Path.cwd().parents):
        if (base / PUBLIC / "xen.h").is_file():
            return open_tree(base)
    headers = project_headers_dir()
    if headers and (headers / DEFAULT_TREE).is_dir():
        return open_tree(headers / DEFAULT_TREE)
    raise UsageError("no Xen tree found: pass --xen-root DIR (or set XEN_ROOT), "
                     "run inside a Xen checkout, or run scripts/provision")
