from __future__ import annotations

import json
import logging

import pytest
from opentelemetry.sdk.trace import TracerProvider

from shared.logs import setup_logging


@pytest.fixture
def restore_root_logging():  # type: ignore[no-untyped-def]
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_logs_are_json_with_trace_ids_and_no_personal_data(capsys, restore_root_logging) -> None:  # type: ignore[no-untyped-def]
    setup_logging("xiaoer-test", "INFO")
    tracer = TracerProvider().get_tracer("t")
    with tracer.start_as_current_span("work") as span:
        logging.getLogger("xiaoer.test").info("buyer wrote %s", "电话13812345678 地址文三路100号")
        trace_id = format(span.get_span_context().trace_id, "032x")
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["service"] == "xiaoer-test"
    assert line["level"] == "INFO"
    assert line["trace_id"] == trace_id
    assert "13812345678" not in line["message"]
    assert "文三路100号" not in line["message"]
    assert "[手机号]" in line["message"]


def test_tracebacks_are_masked_too(capsys, restore_root_logging) -> None:  # type: ignore[no-untyped-def]
    setup_logging("xiaoer-test", "INFO")
    try:
        raise ValueError("cannot parse 收件人：王小明 13912345678")
    except ValueError:
        logging.getLogger("xiaoer.test").exception("handler failed")
    out = capsys.readouterr().out
    assert "13912345678" not in out
    assert "王小明" not in out
    assert "ValueError" in out
