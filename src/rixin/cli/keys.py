"""`rixin keys create|list|revoke`: the server's API keys (stored hashed; a new key is shown once)."""

from __future__ import annotations

import argparse
import time

from rixin.store import ApiKey, open_store


def _when(stamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp)) if stamp is not None else "-"


def run_keys(args: argparse.Namespace) -> int:
    store = open_store(args.db)
    try:
        if args.keys_command == "create":
            key, secret = store.create_key(args.name)
            print(f"created key {key.id} ({key.name!r}) in {store.url}")
            print("the key is shown only now; store it safely:")
            print(secret)
        elif args.keys_command == "list":
            print_keys(store.list_keys())
        else:
            key = store.revoke_key(args.key)
            print(f"revoked key {key.id} ({key.name!r}, {key.prefix}…)")
    finally:
        store.close()
    return 0


def print_keys(keys: list[ApiKey]) -> None:
    if not keys:
        print("no keys (create one with `rixin keys create NAME`)")
        return
    rows = [("ID", "NAME", "PREFIX", "CREATED", "REVOKED")]
    rows += [(k.id, k.name, k.prefix + "…", _when(k.created_at), _when(k.revoked_at)) for k in keys]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
