"""Repository-local test settings (the Xen-facing options and fixtures live in
the plugin, src/xenabi/pytest_plugin.py)."""

import os

from hypothesis import settings

# The randomized differential tests against clang: in CI, print the blob that
# reproduces a failure (``@reproduce_failure``), and never fail on a slow
# example: clang's parse time, not ours, varies with the machine's load.
settings.register_profile("ci", print_blob=True, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "default")
