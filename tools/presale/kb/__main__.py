"""`python -m tools.presale.kb`: validate, load and inspect shop knowledge bases.

    python -m tools.presale.kb validate services/presale/kb/shop-demo.yaml
    python -m tools.presale.kb load services/presale/kb/shop-demo.yaml --shop shop-demo
    python -m tools.presale.kb show --shop shop-demo [--version 3]
    python -m tools.presale.kb versions --shop shop-demo
    python -m tools.presale.kb suggestions list --shop shop-demo [--status all]
    python -m tools.presale.kb suggestions refresh --shop shop-demo
    python -m tools.presale.kb suggestions accept ID --shop shop-demo [--answer TEXT]
    python -m tools.presale.kb suggestions reject ID --shop shop-demo

`load`, `show`, `versions` and `suggestions` use DATABASE_URL (the presale schema must be
migrated).
Exit codes: 0 ok, 1 invalid document (or an edited answer the KB refuses), 2 usage or
database error, 3 no such suggestion or already decided.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncConnection

from services.presale import insight, nlu_loader
from services.presale.insight import SuggestConfig
from services.presale.kb.loading import KbInvalid, dump, read_file
from services.presale.settings import PresaleSettings
from services.presale.store import kb as kb_store
from services.presale.store import suggestions as suggestion_store
from shared.clock import clock_from_settings
from shared.db import create_engine


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.presale.kb", description=__doc__,
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
    p = sub.add_parser(
        "suggestions", help="review KB suggestions drafted from unanswered questions"
    )
    p.add_argument("action", choices=("list", "refresh", "accept", "reject"))
    p.add_argument("id", nargs="?", help="the suggestion (accept, reject)")
    p.add_argument("--shop", required=True)
    p.add_argument(
        "--status", default="pending", choices=("pending", "accepted", "rejected", "all")
    )
    p.add_argument("--answer", help="accept: the answer as edited")
    p.add_argument("--keyword", action="append", help="accept: replace the keywords (repeat)")
    p.add_argument("--author", default="cli")
    args = parser.parse_args(argv)
    if args.command == "suggestions" and args.action in ("accept", "reject") and not args.id:
        parser.error(f"suggestions {args.action} needs the suggestion id")
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
    nlu_loader.install()  # `suggestions refresh` replays the bot's decisions on the questions
    engine = create_engine(settings.database_url, settings.db_schema, 2)
    try:
        async with engine.begin() as conn:
            if args.command == "load":
                kb = read_file(args.file, args.shop)
                version = await kb_store.save(
                    conn, kb, change=f"load {args.file.name}", author=args.author,
                    only_if_absent=args.if_absent,
                )  # fmt: skip
                if version is None:
                    print(f"{kb.shop_id} already has a KB; nothing loaded (--if-absent)")
                else:
                    print(f"loaded {args.file} as {kb.shop_id} KB version {version}")
                return 0
            if args.command == "show":
                found = await kb_store.get(conn, args.shop, args.version)
                if found is None:
                    print(f"no KB for {args.shop}", file=sys.stderr)
                    return 2
                print(json.dumps({"version": found.version, "kb": dump(found.kb)},
                                 ensure_ascii=False, indent=2))  # fmt: skip
                return 0
            if args.command == "suggestions":
                return await suggestions_command(conn, args)
            for v in await kb_store.history(conn, args.shop):
                print(f"{v.version}\t{v.created_at.isoformat()}\t{v.author}\t{v.change}")
            return 0
    except OSError as exc:
        print(f"database unreachable: {exc}", file=sys.stderr)
        return 2
    finally:
        await engine.dispose()


async def suggestions_command(conn: AsyncConnection, args: argparse.Namespace) -> int:
    settings = PresaleSettings()
    now = clock_from_settings(settings.clock_speed, settings.clock_epoch).now()  # business time
    try:
        if args.action == "refresh":
            n = await insight.refresh(conn, args.shop, now, SuggestConfig.of(settings))
            print(f"{n} pending suggestions for {args.shop}")
        elif args.action == "accept":
            decided, version = await insight.accept(conn, args.shop, args.id, args.author, now,
                                                    args.answer, args.keyword)  # fmt: skip
            print(f"accepted {decided.suggestion_id}: {args.shop} KB version {version}")
        elif args.action == "reject":
            decided = await insight.reject(conn, args.shop, args.id, args.author, now)
            print(f"rejected {decided.suggestion_id}: it will not be suggested again")
        else:
            status = None if args.status == "all" else args.status
            for s in await suggestion_store.suggestions(conn, args.shop, status):
                d = s.draft
                asked = " / ".join(text for text, _ in d.examples[:3])
                print(f"{s.rank}\t{s.suggestion_id}\t{s.status}\t{d.buyers} buyers, "
                      f"{d.handoffs} hand-offs\t{d.item_id or '*'}\t{asked}\t→ {d.answer}"
                      f"\t[{', '.join(d.keywords)}]")  # fmt: skip
    except (insight.NotFound, insight.AlreadyDecided) as exc:
        print(str(exc), file=sys.stderr)
        return 3
    except insight.InvalidEntry as exc:
        print(f"the KB would be invalid: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
