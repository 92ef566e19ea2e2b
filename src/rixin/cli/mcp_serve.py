"""`rixin mcp-serve`: rixin's code interpreter (sandboxed) as an MCP server, over stdio or `--http PORT`.

One sandbox session serves the whole server process (variables persist between calls), started on the first
call. Over stdio nothing but the protocol may reach stdout, so messages go to stderr.
"""

from __future__ import annotations

import argparse
import sys

from rixin.plugins.mcp_server import mcp_server_for, serve_http, serve_stdio
from rixin.sandbox import Limits, Sandbox, open_sandbox
from rixin.tools.code_interpreter import CodeInterpreter


def run_mcp_serve(args: argparse.Namespace) -> int:
    def open_session() -> Sandbox:
        limits = Limits(timeout_s=args.timeout, memory_mb=args.memory)
        kind = "gateway" if args.gateway else "local"
        return open_sandbox(kind, limits=limits, gateway_url=args.gateway, unsafe=args.unsafe_no_sandbox)

    interpreter = CodeInterpreter(open_session)
    server = mcp_server_for([interpreter.tool], name="rixin")
    try:
        if args.http:
            print(f"rixin MCP server on http://{args.host}:{args.http}/mcp", file=sys.stderr, flush=True)
            serve_http(server, args.host, args.http)
        else:
            serve_stdio(server)
    finally:
        interpreter.close()
    return 0
