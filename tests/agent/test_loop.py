from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from drago.agent.backends.fake import FakeHost
from drago.agent.backoff import Backoff
from drago.agent.cache import ConfigCache
from drago.agent.client import HttpClient
from drago.agent.endpoints import Endpoints
from drago.agent.keys import KeyStore
from drago.agent.loop import Agent, Timing
from drago.agent.ownership import Ownership
from drago.agent.reconcile import Reconciler
from drago.errors import ConfigRefused, ServerUnavailable
from drago.render.config import NodeConfig
from drago.server.runtime.status import StatusReport
from tests.agent.factory import PEER_KEYS, FakeResolver, interface, node, peer, standard

Step = Callable[[str | None], NodeConfig | None]


class FakeServer:
    """Answers long-polls from a script of steps; sets ``stop`` when the script ends."""

    def __init__(self, steps: list[Step], stop: threading.Event) -> None:
        self.steps = steps
        self.stop = stop
        self.polls: list[tuple[str | None, float]] = []
        self.keys: list[tuple[str, str]] = []
        self.reports: list[dict[str, Any]] = []
        self.down = False

    def whoami(self) -> str:
        if self.down:
            raise ServerUnavailable("connection refused")
        return "ber-gw"

    def config(
        self, node: str, known_hash: str | None, wait: float, held: NodeConfig | None = None
    ) -> NodeConfig | None:
        self.polls.append((known_hash, wait))
        if not self.steps:
            self.stop.set()
            return None
        return self.steps.pop(0)(known_hash)

    def register_key(self, node: str, network: str, public_key: str) -> None:
        self.keys.append((network, public_key))

    def report_status(self, node: str, report: dict[str, Any]) -> None:
        self.reports.append(report)

    def server_in_use(self) -> str | None:
        return None

    def close(self) -> None:
        pass


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def make_agent(
    tmp_path: Path, steps: list[Step], resolver: FakeResolver | None = None
) -> tuple[Agent, FakeServer, FakeHost, threading.Event, Clock]:
    stop = threading.Event()
    server = FakeServer(steps, stop)
    host = FakeHost()
    keys = KeyStore(tmp_path)
    clock = Clock()
    endpoints = Endpoints(resolver or FakeResolver(), clock=clock, rng=lambda: 0)
    rec = Reconciler(host, host.links(), keys, Ownership(tmp_path), endpoints, rng=lambda: 0)
    agent = Agent(
        server,
        rec,
        keys,
        ConfigCache(tmp_path),
        Timing(),
        clock=clock,
        backoff=Backoff(rng=lambda: 0),
        retry_backoff=Backoff(rng=lambda: 0),
    )
    return agent, server, host, stop, clock


def test_new_hash_registers_keys_reconciles_caches_and_reports(tmp_path: Path) -> None:
    own = KeyStore(tmp_path).ensure("backbone")
    with_key = node(
        interface(peer("fra-1", "192.0.2.1:51820", ("10.20.0.2/32",)), public_key=own.public_key)
    )
    agent, server, host, stop, _ = make_agent(
        tmp_path, [lambda known: standard(), lambda known: with_key, lambda known: None]
    )
    agent.run(stop)
    assert server.polls[0] == (None, 0.0)
    assert server.polls[1][0] == standard().hash
    assert server.polls[2][0] == with_key.hash and server.polls[2][1] > 0
    assert server.keys == [("backbone", own.public_key)]  # only while the server lacked it
    assert list(host.read("wg-backbone").peers) == [PEER_KEYS["fra-1"].public_key]
    assert ConfigCache(tmp_path).load() == with_key
    report = server.reports[-1]
    assert report["applied_hash"] == with_key.hash
    assert "server" not in report  # one server: nothing to name (older servers refuse it)
    assert report["peers"][0]["name"] == "fra-1"
    assert report["peers"][0]["network"] == "backbone"
    assert own.private_key not in json.dumps(server.reports)
    for sent in server.reports:  # what the server accepts
        StatusReport.model_validate(sent)


def test_boot_reapplies_the_cache_without_the_server(tmp_path: Path) -> None:
    ConfigCache(tmp_path).save(standard())
    agent, server, host, stop, _ = make_agent(tmp_path, [])
    server.down = True
    delays: list[float] = []

    def wait(timeout: float | None = None) -> bool:
        delays.append(timeout or 0)
        if len(delays) == 4:
            stop.set()
        return stop.is_set()

    stop.wait = wait  # type: ignore[method-assign]
    agent.run(stop)
    assert set(host.read("wg-backbone").peers) == {
        PEER_KEYS["fra-1"].public_key,
        PEER_KEYS["nyc-1"].public_key,
    }
    assert delays == [0.5, 1.0, 2.0, 4.0]  # exponential (jitter pinned to its low end)


def test_backoff_jitter_and_cap() -> None:
    backoff = Backoff(initial=1, maximum=8, rng=lambda: 1.0)
    assert [backoff.next() for _ in range(6)] == [1, 2, 4, 8, 8, 8]
    backoff.reset()
    low = Backoff(initial=1, maximum=8, rng=lambda: 0.0)
    assert low.next() == 0.5


def test_drift_check_runs_without_a_server_request(tmp_path: Path) -> None:
    timing = Timing(poll_wait=25, drift_interval=60, status_interval=30)
    agent, server, host, stop, clock = make_agent(tmp_path, [lambda known: standard()])

    def hand_edit_then_time_passes(known: str | None) -> None:
        host.delete("wg-backbone")  # someone removed the whole interface
        clock.now += 61
        return None

    server.steps.append(hand_edit_then_time_passes)
    agent.timing = timing
    agent.run(stop)
    assert host.exists("wg-backbone")
    # the long-poll wait never outlasts the next periodic duty
    assert all(wait <= 30 for _, wait in server.polls)


def test_rotated_key_is_registered_then_promoted(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path)
    old = keys.ensure("backbone")
    new = keys.rotate("backbone")
    before = node(interface(peer("fra-1"), public_key=old.public_key))
    after = node(interface(peer("fra-1"), public_key=new.public_key))
    agent, server, host, stop, _ = make_agent(tmp_path, [lambda known: before, lambda known: after])
    agent.run(stop)
    assert server.keys == [("backbone", new.public_key)]
    assert keys.get("backbone") == new and keys.pending("backbone") is None
    assert host.read("wg-backbone").public_key == new.public_key


def test_once_raises_when_the_server_is_down(tmp_path: Path) -> None:
    agent, server, _, _, _ = make_agent(tmp_path, [])
    server.down = True
    with pytest.raises(ServerUnavailable):
        agent.once()


def test_a_sync_cut_short_by_the_server_is_retried(tmp_path: Path) -> None:
    agent, server, host, stop, _ = make_agent(
        tmp_path, [lambda known: standard(), lambda known: standard() if known is None else None]
    )
    calls: list[str] = []

    def flaky(node: str, network: str, public_key: str) -> None:
        calls.append(public_key)
        if len(calls) == 1:
            raise ServerUnavailable("server answered 503")

    server.register_key = flaky  # type: ignore[method-assign]
    stop.wait = lambda timeout=None: stop.is_set()  # type: ignore[method-assign]
    agent.run(stop)
    assert server.polls[1][0] is None  # the hash was not taken as known
    assert len(calls) == 2
    assert host.exists("wg-backbone")


def record_waits(stop: threading.Event) -> list[float]:
    """Make ``stop.wait`` return at once, recording each delay asked for."""
    delays: list[float] = []

    def wait(timeout: float | None = None) -> bool:
        delays.append(timeout or 0)
        return stop.is_set()

    stop.wait = wait  # type: ignore[method-assign]
    return delays


def test_a_failed_apply_is_retried_from_memory_while_the_long_poll_goes_on(
    tmp_path: Path,
) -> None:
    agent, server, host, stop, clock = make_agent(tmp_path, [lambda known: standard()])
    host.create("wg-backbone")
    agent.reconciler.ownership.add("wg-backbone", "backbone")
    host.failing["wg-backbone"] = "errno=-22"

    def device_heals_and_the_retry_is_due(known: str | None) -> None:
        del host.failing["wg-backbone"]
        clock.now += 0.5
        return None

    server.steps.append(device_heals_and_the_retry_is_due)
    delays = record_waits(stop)
    agent.run(stop)
    failed, retried = server.reports[0], server.reports[1]
    assert failed["applied_hash"] is None and failed["applied_revision"] is None
    assert standard().hash in failed["errors"][0]
    assert "wg-backbone: errno=-22" in failed["errors"]
    # the hash is known: the long-poll goes on, held only until the retry is due
    assert server.polls[1] == (standard().hash, 0.5)
    assert delays == []  # never a sleep without a long-poll
    assert retried["applied_hash"] == standard().hash and retried["errors"] == []
    for sent in server.reports:
        StatusReport.model_validate(sent)


def test_the_last_clean_config_stays_applied_when_the_next_one_fails(tmp_path: Path) -> None:
    first = node(interface(peer("fra-1")), revision="r1")
    second = node(interface(peer("fra-1"), peer("nyc-1")), revision="r2")
    agent, server, host, stop, _ = make_agent(
        tmp_path, [lambda known: first, lambda known: second, lambda known: None]
    )
    delays = record_waits(stop)

    def fail_then_apply(known: str | None) -> NodeConfig:
        host.failing["wg-backbone"] = "errno=-22"
        return second

    server.steps[1] = fail_then_apply
    agent.run(stop)
    report = server.reports[-1]
    assert report["applied_hash"] == first.hash and report["applied_revision"] == "r1"
    assert "(revision r2) is not applied cleanly" in report["errors"][0]
    assert server.polls[2] == (second.hash, 0.5)
    assert delays == []


def test_a_failed_drift_repair_withdraws_the_applied_hash(tmp_path: Path) -> None:
    agent, server, host, stop, clock = make_agent(tmp_path, [lambda known: standard()])

    def hand_edit_then_time_passes(known: str | None) -> None:
        host.delete("wg-backbone")
        host.fail_next["wg-backbone"] = "errno=-22"
        clock.now += 61
        return None

    server.steps.append(hand_edit_then_time_passes)
    agent.run(stop)
    assert server.reports[0]["applied_hash"] == standard().hash
    assert server.reports[-1]["applied_hash"] is None
    assert "wg-backbone: errno=-22" in server.reports[-1]["errors"]


def test_a_config_that_keeps_failing_is_retried_with_growing_delays(tmp_path: Path) -> None:
    agent, server, host, stop, clock = make_agent(tmp_path, [lambda known: standard()])
    host.create("wg-backbone")  # someone else's interface: never touched

    def time_passes_until_the_retry(known: str | None) -> None:
        assert agent.retry_at is not None
        clock.now = agent.retry_at
        return None

    server.steps.extend([time_passes_until_the_retry] * 5)
    delays = record_waits(stop)
    agent.run(stop)
    assert [known for known, _ in server.polls] == [None] + [standard().hash] * 6
    assert [wait for _, wait in server.polls[1:6]] == [0.5, 1.0, 2.0, 4.0, 8.0]
    assert delays == []
    assert all(r["applied_hash"] is None for r in server.reports)
    assert host.read("wg-backbone").peers == {}


def test_a_new_config_preempts_a_retry_wait(tmp_path: Path) -> None:
    broken = node(interface(peer("fra-1")), revision="r1")
    fixed = node(interface(peer("fra-1"), ifname="wg-bb"), revision="r2")
    agent, server, host, stop, clock = make_agent(
        tmp_path, [lambda known: broken, lambda known: fixed]
    )
    host.create("wg-backbone")  # someone else's interface: r1 cannot apply
    agent.retry_backoff = Backoff(initial=30, rng=lambda: 1.0)
    delays = record_waits(stop)
    agent.run(stop)
    assert server.polls[1] == (broken.hash, 25.0)  # long-polling during the 30 s retry wait
    assert server.reports[1]["applied_hash"] == fixed.hash  # applied as soon as it came
    assert clock.now == 0 and delays == []
    assert agent.retry_at is None


def test_an_unresolvable_peer_is_reported_per_peer_and_the_config_counts_as_applied(
    tmp_path: Path,
) -> None:
    config = node(
        interface(
            peer("fra-1", "192.0.2.1:51820", ("10.20.0.2/32",)),
            peer("nyc-1", "unreachable.invalid:51820", ("10.20.0.3/32",)),
        )
    )
    resolver = FakeResolver()
    agent, server, host, stop, clock = make_agent(tmp_path, [lambda known: config], resolver)

    def dns_heals_and_the_retry_is_due(known: str | None) -> None:
        resolver.names["unreachable.invalid"] = "192.0.2.3"
        clock.now += 0.5
        return None

    server.steps.append(dns_heals_and_the_retry_is_due)
    delays = record_waits(stop)
    agent.run(stop)
    first, healed = server.reports[0], server.reports[1]
    assert first["applied_hash"] == config.hash and first["errors"] == []
    peers = {p["name"]: p for p in first["peers"]}
    assert "problem" not in peers["fra-1"]
    assert peers["nyc-1"]["endpoint"] is None
    assert peers["nyc-1"]["problem"].startswith(
        "endpoint unresolved: unreachable.invalid:51820: [Errno -2] Name or service not known"
    )
    assert server.polls[1] == (config.hash, 0.5)  # long-polls until its retry is due
    assert delays == []
    assert healed["applied_hash"] == config.hash
    assert all("problem" not in p for p in healed["peers"])
    nyc = host.read("wg-backbone").peers[PEER_KEYS["nyc-1"].public_key]
    assert nyc.endpoint == "192.0.2.3:51820"
    for sent in server.reports:
        StatusReport.model_validate(sent)


def test_a_refused_peer_is_reported_even_when_it_is_not_on_the_device(tmp_path: Path) -> None:
    agent, server, host, stop, _ = make_agent(tmp_path, [lambda known: standard()])
    host.refuse[PEER_KEYS["nyc-1"].public_key] = "the device rejected the request (errno=-22)"
    agent.run(stop)
    report = server.reports[0]
    assert report["applied_hash"] == standard().hash and report["errors"] == []
    nyc = next(p for p in report["peers"] if p["name"] == "nyc-1")
    assert nyc == {
        "network": "backbone",
        "name": "nyc-1",
        "public_key": PEER_KEYS["nyc-1"].public_key,
        "problem": "refused by the device: the device rejected the request (errno=-22)",
    }
    StatusReport.model_validate(report)


def test_a_cached_config_that_fails_at_boot_is_asked_for_again(tmp_path: Path) -> None:
    ConfigCache(tmp_path).save(standard())
    agent, server, host, stop, _ = make_agent(tmp_path, [lambda known: standard()])
    host.fail_next["wg-backbone"] = "errno=-22"
    agent.run(stop)
    assert server.polls[0] == (None, 0.0)
    assert server.reports[-1]["applied_hash"] == standard().hash


def test_a_new_config_preempts_a_peer_retry_wait(tmp_path: Path) -> None:
    bad = node(interface(peer("nyc-1", "unreachable.invalid:51820")), revision="r1")
    good = node(interface(peer("nyc-1", "192.0.2.2:51820")), revision="r2")
    agent, server, host, stop, clock = make_agent(tmp_path, [lambda known: bad, lambda known: good])
    delays = record_waits(stop)
    agent.run(stop)
    assert server.polls[1] == (bad.hash, 0.5)  # long-polling while the peer waits for its retry
    assert server.reports[0]["applied_hash"] == bad.hash
    assert server.reports[1]["applied_hash"] == good.hash  # applied as soon as it came
    assert all("problem" not in p for p in server.reports[1]["peers"])
    assert host.read("wg-backbone").peers[PEER_KEYS["nyc-1"].public_key].endpoint == (
        "192.0.2.2:51820"
    )
    assert clock.now == 0 and delays == [] and agent.retry_at is None


def test_a_refused_config_keeps_the_applied_one_reports_why_and_waits_for_the_next(
    tmp_path: Path,
) -> None:
    good = standard()
    served = "ab" * 32

    def refused(known: str | None) -> NodeConfig | None:
        raise ConfigRefused("refused the config from the server: endpoint: x", served=served)

    fixed = node(interface(peer("fra-1")), revision="r2")
    agent, server, _, stop, _ = make_agent(
        tmp_path, [lambda known: good, refused, lambda known: fixed]
    )
    delays = record_waits(stop)
    agent.run(stop)
    assert server.polls[2][0] == served  # holds for the next config, never re-asks
    assert delays == []
    refusal = server.reports[1]
    assert refusal["applied_hash"] == good.hash  # the previous config stays applied
    assert refusal["errors"][0].startswith("refused the config from the server")
    assert server.reports[-1]["applied_hash"] == fixed.hash
    assert server.reports[-1]["errors"] == []


def test_a_refused_config_without_a_hash_is_asked_for_again_after_a_backoff(
    tmp_path: Path,
) -> None:
    def refused(known: str | None) -> NodeConfig | None:
        raise ConfigRefused("refused the config from the server: hash: bad")

    agent, server, _, stop, _ = make_agent(
        tmp_path, [lambda known: standard(), refused, lambda known: None]
    )
    delays = record_waits(stop)
    agent.run(stop)
    assert delays == [0.5]
    assert server.polls[2][0] == standard().hash


def test_run_outlives_a_hostile_node_name_and_server_text(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """whoami naming a node outside the grammar and error text with a line break and an
    escape: the agent logs them escaped, retries, and syncs once the server is sane."""
    answers = iter(["n1\n", "n1/../../tokens?x=", "ber-gw"])
    config = standard()
    paths: list[str] = []
    stop = threading.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        if request.url.path == "/api/v1/whoami":
            return httpx.Response(200, json={"node": next(answers)})
        if len([p for p in paths if p.endswith("/config")]) == 1:
            message = "bad\nINFO:drago.agent:node n1 in sync\x1b[2K"
            return httpx.Response(400, json={"error": {"code": "x", "message": message}})
        stop.set()
        return httpx.Response(200, content=config.to_json(), headers={"ETag": f'"{config.hash}"'})

    agent, _, _, _, _ = make_agent(tmp_path, [])
    agent.client = HttpClient("http://drago.test", "t", transport=httpx.MockTransport(handler))
    delays = record_waits(stop)
    with caplog.at_level("INFO", logger="drago.agent"):
        agent.run(stop)
    assert agent.node == "ber-gw"
    assert agent.config == config
    assert delays == [0.5, 1.0, 2.0]  # two refused names, one refused request
    assert all("\n" not in p and ".." not in p for p in paths)
    for record in caplog.records:
        assert record.getMessage().isprintable(), record.getMessage()
