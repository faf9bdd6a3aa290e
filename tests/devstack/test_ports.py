"""The launcher's port check accepts ports that only hold TIME-WAIT sockets (a stack that just
stopped) and refuses ports with a listener (another stack running)."""

from __future__ import annotations

import socket

import pytest

from devstack.procs import listening, port_in_use

HOST = "127.0.0.1"


def _listener(port: int = 0) -> socket.socket:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((HOST, port))
    server.listen()
    return server


@pytest.fixture
def time_wait_port() -> int:
    """A port whose only socket is in TIME-WAIT: the server side closed a connection first."""
    server = _listener()
    port = int(server.getsockname()[1])
    client = socket.create_connection((HOST, port))
    accepted, _ = server.accept()
    accepted.close()  # the side that closes first keeps the TIME-WAIT socket
    client.recv(1)  # wait for the FIN
    client.close()
    server.close()
    return port


def test_a_port_with_only_time_wait_sockets_is_accepted(time_wait_port: int) -> None:
    plain = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with plain, pytest.raises(OSError, match="in use"):  # the TIME-WAIT socket is really there
        plain.bind((HOST, time_wait_port))
    assert not port_in_use(time_wait_port)
    assert not listening(time_wait_port)


def test_a_port_with_a_listener_is_refused() -> None:
    with _listener() as server:
        port = int(server.getsockname()[1])
        assert port_in_use(port)
        assert listening(port)


def test_a_listener_on_every_interface_is_refused() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("0.0.0.0", 0))
        server.listen()
        assert port_in_use(int(server.getsockname()[1]))
