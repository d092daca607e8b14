"""xenabi: the Xen public ABI, computed for every target, checked against itself and its docs."""

__version__ = "0.1.0"
