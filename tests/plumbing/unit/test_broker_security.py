from __future__ import annotations

from faststream.security import BaseSecurity, SASLPlaintext, SASLScram512

from shared.broker import broker_security
from shared.settings import CommonSettings


def test_plaintext_needs_no_security() -> None:
    assert broker_security(CommonSettings()) is None


def test_scram_over_tls_for_strimzi_users() -> None:
    security = broker_security(
        CommonSettings(
            kafka_security_protocol="SASL_SSL",
            kafka_sasl_mechanism="SCRAM-SHA-512",
            kafka_sasl_username="xiaoer-presale",
            kafka_sasl_password="s3cret",
        )
    )
    assert isinstance(security, SASLScram512)
    assert security.use_ssl
    assert security.password == "s3cret"


def test_plain_sasl_without_tls_and_tls_only() -> None:
    plain = broker_security(
        CommonSettings(kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_mechanism="PLAIN")
    )
    assert isinstance(plain, SASLPlaintext)
    assert not plain.use_ssl
    tls = broker_security(CommonSettings(kafka_security_protocol="SSL"))
    assert type(tls) is BaseSecurity
    assert tls.use_ssl
