"""`python -m field_api.cli`: the `herdwatch` command without the console script."""

import sys

from field_api.cli import main

sys.exit(main())
