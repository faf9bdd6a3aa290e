"""`python -m services.presale.kb`: validate, load and inspect shop knowledge bases.

    python -m services.presale.kb validate services/presale/kb/shop-demo.yaml
    python -m services.presale.kb load services/presale/kb/shop-demo.yaml --shop shop-demo
    python -m services.presale.kb show --shop shop-demo [--version 3]
    python -m services.presale.kb versions --shop shop-demo

`load`, `show` and `versions` use DATABASE_URL (the presale schema must be migrated).
Exit codes: 0 ok, 1 invalid document, 2 usage or database error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from services.presale.kb import repository
from services.presale.kb.loading import KbInvalid, dump, read_file
from services.presale.settings import PresaleSettings
from shared.db import create_engine


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.presale.kb", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("validate", help="check a YAML/JSON file without loading it")
    p.add_argument("file", type=Path)
    p.add_argument("--shop", help="the shop the file is for (fills or checks shop_id)")
    p = sub.add_parser("load", help="store a YAML/JSON file as the shop's next KB version")
    p.add_argument("file", type=Path)
    p.add_argument("--shop", help="the shop the file is for (fills or checks shop_id)")
    p.add_argument("--if-absent", action="store_true", help="only when the shop has no KB yet")
    p.add_argument("--author", default="cli")
    p = sub.add_parser("show", help="print a KB version as JSON")
    p.add_argument("--shop", required=True)
    p.add_argument("--version", type=int)
    p = sub.add_parser("versions", help="list a shop's KB versions")
    p.add_argument("--shop", required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "validate":
            kb = read_file(args.file, args.shop)
            print(f"ok: {kb.shop_id}: {len(kb.products)} products, {len(kb.faqs)} FAQs, "
                  f"{len(kb.promotions)} promotions")  # fmt: skip
            return 0
        return asyncio.run(_with_database(args))
    except KbInvalid as exc:
        print(f"{getattr(args, 'file', '')}: {exc}", file=sys.stderr)
        return 1


async def _with_database(args: argparse.Namespace) -> int:
    settings = PresaleSettings()
    engine = create_engine(settings.database_url, settings.db_schema, 2)
    try:
        async with engine.begin() as conn:
            if args.command == "load":
                kb = read_file(args.file, args.shop)
                version = await repository.save(
                    conn, kb, change=f"load {args.file.name}", author=args.author,
                    only_if_absent=args.if_absent,
                )  # fmt: skip
                if version is None:
                    print(f"{kb.shop_id} already has a KB; nothing loaded (--if-absent)")
                else:
                    print(f"loaded {args.file} as {kb.shop_id} KB version {version}")
                return 0
            if args.command == "show":
                found = await repository.get(conn, args.shop, args.version)
                if found is None:
                    print(f"no KB for {args.shop}", file=sys.stderr)
                    return 2
                print(json.dumps({"version": found.version, "kb": dump(found.kb)},
                                 ensure_ascii=False, indent=2))  # fmt: skip
                return 0
            for v in await repository.history(conn, args.shop):
                print(f"{v.version}\t{v.created_at.isoformat()}\t{v.author}\t{v.change}")
            return 0
    except OSError as exc:
        print(f"database unreachable: {exc}", file=sys.stderr)
        return 2
    finally:
        await engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
