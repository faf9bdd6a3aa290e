"""Presale wiring: which events go to which handler, which timers exist."""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.trace import TracerProvider

from services.presale import store
from services.presale.handlers import SESSION_IDLE, Handlers
from services.presale.settings import PresaleSettings
from shared.clock import Clock
from shared.runtime import ServiceRuntime


def build_runtime(
    settings: PresaleSettings,
    tracer_provider: TracerProvider | None = None,
    clock: Clock | None = None,
) -> ServiceRuntime:
    h = Handlers(settings.session_gap)
    return ServiceRuntime(
        settings,
        store.metadata,
        {
            "cs.message.received.v1": h.message_received,
            "cs.message.sent.v1": h.message_sent,
            "cs.agent.status.v1": h.agent_status,
            "cs.handoff.requested.v1": h.handoff_requested,
        },
        timer_handlers={SESSION_IDLE: h.session_idle},
        clock=clock,
        tracer_provider=tracer_provider,
        title="xiaoer presale (售前)",
    )


def build_app(settings: PresaleSettings, tracer_provider: TracerProvider | None = None) -> FastAPI:
    return build_runtime(settings, tracer_provider).app()
