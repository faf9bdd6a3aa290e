"""Buyer mood from words, punctuation and emoji: positive, neutral, negative or angry."""

from __future__ import annotations

import re

from shared.contracts.emitted import Sentiment

_ANGRY = re.compile(
    r"投诉|举报|12315|骗子|骗人|垃圾|恶心|气死|破店|黑店|曝光|什么玩意|滚|tm|他妈|妈的|卧槽|坑人|"
    r"坑爹|欺骗|忽悠|工商|消协|差评|再也不|无良|奸商|太过分|有病|脑子|去死|sb|傻"
)
_NEGATIVE = re.compile(
    r"失望|不满意|太慢|怎么还|怎么还没|还没|到底|烦|郁闷|无语|(?<!色)差|坏了|破了|不行|不好|难用|难看|"
    r"退款|退货|问题|着急|急死|怎么回事|搞什么|不对|错了|少了|唉|哎|算了|生气|不开心|难受|糟糕"
)
_POSITIVE = re.compile(
    r"谢谢|感谢|多谢|喜欢|不错|很好|太好了|好评|满意|漂亮|好看|棒|赞|爱了|nice|好开心|辛苦|给力|"
    r"五星|完美|舒服|超好|真好|回购"
)


def sentiment_of(core: str, emoji_moods: list[str], exclamations: int) -> Sentiment:
    angry = bool(_ANGRY.search(core)) or "angry" in emoji_moods
    if angry or (exclamations >= 3 and _NEGATIVE.search(core)):
        return "angry"
    if _NEGATIVE.search(core) or "negative" in emoji_moods:
        return "negative"
    if _POSITIVE.search(core) or "positive" in emoji_moods:
        return "positive"
    return "neutral"
