"""Ray load hosts without a cluster: the one-line errors and warnings (no Ray needed)."""

from __future__ import annotations

import socket
import sys

import pytest

from qtui.errors import QtuiError
from qtui.load.ray_pool import INSTALL, Host, connect, loopback_warnings


def test_without_ray_installed_the_run_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray → ImportError
    with pytest.raises(QtuiError) as err:
        connect(None)
    assert str(err.value) == INSTALL == "[load] hosts = 'ray' needs Ray: pip install 'qtui[ray]'"


@pytest.mark.parametrize("bad", ["refused", "no-port"])
def test_an_unreachable_cluster_address_is_one_line_at_once(bad: str) -> None:
    pytest.importorskip("ray")
    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    addr = f"127.0.0.1:{port}" if bad == "refused" else "10.0.0.9"
    with pytest.raises(QtuiError) as err:
        connect(addr)
    msg = str(err.value)
    assert msg.startswith(f"[load] hosts = 'ray': no Ray cluster at {addr} (")
    assert msg.endswith("start one with `ray start --head` or set [load] ray_address")
    assert "\n" not in msg


def test_a_loopback_endpoint_is_warned_about_only_with_several_machines() -> None:
    urls = {"a": "http://127.0.0.1:8000", "b": "http://10.0.0.5:8000", "c": "http://localhost:1"}
    one = [Host("n1", "10.0.0.1"), Host("n2", "10.0.0.1")]  # two nodes, one machine
    assert loopback_warnings(urls, one) == []
    two = [Host("n1", "10.0.0.1"), Host("n2", "10.0.0.2")]
    got = loopback_warnings(urls, two)
    assert [w.split(":")[0] for w in got] == ["endpoint a", "endpoint c"]
    assert "give it an address every Ray host reaches" in got[0] and "2 machines" in got[0]


def test_a_host_is_named_by_hostname_ip_and_node() -> None:
    assert Host("0123456789abcdef", "10.0.0.2", "gpu-7").name() == (
        "gpu-7 (10.0.0.2, Ray node 01234567)"
    )
    assert Host("0123456789abcdef", "10.0.0.2").name().startswith("10.0.0.2 (10.0.0.2,")
