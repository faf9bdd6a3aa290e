"""`make demo` as a new user runs it: the business summary's figures are the APIs' figures,
and the dashboard stays up afterwards (`make dashboard` finds it)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from devstack.config import isolated_config

pytestmark = [pytest.mark.stack, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
STABLE_AGENT_FIELDS = (  # fields that no longer change once the simulator has stopped
    "rounds_answered",
    "sessions",
    "response_time_avg_s",
    "first_response_time_avg_s",
    "inquiry_buyers",
    "paid_buyers",
    "inquiry_conversion_rate",
    "sales_fen",
    "csat_responses",
    "csat_satisfied_rate",
)


def _make_demo(state: Path, ports: dict[str, int], broker: int) -> subprocess.Popen[str]:
    port_arg = ",".join(f"{n}={p}" for n, p in ports.items())
    argv = ["make", "--no-print-directory", "demo", f"STATE_DIR={state}",
            f"BROKER_PORT={broker}", "HOURS=3", "SPEED=1440", "SEED=11",
            f"ARGS=--ports {port_arg} --stay yes"]  # fmt: skip
    return subprocess.Popen(
        argv,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,  # not a terminal: only --stay yes keeps it up
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # Ctrl-C goes to the whole group, as in a terminal
    )


def _read_until(proc: subprocess.Popen[str], marker: str, timeout: float) -> str:
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    for line in proc.stdout:
        lines.append(line)
        if marker in line:
            return "".join(lines)
        if time.monotonic() > deadline:
            break
    raise AssertionError(f"no {marker!r} within {timeout}s; output:\n" + "".join(lines[-80:]))


def test_make_demo_summary_matches_the_apis_and_the_dashboard_stays(tmp_path: Path) -> None:
    cfg = isolated_config(tmp_path / "demo")
    proc = _make_demo(cfg.state_dir, cfg.ports, cfg.broker_port)
    try:
        out = _read_until(proc, "press Ctrl-C to stop", timeout=600)
        assert "The shop day in figures" in out
        for heading in ("Bot (智能客服)", "Hand-offs to agents", "催付", "Refunds decided",
                        "Alerts raised", "Dead letters", "demo clock runs 1440×"):  # fmt: skip
            assert heading in out, heading
        token = re.search(r"paste this token into its Token field: (\S+)", out)
        url = re.search(r"Dashboard: (http://\S+)", out)
        assert token, out
        assert url, out
        figures = json.loads((cfg.state_dir / "summary.json").read_text())
        window = {"from": figures["window"]["from"], "to": figures["window"]["to"]}
        base = f"http://127.0.0.1:{cfg.ports['metrics']}"
        headers = {"Authorization": f"Bearer {token.group(1)}"}
        with httpx.Client(base_url=base, headers=headers, timeout=30) as api:
            kpis = f"/api/v1/shops/{figures['shop_id']}/kpis"
            agents = {a["agent_id"]: a for a in api.get(f"{kpis}/agents", params=window).json()["agents"]}  # fmt: skip
            shop = api.get(f"{kpis}/shop", params=window).json()
            reminders = api.get(f"{kpis}/reminders", params=window).json()
            assert api.get(url.group(1)).status_code == 200  # the dashboard is still up
        # every agent row of the summary is the API's
        assert {a["agent_id"] for a in figures["agents"]} == set(agents)
        for row in figures["agents"]:
            for f in STABLE_AGENT_FIELDS:
                assert row[f] == agents[row["agent_id"]][f], (row["agent_id"], f)
        for f in ("reminders_sent", "reminded_orders", "recovered_orders", "recovered_fen"):
            assert figures["reminders"][f] == reminders[f], f
        assert sum(figures["handoffs_by_reason"].values()) == shop["handoffs"]
        # the bot's figures are consistent with the events and the ground truth
        bot = figures["bot"]
        assert bot["buyer_messages"] == shop["buyer_messages"]
        assert 0 < bot["answered"] <= bot["presale_questions"] <= bot["buyer_messages"]
        assert bot["judged"] == bot["auto_answers"] > 0  # every answer has a known true intent
        assert 0 <= bot["correct"] <= bot["judged"]
        assert bot["latency_ms_p50"] is not None
        assert bot["latency_ms_p50"] >= 0
        # (whether the bot's answers land inside the buyer's session depends on how fast the
        # machine is at this SPEED: compressed time, so the bot's rounds are not asserted)

        dash = subprocess.run(
            ["make", "--no-print-directory", "dashboard", f"STATE_DIR={cfg.state_dir}"],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
            env={k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")},
        )  # fmt: skip
        assert dash.returncode == 0, dash.stdout + dash.stderr
        assert token.group(1) in dash.stdout
        assert f"127.0.0.1:{cfg.ports['metrics']}/?shop=" in dash.stdout
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    # make itself dies of the SIGINT (as in a terminal); the launcher stopped cleanly
    assert proc.returncode in (0, -signal.SIGINT), rest
    assert "no processes left behind" in rest
