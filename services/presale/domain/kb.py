"""A shop's knowledge base: what the bot may say about products, shipping, promotions, invoices.

Pure pydantic models. A KB is one document per shop; every change stores a new version of the
whole document (see `services.presale.store.kb`). Validation errors name the field path,
e.g. `products[1].skus[3].size: size 'XXL' is not in the size chart (S, M, L, XL)`.
Money is integer fen; times are timezone-aware.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from services.presale.domain.nlu import DEFAULT_AUTO_REPLY_THRESHOLD
from shared.contracts.base import AwareDatetime
from shared.contracts.emitted import Intent

Fen = int


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, coerce_numbers_to_str=True
    )


class SizeRow(_Model):
    """Who one size fits: height in cm and weight in jin (斤), as Chinese size charts state it."""

    size: str = Field(min_length=1, max_length=10)
    height_cm: tuple[int, int] = Field(description="inclusive range [min, max]")
    weight_jin: tuple[int, int] = Field(description="inclusive range [min, max], 1 斤 = 0.5 kg")
    bust_cm: int | None = Field(None, gt=0)
    waist_cm: int | None = Field(None, gt=0)
    length_cm: int | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _ranges(self) -> Self:
        for name in ("height_cm", "weight_jin"):
            lo, hi = getattr(self, name)
            if lo <= 0 or hi < lo:
                raise ValueError(f"{name} must be a range [min, max] with 0 < min <= max")
        return self


class Sku(_Model):
    sku_id: str = Field(min_length=1)
    size: str | None = None
    colour: str | None = None
    price: Fen = Field(ge=0, description="fen")
    stock: int = Field(ge=0)


class Product(_Model):
    item_id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    kind: str = Field(min_length=1, description="what buyers call it: 连衣裙, T恤 …")
    category: str = "apparel"
    material: str = Field(min_length=1)
    price: Fen = Field(ge=0, description="fen")
    colours: list[str] = Field(default_factory=list)
    fit: str = Field("", description="版型: 偏大/偏小/修身 …")
    specs: dict[str, str] = Field(
        default_factory=dict,
        description="answers by topic: 面料, 起球, 透, 缩水, 色差, 弹力, 厚薄, 掉色, 版型",
    )
    care: str = Field("", description="洗涤与保养")
    usage_notes: list[str] = Field(default_factory=list, description="穿着/使用注意事项")
    size_chart: list[SizeRow] = Field(default_factory=list)
    skus: list[Sku] = Field(default_factory=list)
    restock_note: str | None = Field(None, description="said when a SKU is sold out")
    tags: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        sizes = [r.size for r in self.size_chart]
        _unique(sizes, "size_chart sizes")
        _unique([s.sku_id for s in self.skus], "sku_id")
        _unique(self.colours, "colours")
        for i, sku in enumerate(self.skus):
            if sku.size is not None and sizes and sku.size not in sizes:
                raise ValueError(
                    f"skus[{i}].size: size {sku.size!r} is not in the size chart "
                    f"({', '.join(sizes)})"
                )
            if sku.colour is not None and self.colours and sku.colour not in self.colours:
                raise ValueError(
                    f"skus[{i}].colour: colour {sku.colour!r} is not one of the product's "
                    f"colours ({', '.join(self.colours)})"
                )
        return self

    def size_row(self, size: str) -> SizeRow | None:
        return next((r for r in self.size_chart if r.size == size), None)


class Faq(_Model):
    """A shop-written answer, chosen when the intent matches and any keyword occurs."""

    faq_id: str = Field(min_length=1)
    intent: Intent | None = Field(None, description="only for this intent; None = any intent")
    keywords: list[str] = Field(min_length=1)
    answer: str = Field(min_length=1)
    item_id: str | None = Field(None, description="only for this product")
    match: Literal["intent", "keywords"] = Field(
        "intent",
        description="intent: chosen for its intent's questions (the default); keywords: also"
        " answers when a keyword occurs and the classifier is unsure or has no answer (entries"
        " drafted from buyers' own questions, whose keywords occur in no other question)",
    )


class ShippingPolicy(_Model):
    default_courier: str = Field(min_length=1)
    couriers: list[str] = Field(default_factory=list, description="couriers the shop can use")
    courier_upgrade: str | None = Field(None, description="e.g. 顺丰 on request, with its fee")
    upgrade_fee: Fen | None = Field(None, ge=0)
    ship_within_hours: int = Field(gt=0, le=24 * 30)
    same_day_cutoff: str | None = Field(None, pattern=r"^\d{2}:\d{2}$")
    free_shipping_threshold: Fen = Field(
        0, ge=0, description="order total (fen) from which shipping is free; 0 = always free"
    )
    excluded_regions: list[str] = Field(default_factory=list, description="never free")
    remote_fee: Fen | None = Field(None, ge=0, description="shipping fee to excluded regions")
    standard_fee: Fen | None = Field(None, ge=0, description="below the threshold")
    ship_from: str = ""
    transit_note: str = ""

    @model_validator(mode="after")
    def _courier_known(self) -> Self:
        if self.couriers and self.default_courier not in self.couriers:
            raise ValueError(
                f"default_courier {self.default_courier!r} is not in couriers "
                f"({', '.join(self.couriers)})"
            )
        return self


class Promotion(_Model):
    code: str = Field(min_length=1)
    title: str = Field(min_length=1)
    rule: str = Field(min_length=1, description="how it works, in the buyer's words")
    kind: Literal["full_reduction", "coupon", "discount", "gift"] = "full_reduction"
    threshold: Fen = Field(0, ge=0)
    discount: Fen = Field(0, ge=0)
    starts_at: AwareDatetime
    ends_at: AwareDatetime

    @model_validator(mode="after")
    def _period(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self

    def active_at(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at


class InvoicePolicy(_Model):
    supported: bool = True
    kinds: list[str] = Field(default_factory=lambda: ["电子普通发票"])
    special_vat: bool = Field(False, description="增值税专用发票")
    how: str = ""
    when: str = ""


class ReplyTone(_Model):
    """How the shop talks: 亲 and a soft particle, or plain and formal."""

    style: Literal["warm", "formal"] = "warm"
    address: str = Field("亲", description="how the bot addresses the buyer")
    signature: str = Field("", description="appended to answers, e.g. 〔小园子〕")
    greeting: str = "您好！欢迎光临本店，请问有什么可以帮您的呢？"
    closing: str = "不客气，有问题随时找我哦～"


class KnowledgeBase(_Model):
    shop_id: str = Field(min_length=1, max_length=100)
    shop_name: str = ""
    tone: ReplyTone = Field(default_factory=ReplyTone)
    auto_reply_threshold: float = Field(
        DEFAULT_AUTO_REPLY_THRESHOLD,
        ge=0,
        le=1,
        description="minimum classifier confidence for an automatic answer (default: the NLU"
        " benchmark's operating point, where ≥ 0.97 of auto-answered messages have the right"
        " intent)",
    )
    products: list[Product] = Field(default_factory=list)
    faqs: list[Faq] = Field(default_factory=list)
    shipping: ShippingPolicy | None = None
    promotions: list[Promotion] = Field(default_factory=list)
    invoice: InvoicePolicy | None = None

    @model_validator(mode="after")
    def _unique_ids(self) -> Self:
        _unique([p.item_id for p in self.products], "products item_id")
        _unique([f.faq_id for f in self.faqs], "faqs faq_id")
        _unique([p.code for p in self.promotions], "promotions code")
        ids = {p.item_id for p in self.products}
        for i, faq in enumerate(self.faqs):
            if faq.item_id is not None and faq.item_id not in ids:
                raise ValueError(f"faqs[{i}].item_id: no product {faq.item_id!r}")
        return self

    def product(self, item_id: str | None) -> Product | None:
        if item_id is None:
            return None
        return next((p for p in self.products if p.item_id == item_id), None)

    def active_promotions(self, now: datetime) -> list[Promotion]:
        return [p for p in self.promotions if p.active_at(now)]


def _unique(values: Iterable[str], what: str) -> None:
    seen: set[str] = set()
    dupes = sorted({v for v in values if v in seen or seen.add(v)})  # type: ignore[func-returns-value]
    if dupes:
        raise ValueError(f"duplicate {what}: {', '.join(dupes)}")


def describe_errors(exc: ValidationError) -> list[str]:
    """One readable line per problem: `products[1].skus[0].size: …`."""
    lines = []
    for err in exc.errors(include_url=False):
        path = ""
        for part in err["loc"]:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        msg = err["msg"].removeprefix("Value error, ")
        lines.append(f"{path or '(document)'}: {msg}")
    return lines
