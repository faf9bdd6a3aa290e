"""The demo shop's catalogue and policies, as plain data.

The presale knowledge base is built from this module, so keep it importable without side effects
and keep every fact a buyer may ask about (sizes, materials, prices, shipping, promotions) here.
Prices are integer fen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SHOP_ID = "shop-demo"
SHOP_NAME = "小园子原创女装"


@dataclass(frozen=True)
class SizeRange:
    """Who a size fits: height in cm, weight in jin (斤, 500 g), as Chinese size charts state it."""

    size: str
    height_cm: tuple[int, int]
    weight_jin: tuple[int, int]
    bust_cm: int | None = None
    waist_cm: int | None = None
    length_cm: int | None = None


@dataclass(frozen=True)
class Sku:
    sku_id: str
    size: str
    colour: str
    price: int
    stock: int


@dataclass(frozen=True)
class Item:
    item_id: str
    title: str
    kind: str
    category: str
    material: str
    price: int
    colours: tuple[str, ...]
    sizes: tuple[SizeRange, ...]
    fit: str
    care: str
    skus: tuple[Sku, ...] = field(default=())
    tags: tuple[str, ...] = field(default=())

    def sku(self, size: str, colour: str) -> Sku:
        for s in self.skus:
            if s.size == size and s.colour == colour:
                return s
        raise KeyError(f"{self.item_id} has no SKU {size}/{colour}")

    def size_for(self, height_cm: int, weight_jin: int) -> str | None:
        """The smallest size whose ranges cover the buyer (weight decides when they disagree)."""
        for r in self.sizes:
            if r.weight_jin[0] <= weight_jin <= r.weight_jin[1]:
                return r.size
        return None


def _sizes(*rows: tuple[str, int, int, int, int, int | None]) -> tuple[SizeRange, ...]:
    return tuple(SizeRange(s, (h1, h2), (w1, w2), bust) for s, h1, h2, w1, w2, bust in rows)


_WOMEN = _sizes(
    ("S", 150, 158, 80, 95, 84),
    ("M", 155, 163, 95, 108, 88),
    ("L", 160, 168, 108, 122, 92),
    ("XL", 165, 172, 122, 138, 96),
)
_UNISEX = _sizes(
    ("S", 150, 160, 85, 100, 100),
    ("M", 158, 168, 100, 120, 106),
    ("L", 165, 175, 120, 140, 112),
    ("XL", 170, 180, 140, 160, 118),
    ("XXL", 175, 188, 160, 185, 124),
)
_PANTS = _sizes(
    ("S", 150, 158, 80, 95, None),
    ("M", 155, 165, 95, 110, None),
    ("L", 160, 170, 110, 125, None),
    ("XL", 165, 175, 125, 140, None),
)


def _item(
    n: int,
    title: str,
    kind: str,
    material: str,
    price: int,
    colours: tuple[str, ...],
    sizes: tuple[SizeRange, ...],
    fit: str,
    care: str,
    tags: tuple[str, ...] = (),
) -> Item:
    item_id = f"6{n:02d}81234{n:03d}"
    skus = []
    for ci, colour in enumerate(colours):
        for si, size in enumerate(sizes):
            stock = (n * 7 + ci * 13 + si * 5) % 40  # deterministic, some SKUs sold out
            skus.append(Sku(f"5{n:02d}{ci}{si}0098765{n:02d}", size.size, colour, price, stock))
    return Item(item_id, title, kind, "apparel", material, price, colours, sizes, fit, care,
                tuple(skus), tags)  # fmt: skip


ITEMS: tuple[Item, ...] = (
    _item(1, "法式碎花雪纺连衣裙女夏收腰显瘦中长款", "连衣裙", "聚酯纤维100%(雪纺),内衬棉",
          25900, ("碎花蓝", "碎花粉", "杏色"), _WOMEN, "收腰版型,偏修身", "手洗,不可暴晒"),
    _item(2, "纯棉短袖T恤女宽松百搭打底上衣", "T恤", "棉100%(新疆长绒棉)", 7900,
          ("白色", "黑色", "雾霾蓝"), _UNISEX, "宽松落肩版型,偏大一码", "可机洗,反面洗涤",
          ("爆款",)),
    _item(3, "高腰直筒牛仔裤女显瘦阔腿拖地裤", "牛仔裤", "棉98% 氨纶2%", 15900,
          ("浅蓝", "深蓝", "黑色"), _PANTS, "高腰直筒,微弹", "首次洗涤轻微掉色,单独洗"),
    _item(4, "加绒连帽卫衣女秋冬款oversize外套", "卫衣", "棉80% 聚酯纤维20%,内里加绒",
          18900, ("燕麦色", "灰色", "藏青"), _UNISEX, "oversize 宽松版", "可机洗,不可烘干",
          ("新品",)),
    _item(5, "真丝衬衫女长袖通勤垂感上衣", "衬衫", "桑蚕丝93% 氨纶7%", 39900,
          ("香槟色", "白色"), _WOMEN, "常规版型,垂感好", "专业干洗或冷水手洗"),
    _item(6, "A字半身裙女高腰百褶中长裙", "半身裙", "聚酯纤维100%", 13900,
          ("黑色", "卡其"), _PANTS, "高腰A字,松紧腰", "可机洗,低温熨烫"),
    _item(7, "羊毛针织开衫女秋季V领外搭", "针织开衫", "羊毛30% 粘胶40% 锦纶30%", 16900,
          ("米白", "雾粉", "墨绿"), _WOMEN, "短款,略宽松", "平铺晾干,勿拧"),
    _item(8, "冰丝阔腿裤女夏季垂感休闲裤", "阔腿裤", "粘胶纤维70% 聚酯纤维30%(冰丝)", 14900,
          ("黑色", "白色", "咖色"), _PANTS, "高腰阔腿,垂感", "冷水手洗"),
)  # fmt: skip

BY_ID: dict[str, Item] = {i.item_id: i for i in ITEMS}


def item(item_id: str) -> Item:
    return BY_ID[item_id]


@dataclass(frozen=True)
class Promotion:
    code: str
    description: str
    threshold: int
    discount: int


PROMOTIONS: tuple[Promotion, ...] = (
    Promotion("FULL199-20", "全店满199减20,自动抵扣", 19900, 2000),
    Promotion("COUPON10", "店铺新人券:满99减10,首页领取", 9900, 1000),
)

COURIERS: tuple[str, ...] = ("中通快递", "圆通速递", "韵达快递", "申通快递", "顺丰速运")
DEFAULT_COURIER = "中通快递"

SHIPPING_POLICY: dict[str, str | int] = {
    "ship_within_hours": 48,
    "default_courier": DEFAULT_COURIER,
    "free_shipping": "全国包邮(新疆、西藏、青海、内蒙古、港澳台除外)",
    "remote_fee": 1500,
    "sf_upgrade_fee": 1200,
    "transit_days": "江浙沪次日达,其他地区2-4天",
    "warehouse": "浙江省杭州市余杭区",
}

AFTERSALE_POLICY: dict[str, str | int] = {
    "seven_day_return": "支持七天无理由退换,吊牌完好、未洗涤、不影响二次销售",
    "return_shipping": "质量问题我们承担运费;七天无理由退换由买家承担,已赠送运费险的可理赔",
    "refund_within_hours": 48,
    "invoice": "支持开具电子普通发票,确认收货后联系客服提供抬头和税号",
}

BUSINESS_HOURS: tuple[str, str] = ("09:00", "24:00")


def total_for(prices: list[int]) -> int:
    """Order total after the automatic 满199减20 (coupons are the buyer's own business)."""
    gross = sum(prices)
    best = max((p.discount for p in PROMOTIONS[:1] if gross >= p.threshold), default=0)
    return gross - best
