"""YAML without aliases: a document is read only if it expands to no more than it says.

`yaml.safe_load` builds a "billion laughs" document (31 KiB of nested anchors and aliases) as
shared references in milliseconds; what explodes is everything after it that walks the data —
validation, JSON encoding — into hundreds of MiB. xiaoer's documents (knowledge bases, refund
policies) never need aliases, so one is refused at the first alias event, before anything is
built. libyaml's C parser is used when available: documents up to the HTTP body limit load in
milliseconds, on the event loop.
"""

from __future__ import annotations

from typing import Any

import yaml

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class AliasRefused(yaml.YAMLError):
    """The document uses an anchor/alias (`&a` … `*a`)."""


def load(text: str | bytes) -> Any:
    """`yaml.safe_load`, refusing aliases (AliasRefused, a yaml.YAMLError)."""
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            line = event.start_mark.line + 1 if event.start_mark else "?"
            raise AliasRefused(f"line {line}: YAML aliases (*{event.anchor}) are not accepted")
    return yaml.load(text, Loader=_Loader)
