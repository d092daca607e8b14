"""The errors xenabi raises; each renders as one line that names the file and line."""

from __future__ import annotations

from xenabi.model import Coord


class XenAbiError(Exception):
    """Base of every error xenabi reports to a user."""


class UsageError(XenAbiError):
    """Unusable input: a missing path, a tree that is not a Xen tree, a bad option,
    an unreadable file. The CLI prints it on one line and exits 2."""


class HeaderError(XenAbiError):
    """A header of the tree cannot be read, parsed or evaluated.

    ``where`` is a :class:`~xenabi.model.Coord` relative to the public headers
    directory (the header is then reported as ``failed`` and the others are
    still read), or a text such as ``<unit>`` when no header line is to blame.
    """

    def __init__(self, where: Coord | str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.coord = where if isinstance(where, Coord) else None  #: the line to blame
        self.where = str(where)
        self.message = message  #: the error without its location

