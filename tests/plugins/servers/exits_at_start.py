"""An MCP server that exits before it answers anything."""

import sys

print("cannot start: missing configuration file settings.toml", file=sys.stderr, flush=True)
sys.exit(1)
