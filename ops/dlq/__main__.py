"""`python -m ops.dlq list|show|redrive`: dead-lettered events, after a fix.

  list     every dead letter (position, status, failure time, consumer, original position,
           ce_id, reason); `--json` for scripts
  show     one or more dead letters in full: headers and payload, free text masked
           (`--unmasked` to see what the buyer typed: it may hold personal data)
  redrive  publish the selected dead letters back to their original topics, once each
  unpark   give outbox rows the relay parked (the broker refused them for good: too large,
           unknown topic, not authorised) back to their relay, once the cause is fixed

`list` shows parked outbox rows too (status `parked`, position `outbox:<service>:<id>`) when
the database is known.

Connection: KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL (the re-drive ledger and the inbox
claims live in each service's schema; see ops/dlq/ledger.py), or --bootstrap/--database-url.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any

from ops.dlq.ledger import opened
from ops.dlq.parked import ParkedRow, list_parked, unpark
from ops.dlq.records import DeadLetter, dlq_topics, read_all
from ops.dlq.redrive import Selection, redrive, statuses


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ops.dlq",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"))
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    sub = parser.add_subparsers(dest="command", required=True)

    def selectors(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--topic",
            action="append",
            default=[],
            help="topic or dead-letter topic (repeatable; default: all)",
        )
        p.add_argument(
            "--position",
            action="append",
            default=[],
            help="<dlq topic>:<partition>:<offset> (repeatable)",
        )
        p.add_argument("--ce-id", action="append", default=[], help="event id (repeatable)")
        p.add_argument("--reason-contains", help="only dead letters whose reason contains this")

    ls = sub.add_parser("list", help="list dead letters")
    selectors(ls)
    ls.add_argument("--json", action="store_true", help="one JSON object per line")
    show = sub.add_parser("show", help="show dead letters in full")
    selectors(show)
    show.add_argument("--unmasked", action="store_true", help="do not mask personal data")
    rd = sub.add_parser("redrive", help="publish dead letters back to their topics")
    selectors(rd)
    rd.add_argument("--all", action="store_true", help="allow re-driving without a selector")
    rd.add_argument("--dry-run", action="store_true", help="only say what would be re-driven")
    up = sub.add_parser("unpark", help="give parked outbox rows back to their relay")
    up.add_argument("--id", type=int, action="append", default=[], help="row id (repeatable)")
    up.add_argument("--reason-contains", help="only rows whose reason contains this")
    up.add_argument("--all", action="store_true", help="allow unparking without a selector")
    up.add_argument("--dry-run", action="store_true", help="only say what would be unparked")
    for p in (ls, up):
        p.add_argument(
            "--service",
            action="append",
            default=[],
            help="service whose outbox to look at (repeatable; default: all four)",
        )
    return parser


async def _parked(args: argparse.Namespace) -> list[ParkedRow]:
    if not args.database_url:
        return []
    rows = await list_parked(args.database_url, args.service, args.reason_contains)
    topics = set(args.topic) if getattr(args, "topic", None) else None
    if topics is not None:
        rows = [r for r in rows if r.topic in topics or r.topic.removesuffix(".dlq") in topics]
    return rows


async def _unpark(args: argparse.Namespace) -> int:
    if not args.database_url:
        print("DATABASE_URL is not set (or pass --database-url)", file=sys.stderr)
        return 2
    if not (args.all or args.id or args.reason_contains):
        print("say which rows to unpark (--id, --reason-contains) or pass --all", file=sys.stderr)
        return 2
    rows = await _parked(args)
    if args.id:
        rows = [r for r in rows if r.id in set(args.id)]
    for r in rows:
        print(f"{'would unpark' if args.dry_run else 'unparked':<13} {r.position} -> {r.topic}")
    done = 0 if args.dry_run else await unpark(args.database_url, rows)
    print(f"{done} unparked")
    return 0


def _selection(args: argparse.Namespace) -> Selection:
    return Selection(
        positions=frozenset(args.position),
        ce_ids=frozenset(args.ce_id),
        reason_contains=args.reason_contains,
    )


async def _letters(args: argparse.Namespace) -> list[DeadLetter]:
    selection = _selection(args)
    return [
        d for d in await read_all(args.bootstrap, dlq_topics(args.topic)) if selection.matches(d)
    ]


async def _statuses(args: argparse.Namespace, letters: list[DeadLetter]) -> dict[str, str]:
    if not args.database_url:
        return await statuses(letters, None)
    async with opened(args.database_url) as ledger:
        return await statuses(letters, ledger)


async def run(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "unpark":
        return await _unpark(args)
    if not args.bootstrap:
        print("KAFKA_BOOTSTRAP_SERVERS is not set (or pass --bootstrap)", file=sys.stderr)
        return 2
    if args.command == "list":
        letters = await _letters(args)
        status = await _statuses(args, letters)
        for d in letters:
            row = d.summary(status[d.position])
            print(json.dumps(row, ensure_ascii=False) if args.json else _line(row))
        parked = [] if args.position or args.ce_id else await _parked(args)
        for p in parked:
            row = p.summary()
            print(json.dumps(row, ensure_ascii=False) if args.json else _line(row))
        if not args.json:
            print(f"{len(letters)} dead letter(s), {len(parked)} parked outbox row(s)")
        return 0
    if args.command == "show":
        letters = await _letters(args)
        if not letters:
            print("no dead letter matches", file=sys.stderr)
            return 1
        status = await _statuses(args, letters)
        for d in letters:
            detail = d.detail(status[d.position], unmasked=args.unmasked)
            print(json.dumps(detail, ensure_ascii=False, indent=2))
        return 0
    selection = _selection(args)
    if not (
        args.all
        or args.topic
        or selection.positions
        or selection.ce_ids
        or selection.reason_contains
    ):
        print(
            "say what to re-drive (--topic, --position, --ce-id, --reason-contains) or pass --all",
            file=sys.stderr,
        )
        return 2
    if not args.database_url:
        print("DATABASE_URL is not set (or pass --database-url)", file=sys.stderr)
        return 2
    outcomes = await redrive(
        args.bootstrap,
        args.database_url,
        dlq_topics(args.topic),
        selection,
        dry_run=args.dry_run,
    )
    for o in outcomes:
        print(
            f"{o.action:<18} {o.letter.position} -> {o.letter.original_topic} "
            f"ce_id={o.letter.ce_id}"
        )
    done = sum(o.action == "redriven" for o in outcomes)
    print(f"{done} re-driven, {len(outcomes) - done} not")
    return 0


def _line(row: dict[str, Any]) -> str:
    reason = (row["reason"] or "")[:100]
    return (
        f"{row['position']:<40} {row['status']:<9} {row['failed_at'] or '-':<33} "
        f"{row['consumer'] or '-':<17} {row['original']:<36} {row['ce_id'] or '-':<37} "
        f"{reason}"
    )


def main() -> None:
    sys.exit(asyncio.run(run()))


if __name__ == "__main__":
    main()
