"""Chinese phrase banks: what buyers type, what agents answer, what carriers and reviewers write.

Buyer texts are keyed by the intent presale should find (the names of `shared.contracts`'s
`Intent`), so the plan doubles as labelled data for the classifier. Noise (typos, emoji,
particles, traditional characters) is added by `roughen`.
"""

from __future__ import annotations

import random

from simulator.catalog import COURIERS, Item

GREETINGS = ("亲在吗", "你好", "在吗", "亲 在不在", "您好,有人吗", "哈喽", "老板在吗", "客服在吗?")

PRESALE: dict[str, tuple[str, ...]] = {
    "product_spec": (
        "这个{kind}是什么面料的",
        "{kind}是纯棉的吗",
        "会不会起球啊",
        "这款透不透",
        "会缩水吗",
        "{colour}实物色差大吗",
        "这个{kind}有弹力吗",
        "面料厚不厚呢",
        "会掉色吗",
    ),
    "size_advice": (
        "身高{h}体重{w}斤穿什么码",
        "{h}/{w}斤 平时穿M 这款选哪个码",
        "我{h}cm {kg}kg 穿多大的",
        "身高{h} 体重{w} 拿{size}会不会小",
        "宝贝{h}高{w}斤 腰有点粗 推荐个尺码",
        "{h} {w}斤 微胖 穿{size}还是大一码",
        "这个尺码偏大还是偏小啊",
    ),
    "stock": (
        "{colour}{size}码还有货吗",
        "{size}码没货了吗 什么时候补货",
        "{colour}的还有吗",
        "现货吗还是预售",
        "{size}码还有库存吗亲",
    ),
    "price_promotion": (
        "有优惠券吗",
        "能便宜点吗",
        "满减怎么用",
        "买两件能优惠吗",
        "双十一还会降价吗",
        "新人有券吗",
        "可以少点不 学生党",
        "有没有赠品呀",
    ),
    "free_shipping": ("包邮吗", "新疆包邮吗", "运费多少", "偏远地区包邮不", "包邮吗亲 发哪里"),
    "shipping_time": (
        "什么时候发货",
        "今天拍明天能发吗",
        "几天能到{city}",
        "现在下单什么时候能到",
        "多久发货呀",
        "拍了今天能发吗",
    ),
    "courier": ("发什么快递", "能发顺丰吗", "默认什么快递呢", "可以指定快递吗 我这里中通不到"),
    "invoice": (
        "能开发票吗",
        "可以开专票吗",
        "发票抬头:杭州某某服饰有限公司 税号91330106MA27XK5L3Q",
        "发票怎么开",
        "公司报销需要发票",
    ),
    "recommendation": (
        "这个和{other}哪个好看",
        "有什么推荐的吗 去海边穿",
        "微胖穿哪款显瘦",
        "配什么裤子好看",
        "送妈妈50多岁穿哪个合适",
    ),
    "human_agent": ("转人工", "人工客服", "我要找人工", "能不能人工回复一下", "别机器人了 找真人"),
}

INSALE: dict[str, tuple[str, ...]] = {
    "urge_shipping": (
        "怎么还没发货",
        "拍了两天了还没发",
        "麻烦快点发货 急用",
        "什么时候发货啊 等着穿",
        "能今天发吗 周末要穿",
        "说好48小时发货的呢",
    ),
    "logistics_status": (
        "我的快递到哪了",
        "物流怎么不动了",
        "查一下物流",
        "三天了物流一直没更新",
        "物流显示异常怎么回事",
        "快递员电话打不通",
        "怎么还没到啊",
    ),
    "address_change": (
        "地址改成{address} 电话{phone}",
        "能改地址吗 改成{address}",
        "收件人改成{name} {phone}",
        "地址写错了 应该是{address}",
        "麻烦改下地址:{address},{name},{phone}",
    ),
    "payment_issue": ("付款付不了", "花呗付不了怎么办", "付款了怎么显示未付款", "可以货到付款吗"),
    "order_modify": (
        "能改成{size}码吗 刚拍的",
        "颜色拍错了 换成{colour}",
        "能备注一下不要发中通吗",
    ),
    "cancel_order": ("拍错了 取消订单", "不想要了 能取消吗", "帮我取消一下订单 重新拍"),
}

AFTERSALE: dict[str, tuple[str, ...]] = {
    "refund": (
        "我要退款",
        "怎么退款",
        "退款什么时候到账",
        "申请了退款 麻烦处理一下",
        "不想要了 退了吧",
    ),
    "return_exchange": (
        "尺码小了 能换大一码吗",
        "可以换个颜色吗",
        "七天无理由能退吗 吊牌还在",
        "退货地址发我一下",
        "退货运费谁出",
        "想换{size}码",
    ),
    "quality_issue": (
        "衣服有个洞",
        "线头好多 质量太差了",
        "洗了一次就掉色了",
        "拉链坏了",
        "起球严重",
        "有股很大的味道",
        "袖子上有污渍",
    ),
    "missing_or_wrong_item": (
        "少发了一件",
        "发错颜色了 我要的是{colour}",
        "只收到一条裤子 还有一件呢",
        "尺码发错了 我拍的{size}",
    ),
    "complaint": (
        "什么破质量 差评",
        "你们客服怎么不回消息",
        "再不处理我就投诉了",
        "太失望了",
        "骗子店铺 和图片完全不一样",
        "等了半天没人理 要投诉",
        "我要12315投诉你们",
    ),
}

ACKS = ("好的", "谢谢", "好的谢谢", "嗯嗯", "ok", "好滴 谢啦", "知道了", "行吧", "那我拍了", "收到")

CITIES = ("北京", "上海", "广州", "深圳", "成都", "武汉", "新疆", "哈尔滨", "西安", "杭州")

REGIONS = (
    "浙江省杭州市西湖区", "浙江省宁波市鄞州区", "上海市浦东新区", "江苏省南京市鼓楼区",
    "江苏省苏州市工业园区", "广东省广州市天河区", "广东省深圳市南山区", "北京市朝阳区",
    "四川省成都市武侯区", "湖北省武汉市洪山区", "陕西省西安市雁塔区", "山东省济南市历下区",
    "福建省厦门市思明区", "新疆维吾尔自治区乌鲁木齐市天山区", "黑龙江省哈尔滨市南岗区",
)  # fmt: skip
STREETS = ("文三路", "学院路", "中山北路", "人民路", "建设大道", "科技园南路", "长江路", "解放路")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林"
GIVEN = ("小明", "丽", "芳", "静", "伟", "敏", "婷婷", "晓燕", "子涵", "一诺", "佳怡", "浩")

PARTICLES = ("亲", "哦", "呢", "哈", "呀", "啊", "嘛", "啦")
EMOJI = ("😊", "🙏", "😂", "😭", "👍", "🤔", "😡", "[微笑]", "[流泪]", "[抱拳]", "~", "!!", "???")
TYPOS = (
    ("什么", "神马"), ("什么", "啥"), ("怎么", "咋"), ("可以", "可已"), ("谢谢", "xiexie"),
    ("好的", "好滴"), ("没有", "木有"), ("在吗", "在麻"), ("发货", "发或"), ("快递", "快的"),
)  # fmt: skip
_TRAD = str.maketrans(
    "发货么吗这个码时几递运费没还问题说号买卖颜裤长质换谢们请给亲优单订现东样对为会开关库过里钱块红绿蓝"
    "尺寸边脏洞线拉链坏污渍退款到账处理麻烦",
    "發貨麼嗎這個碼時幾遞運費沒還問題說號買賣顏褲長質換謝們請給親優單訂現東樣對為會開關庫過裡錢塊紅綠藍"
    "尺寸邊髒洞線拉鏈壞汙漬退款到賬處理麻煩",
)


def phone(rng: random.Random) -> str:
    return rng.choice(("138", "139", "135", "186", "150", "177", "199")) + "".join(
        rng.choice("0123456789") for _ in range(8)
    )


def name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def address(rng: random.Random) -> str:
    return f"{rng.choice(REGIONS)}{rng.choice(STREETS)}{rng.randint(1, 399)}号{rng.randint(1, 30)}幢{rng.randint(101, 2602)}室"


def roughen(text: str, rng: random.Random, angry: bool = False) -> str:
    """Make a clean template look typed by a buyer on a phone."""
    if rng.random() < 0.12:
        a, b = rng.choice(TYPOS)
        text = text.replace(a, b, 1)
    if rng.random() < 0.3 and text[-1] not in "?!?!~吗呢啊吧嘛":
        text += rng.choice(PARTICLES)
    if angry:
        text += rng.choice(("!!!", "!!", "😡", "???"))
    elif rng.random() < 0.2:
        text += rng.choice(EMOJI)
    if rng.random() < 0.2:
        text = "亲 " + text if rng.random() < 0.5 else text + "?"
    if rng.random() < 0.06:
        text = text.translate(_TRAD)
    return text


def buyer_text(intent: str, rng: random.Random, item: Item, other: Item | None = None) -> str:
    """One buyer message for `intent`, filled in for `item`."""
    if intent == "greeting":
        return roughen(rng.choice(GREETINGS), rng)
    if intent == "acknowledgement":
        return roughen(rng.choice(ACKS), rng)
    bank = PRESALE.get(intent) or INSALE.get(intent) or AFTERSALE[intent]
    h = rng.randint(150, 182)
    w = max(80, min(190, int((h - 105) * 2 + rng.gauss(0, 12))))
    text = rng.choice(bank).format(
        kind=item.kind,
        colour=rng.choice(item.colours),
        size=rng.choice(item.sizes).size,
        h=h,
        w=w,
        kg=w // 2,
        city=rng.choice(CITIES),
        other=(other or item).kind,
        address=address(rng),
        phone=phone(rng),
        name=name(rng),
    )
    return roughen(text, rng, angry=intent == "complaint")


AGENT_REPLIES: dict[str, tuple[str, ...]] = {
    "greeting": ("亲,在的呢,请问有什么可以帮您~", "您好亲,客服{agent}为您服务,请问有什么需要呢"),
    "size_advice": (
        "亲,根据您的身高体重建议拿M码哦,喜欢宽松可以拿L~",
        "亲,这款偏修身,按您的情况推荐L码,穿着不合适支持七天无理由换的哦",
    ),
    "product_spec": (
        "亲,面料详情页有写的哦,亲肤透气不起球,放心拍~",
        "亲,实物和图片一致,会有轻微色差哈",
    ),
    "stock": ("亲,这个码还有少量现货,喜欢的话尽快拍下哦", "亲,这个码暂时断货了,预计一周内补货呢"),
    "price_promotion": (
        "亲,全店满199减20自动抵扣,首页还可以领新人券哦~",
        "亲,价格已经很优惠了呢,送您运费险哈",
    ),
    "shipping_time": (
        "亲,付款后48小时内发货,江浙沪一般次日达哦",
        "亲,今天16点前拍下当天就能发出呢",
    ),
    "logistics_status": (
        "亲,我这边帮您查一下物流,稍等哈",
        "亲,包裹在路上了,中转站有点积压,我们已经联系快递催件了",
        "亲,已经帮您联系快递加急,有进展第一时间告诉您",
    ),
    "urge_shipping": ("亲,仓库正在加紧打包,今天一定给您发出哦", "亲,已经帮您加急备注了,抱歉久等啦"),
    "address_change": (
        "好的亲,已经帮您备注修改地址了,发货前会再核对一遍哦",
        "亲,地址已修改成功,请放心",
    ),
    "refund": (
        "亲,退款申请我们看到了,会尽快为您处理的",
        "亲,同意退款后钱会原路退回,一般1-3个工作日到账",
    ),
    "return_exchange": (
        "亲,可以换的哦,您申请退换货,寄回时备注新尺码就好",
        "亲,七天无理由支持的,退货地址我发您哈",
    ),
    "quality_issue": (
        "亲,非常抱歉给您带来不好的体验,麻烦拍个照片给我们看下哦",
        "亲,实在抱歉,质量问题我们包退换,来回运费我们承担",
    ),
    "missing_or_wrong_item": (
        "亲,非常抱歉,我们马上核实,确认少发的话立刻给您补发",
        "亲,抱歉发错了,给您换新,运费我们出",
    ),
    "complaint": (
        "亲,实在抱歉让您久等了,您先消消气,我这边马上帮您处理",
        "亲,非常理解您的心情,这件事我负责跟进到底,给您一个满意的答复",
    ),
}
GENERIC_AGENT_REPLIES = (
    "亲,收到,我这边马上为您处理哈",
    "好的亲,还有其他问题随时找我哦~",
    "亲,稍等,我帮您看一下",
)
AGENT_NUDGES = (
    "亲,刚才看中的宝贝还在考虑吗?今天下单满199减20哦~",
    "亲,您咨询的尺码还有货,需要的话尽快拍下哈,48小时内发货",
)
AGENT_FOLLOWUPS = (
    "亲,您的宝贝已经签收啦,穿着合不合适呀?有问题随时找我哦~",
    "亲,衣服收到还满意吗?满意的话给个五星好评哦~",
)


# What a tired or careless agent sometimes types (质检 flags each of them): one per category.
AGENT_SLIPS = (
    "亲,这款是全网最好的,销量第一",  # ad_law
    "亲,这个面霜能祛斑美白,用了都说好",  # ad_law (efficacy)
    "亲,加我微信xiaoer_2026,有内部价哦",  # off_platform
    "直接支付宝转账给我吧,不用拍了",  # off_platform
    "您的手机号13812345678对吧,已经帮您备注了",  # personal_data
    "说了多少遍了,详情页都写着呢",  # rude
    "保证明天一定到,不到全额退",  # over_promise
    "好评返现5元,晒图再加3元哦",  # review_inducement
)
SLIP_RATE = 0.04
"""Share of agent replies that break a quality rule (the demo shows flags)."""

# Buyers who abuse agents, threaten them or pose as platform staff (presale flags them).
ABUSIVE_BUYER_TEXTS = ("傻逼客服,能不能快点", "你们这群骗子,垃圾店", "滚,什么破店")
THREAT_BUYER_TEXTS = ("再不退款我找人上门收拾你们", "我知道你们地址,你给我等着")
SCAM_BUYER_TEXTS = (
    "我是淘宝官方客服,你们店铺需要缴纳保证金才能解冻",
    "你好,平台审核需要,把验证码发我一下",
    "加我QQ 83746521,给你们店刷单返利",
)


def agent_reply(intent: str | None, rng: random.Random, agent_name: str) -> str:
    bank = AGENT_REPLIES.get(intent or "", GENERIC_AGENT_REPLIES)
    return rng.choice(bank).format(agent=agent_name)


def tracking_no(rng: random.Random, courier: str) -> str:
    digits = "".join(rng.choice("0123456789") for _ in range(12))
    prefix = {"顺丰速运": "SF", "圆通速递": "YT", "申通快递": "77", "韵达快递": "43"}.get(
        courier, "78"
    )
    return prefix + digits


def logistics_text(status: str, rng: random.Random, courier: str, region: str) -> str:
    city = region[region.find("省") + 1 : region.find("市") + 1] if "市" in region else region
    hub = rng.choice(
        ("杭州转运中心", "上海转运中心", "武汉转运中心", "广州转运中心", "郑州转运中心")
    )
    if status == "ACCEPTED":
        return f"【杭州市】{courier} 杭州余杭公司 已揽收"
    if status == "IN_TRANSIT":
        return rng.choice((f"【{hub}】快件已到达 {hub}", f"快件已从 {hub} 发出,准备发往 {city}"))
    if status == "DELIVERING":
        return f"【{city}】快递员 {rng.choice(SURNAMES)}师傅 正在派件(联系电话:{phone(rng)})"
    if status == "SIGNED":
        return rng.choice(
            (f"【{city}】您的快件已签收,签收人:本人", f"【{city}】快件已放入菜鸟驿站,凭取件码签收")
        )
    return rng.choice(
        (
            "收件地址不详,联系收件人未果,待再次派送",
            "因天气原因,快件延误",
            "包裹外包装破损,已联系发件方",
        )
    )


REFUND_REASONS: tuple[tuple[str, float], ...] = (
    ("七天无理由退货", 0.38), ("质量问题", 0.18), ("尺码不合适", 0.14), ("少件/漏发", 0.07),
    ("不想要了", 0.1), ("商品与描述不符", 0.08), ("发错货", 0.05),
)  # fmt: skip
# How the platform actually writes each reason: it differs by category, app version and era.
PLATFORM_REASON_WORDING: dict[str, tuple[str, ...]] = {
    "七天无理由退货": ("七天无理由退货", "七天无理由退换货", "7天无理由退换货", "7天无理由退货"),
    "质量问题": ("质量问题", "包装/商品破损/污渍", "做工问题"),
    "尺码不合适": ("尺码不合适",),
    "少件/漏发": ("少件/漏发", "收到商品少件（含少配件）"),
    "不想要了": ("不想要了", "我不想要了", "多拍/拍错/不想要"),
    "商品与描述不符": ("商品与描述不符", "大小/尺寸与商品描述不符", "颜色/图案/款式与商品描述不符",
                       "材质与商品描述不符"),
    "发错货": ("发错货", "卖家发错货"),
}  # fmt: skip
# Reasons no packaged group knows (a price-protection claim, a new app's wording): about 1 % of
# refunds (a tenth of the changed-mind ones), so the demo shows the unrecognised-reason count.
UNRECOGNISED_REASONS: tuple[str, ...] = ("商品降价/买贵了", "退运费")
UNRECOGNISED_SHARE_OF_CHANGED_MIND = 0.1


def platform_reason(reason: str, rng: random.Random) -> str:
    """The text the platform sends for a reason kind, in one of its wordings."""
    if reason == "不想要了" and rng.random() < UNRECOGNISED_SHARE_OF_CHANGED_MIND:
        return rng.choice(UNRECOGNISED_REASONS)
    return rng.choice(PLATFORM_REASON_WORDING.get(reason, (reason,)))


REFUND_WORDS: dict[str, tuple[str, ...]] = {
    "七天无理由退货": ("不太喜欢,吊牌没拆", "穿上效果不好", ""),
    "质量问题": ("开线了", "有破洞", "洗一次就掉色", "有污渍"),
    "尺码不合适": ("偏小了", "太大了穿着不好看"),
    "少件/漏发": ("只收到一件", "少了一条裤子"),
    "不想要了": ("拍错了", "多拍了", "不需要了"),
    "商品与描述不符": ("颜色和图片差很多", "面料不是写的纯棉"),
    "发错货": ("颜色发错了", "尺码发错了"),
}

REVIEWS: dict[str, tuple[str, ...]] = {
    "good": (
        "质量很好,版型很正,穿上显瘦,好评!", "面料舒服,和图片一样,客服小姐姐很耐心", "物流很快,第二天就到了",
        "第二次回购了,一如既往的好", "尺码标准,按客服推荐拿的刚好", "还不错,性价比挺高的", "默认好评",
    ),
    "neutral": ("一般吧,有点色差", "衣服还行,就是物流太慢了", "尺码偏小,凑合穿"),
    "bad": (
        "质量太差,线头很多,洗一次就变形", "和图片完全不一样,差评", "客服态度差,问了半天不回",
        "发货太慢了,等了一个星期", "有味道,穿了皮肤过敏",
    ),
}  # fmt: skip
CSAT_COMMENTS: dict[int, tuple[str, ...]] = {
    5: ("客服很耐心", "回复很快", "很专业,推荐的尺码刚好", ""),
    4: ("还行", "回复有点慢", ""),
    3: ("一般", "问题没完全解决"),
    2: ("回复太慢了", "答非所问"),
    1: ("机器人根本没用", "态度差", "没人理"),
}

COURIER_CHOICES = COURIERS
