"""Build the labelled buyer-message dataset: `train.jsonl` and the held-out `heldout.jsonl`.

    uv run python -m tools.presale.data.generate

Deterministic (fixed seeds). Training messages come from templates_train.py; held-out messages
from different templates (templates_heldout.py) plus hand-written natural messages
(natural_heldout.py), with heavier noise (typos, traditional characters, full-width digits,
emoji, particles). Every record: text, history, intent, secondary, entities (gold, where the
template fixes them), source (template id, so training can split calibration by template).
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from services.presale.domain.nlu.features import core_of
from services.presale.domain.nlu.normalize import SIMP_TO_TRAD, normalize, split_emoji
from services.presale.domain.nlu.stages import AUTO_ANSWERABLE
from tools.presale.data.fresh_written import FRESH
from tools.presale.data.fresh_written_2 import FRESH_2
from tools.presale.data.natural_heldout import NATURAL, NATURAL_CONTEXT, NATURAL_FRESH
from tools.presale.data.templates_broad import BROAD, BROAD_CONTEXT
from tools.presale.data.templates_heldout import HELDOUT, HELDOUT_CONTEXT
from tools.presale.data.templates_train import CONTEXT, TRAIN

DATA_DIR = Path(__file__).parent
TRAIN_PATH = DATA_DIR / "train.jsonl"
HELDOUT_PATH = DATA_DIR / "heldout.jsonl"

ITEMS = ["这件", "这款", "这个", "宝贝", "这条裙子", "这件衣服", "这双鞋", "这条裤子", "这件外套", "这件T恤",
         "链接里的", "这个杯子", "这个包", "这件卫衣", "这件羽绒服", "这个款", "这件毛衣", "这条牛仔裤"]  # fmt: skip
COLOURS = ["黑色", "白色", "红色", "蓝色", "灰色", "粉色", "卡其色", "米白色", "藏青色", "绿色", "黄色", "紫色",
           "杏色", "咖啡色", "黑的", "白的"]  # fmt: skip
SIZES = ["S", "M", "L", "XL", "XXL", "2XL", "3XL", "均码", "s", "m", "l", "xl"]
CITIES = ["北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "西安", "南京", "重庆", "哈尔滨", "乌鲁木齐",
          "拉萨", "长沙", "郑州", "沈阳", "昆明", "厦门", "海南", "呼和浩特"]  # fmt: skip
COURIERS = ["顺丰", "中通", "圆通", "韵达", "申通", "极兔", "邮政", "京东", "EMS", "德邦"]
COMPANIES = ["我们公司", "单位", "某某科技有限公司", "个人", "杭州某贸易公司"]
CN_DIGITS = "零一二三四五六七八九"
PREFIXES = [
    "亲",
    "亲亲",
    "你好",
    "您好",
    "老板",
    "请问",
    "掌柜的",
    "在吗",
    "hello",
    "问一下",
    "客服",
    "美女",
]
SUFFIXES = ["呢", "哦", "啊", "哈", "呀", "吖", "嘛", "~", "？", "?", "??", "！", "。", "...", "😊", "🙏", "😂",
            "🤔", "❤️", "👍", "😄", "～", "捏", "😅"]  # fmt: skip
TYPOS = [("吗", "嘛"), ("吗", "么"), ("什么", "啥"), ("什么", "神马"), ("怎么", "咋"), ("没有", "木有"),
         ("有没有", "有木有"), ("的", "滴"), ("可以", "可"), ("快递", "快第"), ("尺码", "尺吗"), ("优惠", "优慧"),
         ("发货", "发伙"), ("包邮", "包油"), ("谢谢", "3q"), ("知道", "造"), ("喜欢", "稀饭"), ("现在", "现再"),
         ("衣服", "衣福"), ("多少钱", "多钱"), ("这个", "介个"), ("在吗", "在马"), ("一下", "一哈")]  # fmt: skip
# Misspellings of the broader templates (templates_broad.py), on top of `noisy`'s.
BROAD_TYPOS = [("优惠券", "优惠卷"), ("发货", "发或"), ("快递", "快第"), ("什么", "啥"), ("怎么", "咋"),
               ("地址", "地扯"), ("取消", "取肖"), ("吗", "嘛"), ("吗", "么"), ("的", "滴"),
               ("呢", "捏"), ("一下", "一哈"), ("可以", "阔以"), ("充电", "冲电"), ("收件", "收货"),
               ("这个", "这各"), ("多久", "多就"), ("没有", "没"), ("在吗", "在嘛"),
               ("门牌号", "门牌"), ("耳机", "耳麦"), ("羽绒服", "羽绒衣")]  # fmt: skip
_ALT = re.compile(r"\[([^\[\]]*)\]")
_SLOT = re.compile(r"\{(\w+)\}")
AddressFree = {"acknowledgement", "other", "greeting", "human_agent", "complaint"}


def _cn_number(n: int) -> str:
    """165 → 一百六十五, 110 → 一百一十, 55 → 五十五."""
    if n < 10:
        return CN_DIGITS[n]
    if n < 20:
        return "十" + (CN_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return CN_DIGITS[n // 10] + "十" + (CN_DIGITS[n % 10] if n % 10 else "")
    hundreds, rest = divmod(n, 100)
    if rest == 0:
        return CN_DIGITS[hundreds] + "百"
    if rest < 10:
        return CN_DIGITS[hundreds] + "百零" + CN_DIGITS[rest]
    return (
        CN_DIGITS[hundreds]
        + "百"
        + CN_DIGITS[rest // 10]
        + "十"
        + (CN_DIGITS[rest % 10] if rest % 10 else "")
    )


def _height(rng: random.Random) -> tuple[str, int]:
    h = rng.randint(150, 188)
    cm = h - 100
    forms = [f"{h}", f"{h}cm", f"{h}厘米", f"{h}公分", f"身高{h}", f"1米{cm}", f"1.{cm}米", f"1.{cm}m",
             "一米" + "".join(CN_DIGITS[int(c)] for c in str(cm)), f"{h}CM"]  # fmt: skip
    if cm % 10 == 0:
        forms += [f"1米{cm // 10}", "一米" + CN_DIGITS[cm // 10]]
    return rng.choice(forms), h


def _weight(rng: random.Random) -> tuple[str, float]:
    jin = rng.randrange(86, 200, 2)
    kg = jin // 2
    forms = [(f"{jin}斤", jin / 2), (f"{_cn_number(jin)}斤", jin / 2), (f"{kg}kg", float(kg)),
             (f"{kg}公斤", float(kg)), (f"体重{jin}斤", jin / 2), (f"{kg}KG", float(kg)),
             (f"{jin}斤左右", jin / 2)]  # fmt: skip
    return rng.choice(forms)


def _quantity(rng: random.Random) -> str:
    return rng.choice(["2", "3", "两", "三", "5", "4", "十", "2"])


def _order_id(rng: random.Random) -> str:
    return str(rng.randint(10**17, 10**19 - 1))


_TITLES = [
    "新款显瘦连衣裙",
    "纯色宽松卫衣男",
    "304不锈钢保温杯",
    "百搭小白鞋",
    "加厚珊瑚绒睡衣",
    "复古帆布包",
]


def _link(rng: random.Random) -> str:
    """A pasted item link, bare or in the platform's share text (training only)."""
    code = "".join(
        rng.choice("abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(7)
    )
    num = rng.randint(10**11, 10**12 - 1)
    return rng.choice([
        f"https://item.taobao.com/item.htm?id={num}",
        f"https://detail.tmall.com/item.htm?id={num}&skuId={rng.randint(10**12, 10**13 - 1)}",
        f"https://m.tb.cn/h.{code}",
        f"【淘宝】https://m.tb.cn/h.{code}?tk={code[:4]} 「{rng.choice(_TITLES)}」点击链接直接打开",
        f"【天猫】「{rng.choice(_TITLES)}」https://m.tb.cn/h.{code} 或淘宝搜索直接打开",
        f"复制这条信息￥{code}￥后打开手淘",
    ])  # fmt: skip


def fill(template: str, rng: random.Random) -> tuple[str, dict[str, Any]]:
    """Expand `[a|b]` alternatives and `{slot}`s; return the text and the gold entities."""
    text = _ALT.sub(lambda m: rng.choice(m.group(1).split("|")), template)
    gold: dict[str, Any] = {}
    counts = Counter(_SLOT.findall(text))

    def slot(m: re.Match[str]) -> str:
        name = m.group(1)
        value: str
        if name == "h":
            value, gold["height_cm"] = _height(rng)
        elif name == "w":
            value, gold["weight_kg"] = _weight(rng)
        elif name in ("size", "size2"):
            value = rng.choice(SIZES)
            if counts["size"] + counts["size2"] == 1:
                canon = {"2XL": "XXL", "3XL": "XXXL"}.get(value.upper(), value.upper())
                gold["size"] = "均码" if value == "均码" else canon
        elif name == "colour":
            value = rng.choice(COLOURS)
            if counts["colour"] == 1:
                gold["colour"] = value if value.endswith("色") else value[0] + "色"
        elif name == "hn":
            gold["height_cm"] = rng.randint(150, 188)
            value = str(gold["height_cm"])
        elif name == "wn":
            jin = rng.randrange(86, 200, 2)
            gold["weight_kg"] = jin / 2
            value = str(jin)
        elif name == "oid":
            value = gold["order_id"] = _order_id(rng)
        elif name == "link":
            value = _link(rng)
        else:
            pools: dict[str, Callable[[], str]] = {
                "item": lambda: rng.choice(ITEMS),
                "city": lambda: rng.choice(CITIES),
                "courier": lambda: rng.choice(COURIERS),
                "company": lambda: rng.choice(COMPANIES),
                "n": lambda: _quantity(rng),
                "d": lambda: rng.choice(["2", "3", "5", "三", "两", "好几"]),
                "hrs": lambda: rng.choice(["24", "48", "72"]),
                "shoe": lambda: str(rng.randint(35, 44)),
            }
            value = pools[name]()
        return value

    return _SLOT.sub(slot, text), gold


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


def noisy(text: str, intent: str, rng: random.Random, level: float) -> str:
    """Add what real buyers add: address words, particles, emoji, typos, 繁體, 全角."""
    if rng.random() < 0.3 * level and intent not in AddressFree:
        text = rng.choice(PREFIXES) + rng.choice(["", " ", "，", ","]) + text
    if rng.random() < 0.45 * level:
        text += rng.choice(SUFFIXES)
    if rng.random() < 0.25 * level:
        for old, new in rng.sample(TYPOS, len(TYPOS)):
            if old in text:
                text = text.replace(old, new, 1)
                break
    if rng.random() < 0.12 * level:
        text = "".join(SIMP_TO_TRAD.get(c, c) for c in text)
    if rng.random() < 0.12 * level:
        text = _fullwidth(text)
    if rng.random() < 0.15 * level:
        text = text.replace(" ", "")
    return text


def _record(
    text: str, intent: str, source: str, gold: dict[str, Any], history: list[str] | None = None,
    secondary: list[str] | None = None,
) -> dict[str, Any]:  # fmt: skip
    return {"text": text, "history": history or [], "intent": intent, "secondary": secondary or [],
            "entities": gold, "source": source}  # fmt: skip


def _single(
    bank: dict[str, list[str]], per_intent: Callable[[str], int], rng: random.Random, level: float,
    tag: str,
) -> list[dict[str, Any]]:  # fmt: skip
    out = []
    for intent, templates in bank.items():
        for i in range(per_intent(intent)):
            k = i % len(templates)
            text, gold = fill(templates[k], rng)
            out.append(
                _record(noisy(text, intent, rng, level), intent, f"{tag}:{intent}:{k}", gold)
            )
    return out


def _context(
    patterns: list[tuple[str, str, str]], per: int, rng: random.Random, level: float, tag: str
) -> list[dict[str, Any]]:
    out = []
    for k, (intent, first, follow) in enumerate(patterns):
        for _ in range(per):
            prev, _gold = fill(first, rng)
            text, gold = fill(follow, rng)
            out.append(_record(noisy(text, "other", rng, level / 2), intent, f"{tag}:ctx:{k}", gold,
                               history=[noisy(prev, intent, rng, level)]))  # fmt: skip
    return out


def _multi(
    bank: dict[str, list[str]], n: int, rng: random.Random, level: float, tag: str
) -> list[dict[str, Any]]:
    """Two questions in one message: the first is the primary intent, the second secondary."""
    askable = [i for i in bank if i in AUTO_ANSWERABLE and i != "greeting"]
    others = ["logistics_status", "return_exchange", "urge_shipping", "refund"]
    out = []
    for _ in range(n):
        a, b = (
            rng.sample(askable, 2)
            if rng.random() < 0.8
            else (rng.choice(askable), rng.choice(others))
        )
        ka, kb = rng.randrange(len(bank[a])), rng.randrange(len(bank[b]))
        ta, ga = fill(bank[a][ka], rng)
        tb, _gb = fill(bank[b][kb], rng)
        sep = rng.choice(["，", "？", " ", "，还有", "，另外", "。顺便问下", "？然后"])
        text = noisy(ta + sep + tb, a, rng, level)
        out.append(_record(text, a, f"{tag}:multi:{a}:{ka}", ga, secondary=[b]))
    return out


def build() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rng = random.Random(20261128)
    train = _single(TRAIN, lambda i: 200 if i in AUTO_ANSWERABLE else 130, rng, 1.0, "train")
    train += _context(CONTEXT, 18, rng, 1.0, "train")
    train += _multi(TRAIN, 300, rng, 1.0, "train")
    # Elliptic follow-ups without history mean nothing on their own.
    for k, follow in enumerate(
        ["那{size}呢", "{colour}的呢", "那这个呢", "那{n}件呢", "那{city}呢"]
    ):
        for _ in range(6):
            text, gold = fill(follow, rng)
            train.append(_record(text, "other", f"train:ell:{k}", gold))

    train += _broad(random.Random(20261202))

    rng = random.Random(7331)
    heldout = _single(HELDOUT, lambda i: 44 if i in AUTO_ANSWERABLE else 16, rng, 1.6, "heldout")
    for intent, texts in NATURAL.items():
        heldout += [_record(t, intent, f"natural:{intent}", {}) for t in texts]
    heldout += [_record(t, i, "natural:ctx", {}, history=h) for i, h, t in NATURAL_CONTEXT]
    for intent, texts in NATURAL_FRESH.items():
        heldout += [_record(t, intent, f"fresh:{intent}", {}) for t in texts]
    heldout += _context(HELDOUT_CONTEXT, 6, rng, 1.6, "heldout")
    heldout += _multi(HELDOUT, 50, rng, 1.6, "heldout")

    held_texts = {(r["text"], tuple(r["history"])) for r in heldout}
    seen: set[tuple[str, tuple[str, ...]]] = set()
    deduped = []
    for r in train:
        key = (r["text"], tuple(r["history"]))
        if key not in held_texts and key not in seen and not _copies_fresh(r):
            seen.add(key)
            deduped.append(r)
    seen = set()
    held_deduped = []
    for r in heldout:
        key = (r["text"], tuple(r["history"]))
        if key not in seen:
            seen.add(key)
            held_deduped.append(r)
    return deduped, held_deduped


_FORMULAIC_MAX = 5


def _core(text: str) -> str:
    """What the model sees of a text: a training message with the same core as a message of
    a fresh evaluation set is dropped (see `_copies_fresh`), so those sets stay unseen."""
    return core_of(split_emoji(normalize(text))[0])


_FRESH_TEXTS = [text for _, text, _, _ in FRESH] + [row.text for row in FRESH_2]
_FRESH_EXACT = set(_FRESH_TEXTS)
_FRESH_CORES = {_core(text) for text in _FRESH_TEXTS}
# Formulaic short messages (好的, 在吗, 几天能到) are in any training set; a longer one in both
# sets would be a copy.
_FRESH_LONG_CORES = {c for c in _FRESH_CORES if len(c) > _FORMULAIC_MAX}


def _copies_fresh(record: dict[str, Any]) -> bool:
    """True for a training record that is a copy of a message of either fresh set
    (fresh_written.py, fresh_written_2.py): the exact text, or the same core when it is longer
    than a formula; the broader templates (written after set 2) may not share even a short
    core with them."""
    text = record["text"]
    core = _core(text)
    if text in _FRESH_EXACT or core in _FRESH_LONG_CORES:
        return True
    return record["source"].startswith("broad:") and core in _FRESH_CORES


def _broad(rng: random.Random) -> list[dict[str, Any]]:
    """The broader templates (templates_broad.py): 5 messages a template, more typos."""
    out = _single(BROAD, lambda i: 5 * len(BROAD[i]), rng, 1.0, "broad")
    out += _context(BROAD_CONTEXT, 10, rng, 1.0, "broad")
    for r in out:
        if rng.random() < 0.3:
            for old, new in rng.sample(BROAD_TYPOS, len(BROAD_TYPOS)):
                if old in r["text"]:
                    r["text"] = r["text"].replace(old, new, 1)
                    break
    return out


def write(path: Path, records: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def main() -> None:
    train, heldout = build()
    write(TRAIN_PATH, train)
    write(HELDOUT_PATH, heldout)
    both = Counter(r["intent"] for r in train + heldout)
    print(f"train {len(train)}, heldout {len(heldout)}, total {len(train) + len(heldout)}")
    print("fewest per intent:", sorted(both.items(), key=lambda kv: kv[1])[:5])


if __name__ == "__main__":
    main()
