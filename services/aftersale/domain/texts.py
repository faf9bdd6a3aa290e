"""What aftersale says to buyers and writes for agents (shop voice: 亲, polite, short)."""

from __future__ import annotations

ASK_ORDER = "亲,请发一下需要售后的订单号,我马上帮您查询~"
ASK_PHOTOS = (
    "非常抱歉给您带来不好的体验!麻烦您拍几张商品问题处的照片(含吊牌/包装)发给我们,"
    "售后专员马上为您处理。"
)
ASK_EVIDENCE = (
    "亲,您的售后申请已收到。为尽快处理,麻烦您在申请中补充商品问题处的照片"
    "(含外包装和快递面单),售后专员会尽快审核。"
)
MISSING_WRONG = "非常抱歉!已为您转接售后专员优先处理,麻烦拍一下收到的商品和快递面单照片~"
COMPLAINT = "非常抱歉给您带来困扰,已为您转接售后主管优先处理,请稍等。"
APOLOGY = (
    "亲,看到您的评价非常抱歉,没能让您满意。我们很重视您反馈的问题,"
    "售后专员会尽快联系您处理,给您一个满意的答复。"
)

NOT_SHIPPED_AUTO = (
    "亲,订单还未发货,您可以直接在订单页申请「仅退款」,提交后系统会自动同意,款项原路退回。"
)
NOT_SHIPPED_REVIEW = "亲,订单还未发货,您可以在订单页申请「仅退款」,提交后售后专员会尽快审核。"
SHIPPED_NOT_SIGNED = (
    "亲,订单已发货还未签收,您可以拒收,或签收后在订单页申请「退货退款」;"
    "七天无理由退货从签收次日起算7天。"
)
SEVEN_DAY_OK = (
    "亲,订单在七天无理由退货期内(截至{window_end}),可以在订单页点「申请售后」→「退货退款」,"
    "商品保持完好、吊牌不拆即可,我们收到退货后尽快退款。"
)
SEVEN_DAY_EXPIRED = (
    "亲,订单已超过七天无理由退货期限(截至{window_end})。如商品有质量问题,"
    "请拍照发给我们,已为您转售后专员处理。"
)
CATEGORY_INELIGIBLE = "亲,该商品属于不支持七天无理由退货的类目。如商品有质量问题,请拍照发给我们,已为您转售后专员处理。"
NEEDS_REVIEW = "亲,您可以在订单页提交售后申请,售后专员会尽快审核并联系您。"

CASE_STATUS: dict[str, str] = {
    "approved": "亲,您的退款申请已同意,款项会原路退回,请留意到账通知~",
    "WAIT_SELLER_AGREE": "亲,您的售后申请正在由售后专员审核,会在{deadline}前处理完,请耐心等待~",
    "WAIT_BUYER_RETURN_GOODS": (
        "亲,退货申请已同意,请把商品寄回并在订单页填写退货物流单号,我们收到后尽快退款。"
    ),
    "WAIT_SELLER_CONFIRM_GOODS": "亲,退货已在途/已到仓,我们确认收货后会马上退款,请耐心等待~",
    "SELLER_REFUSE_BUYER": (
        "亲,这笔售后申请暂未通过,您可以修改申请并补充凭证,已为您转售后专员进一步沟通。"
    ),
}


def case_summary(
    *,
    kind: str,
    reason: str,
    refund_fee_yuan: str,
    order_total_yuan: str,
    decision: str | None,
    rule_id: str | None,
    refund_status: str | None,
    cs_status: int | None,
    risk: str,
    history: list[str],
) -> str:
    """A few lines a senior agent can act on without opening five screens."""
    lines = [
        f"售后类型:{kind};原因:{reason};申请{refund_fee_yuan}元/订单{order_total_yuan}元",
        f"系统决定:{decision or '无'}(规则 {rule_id or '-'});平台状态:{refund_status or '-'},"
        f"介入状态 cs_status={cs_status or '-'}",
        f"买家风险:{risk}",
    ]
    if history:
        lines.append("经过:" + " → ".join(history[-6:]))
    return "\n".join(lines)
