from __future__ import annotations

import pytest

from shared.masking import contains_personal_data, mask


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("电话13812345678", "13812345678"),
        ("手机 138-1234-5678 谢谢", "138-1234-5678"),
        ("+86 139 1234 5678", "139 1234 5678"),
        ("身份证330106199001011234", "330106199001011234"),
        ("身份证号 11010519491231002X", "11010519491231002X"),
        ("座机0571-88886666", "0571-88886666"),
        ("邮箱 buyer.one@example.com", "buyer.one@example.com"),
        ("地址改成杭州市西湖区文三路100号", "文三路100号"),
        ("送到阳光花园3栋2单元501室", "阳光花园3栋2单元501室"),
        ("收件人：张三 电话不变", "张三"),
        ("我叫李小龙", "李小龙"),
    ],
)
def test_personal_data_is_masked(text: str, secret: str) -> None:
    masked = mask(text)
    assert secret not in masked
    assert contains_personal_data(text)


@pytest.mark.parametrize(
    "text",
    [
        "亲，在吗？",
        "身高165体重110斤穿什么码",
        "订单号 3456789012345678 什么时候发货",
        "我是新客户，有优惠吗",
        "满299减30可以叠加吗",
        "XL码还有货吗",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert mask(text) == text
