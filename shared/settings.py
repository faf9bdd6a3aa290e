"""Configuration from the environment (pydantic-settings). Every service reads only env vars."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class CommonSettings(BaseSettings):
    """Settings every service shares. Services subclass this and add their own."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    service_name: str = Field("xiaoer", description="set by each service")
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    database_url: str = "postgresql+asyncpg://xiaoer@127.0.0.1:5432/xiaoer"
    db_pool_size: int = 10
    http_host: str = "0.0.0.0"
    http_port: int = 8000
    # Request bodies above this are refused (413) before they are parsed (KB import included).
    http_max_body_bytes: int = Field(1024 * 1024, ge=0)
    log_level: str = "INFO"
    # Kafka consumer timings; dev defaults suit Tansu (STACK_NOTES), production may raise them.
    kafka_session_timeout_ms: int = 3000
    kafka_heartbeat_interval_ms: int = 1000
    kafka_max_poll_records: int = 500
    kafka_auto_offset_reset: Literal["earliest", "latest", "none"] = "earliest"
    # The service's consumer group; empty means `xiaoer-<service>` (production). Tests give
    # each test a group of its own, so no test reads another test's events.
    kafka_group_id: str = ""
    kafka_batch_timeout_ms: int = 25
    # How long the broker may hold an empty fetch: the floor of a hop's latency when idle.
    kafka_fetch_max_wait_ms: int = 50
    # A consumed batch whose records are slow to handle is committed in chunks of about this
    # many seconds each, so its group's offsets keep moving (0: one commit per batch).
    # Off by default: with 1.0 s, aftersale's mixed workload ran at 335-491 events/s against
    # 1,046-1,151 with it off (bench.pipeline --service aftersale, same hour): see README.
    consume_commit_budget_s: float = Field(0.0, ge=0)
    # Concurrent transactions per consumed batch (split by key; per-key order kept).
    consumer_lanes: int = Field(1, ge=1, le=32)
    # Broker security (e.g. Strimzi KafkaUser credentials): PLAINTEXT, SSL, SASL_PLAINTEXT or
    # SASL_SSL; mechanism PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    kafka_sasl_username: str = ""
    kafka_sasl_password: SecretStr = SecretStr("")
    kafka_ssl_cafile: str | None = None
    graceful_timeout_s: float = 15.0
    # Outbox relay: "inline" runs it in the service's process; "separate" leaves it to a
    # `python -m shared.relay` process (its own Deployment), woken by NOTIFY after each commit.
    relay_mode: Literal["inline", "separate"] = "inline"
    outbox_poll_interval_s: float = 0.2
    outbox_batch_size: int = 500
    outbox_shards: int = 16
    # Largest record the relay sends (the broker's message.max.bytes must allow it); a larger
    # row is parked (ops.dlq parked), a larger dead letter goes out truncated.
    kafka_max_request_bytes: int = 1_048_576
    # An unknown topic parks a row only after this many attempts (it may be being created).
    outbox_unknown_topic_attempts: int = 5
    # Housekeeping: inbox rows must outlive the topics' retention (7 days) to dedupe replays.
    inbox_retention_days: int = 14
    outbox_retention_hours: int = 24
    # Fired or cancelled timers are kept this long: a timer's row is what stops a re-delivered
    # event from arming it again, so keep them at least as long as the inbox.
    timer_retention_days: int = Field(30, ge=1)
    # Timers
    timer_poll_interval_s: float = 0.5
    timer_batch_size: int = 200
    # How long a firing waits for a row the consume path holds before leaving the timer for
    # the next pass (the two lock in crossing orders; a wait there would stall a partition).
    timer_lock_wait_ms: int = Field(200, ge=1)
    # Clock: speed 1 is real time. The demo compresses a shop day by running the clock faster
    # from CLOCK_EPOCH; every service and the simulator must share both values.
    clock_speed: float = Field(1.0, gt=0)
    clock_epoch: datetime | None = None
    # API tokens: "shop_id:token,shop_id:token"; the operator token reads every shop.
    api_tokens: SecretStr = SecretStr("")
    operator_token: SecretStr = SecretStr("")
    shop_timezone: str = "Asia/Shanghai"

    @property
    def kafka_servers(self) -> list[str]:
        return [s.strip() for s in self.kafka_bootstrap_servers.split(",") if s.strip()]

    @property
    def db_schema(self) -> str:
        return self.service_name.removeprefix("xiaoer-")

    @property
    def consumer_group(self) -> str:
        return self.kafka_group_id or f"xiaoer-{self.db_schema}"

    def shop_tokens(self) -> dict[str, str]:
        """token → shop_id."""
        out: dict[str, str] = {}
        for pair in self.api_tokens.get_secret_value().split(","):
            if ":" in pair:
                shop, token = pair.split(":", 1)
                out[token.strip()] = shop.strip()
        return out
