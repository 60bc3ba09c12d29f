"""`python -m field_api.cli`: the `herdwatch` command without the console script."""

from field_api.cli import console

console()
