"""``python -m xenabi`` runs the CLI."""

import sys

from xenabi.cli import main

sys.exit(main())
