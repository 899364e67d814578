"""The guard of tests/unit/conftest.py: a unit test cannot start a child or connect a socket."""

from __future__ import annotations

import socket
import subprocess

import pytest


def test_starting_a_subprocess_fails_the_test():
    with pytest.raises(pytest.fail.Exception, match="may not start a subprocess"):
        subprocess.run(["true"], check=True)


def test_connecting_to_loopback_fails_the_test():
    with socket.socket() as listener, socket.socket() as client:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        with pytest.raises(pytest.fail.Exception, match="may not open a network connection"):
            client.connect(listener.getsockname())
