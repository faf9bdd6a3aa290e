"""Texts the bot sends."""

from __future__ import annotations

GREETING_REPLY = "亲，您好！欢迎光临本店，请问有什么可以帮您的呢？"
HANDOFF_NOTICE = "亲，已为您转接人工客服，请稍等哦～"
QUEUED_NOTICE = "亲，当前咨询人数较多，已为您排队，客服空闲后会第一时间回复您～"
