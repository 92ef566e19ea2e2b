"""`rixin serve`: the OpenAI-compatible server."""

from __future__ import annotations

import argparse

from rixin.server.settings import MIB, ServerSettings


def run_serve(args: argparse.Namespace) -> int:
    settings = ServerSettings(
        host=args.host,
        port=args.port,
        model=args.model,
        db=args.db,
        no_auth=args.no_auth,
        queue_size=args.queue_size,
        concurrency=args.concurrency,
        max_body_bytes=int(args.max_body_mb * MIB),
        max_file_bytes=int(args.max_file_mb * MIB),
        sandbox_gateway=args.sandbox_gateway,
        unsafe_no_sandbox=args.unsafe_no_sandbox,
    )
    settings.check()  # before loading the model: a refused setting fails fast
    from rixin.server import serve

    serve(settings)
    return 0
