"""The heaviest request a reader can make, against a real ``drago server``: a dry
run of 2,000 new nodes joining a full mesh. It ends within 15 s (an answer or a
4xx naming a limit), grows the server by under 500 MB, and ``/healthz`` answers
within 1 s throughout (issue 9, section 3; figures in ``docs/reliability.md``).
Afterwards the server gives the memory back."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.server.joining import joining_nodes
from tests.server.process import ServerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(180)]

JOINING = 2000
MB = 1 << 20


def rss(pid: int) -> int:
    """Resident memory of process ``pid`` in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


class Watch:
    """Polls ``/healthz`` and the server's RSS in a thread while a request runs."""

    def __init__(self, url: str, pid: int) -> None:
        self.url, self.pid = url, pid
        self.base = self.peak = rss(pid)
        self.slowest = 0.0
        self.polls = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    answer = client.get(self.url + "/healthz")
                    if answer.status_code != 200:
                        self.failures.append(f"/healthz answered {answer.status_code}")
                except httpx.HTTPError as exc:
                    self.failures.append(f"/healthz failed: {exc!r}")
                self.slowest = max(self.slowest, time.monotonic() - started)
                self.polls += 1
                self.peak = max(self.peak, rss(self.pid))
                self._stop.wait(0.05)

    def __enter__(self) -> Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(35)


@pytest.fixture
def server(tmp_path: Path, example_repo: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path / "data", "--init-from", str(example_repo)).start()
    try:
        yield process
    finally:
        process.stop()


def test_a_reader_validating_2000_joining_nodes_cannot_exhaust_the_server(
    server: ServerProcess,
) -> None:
    admin = {"Authorization": f"Bearer {server.bootstrap}"}
    made = httpx.post(server.url + "/api/v1/tokens", json={"role": "reader"}, headers=admin)
    assert made.status_code == 201, made.text
    reader = {"Authorization": f"Bearer {made.json()['secret']}"}
    body = json.dumps({"changes": joining_nodes(JOINING)})
    assert server.proc is not None
    with Watch(server.url, server.proc.pid) as watch:
        time.sleep(0.3)  # a few polls before, for the baseline
        started = time.monotonic()
        answer = httpx.post(
            server.url + "/api/v1/validate",
            content=body,
            headers={**reader, "Content-Type": "application/json"},
            timeout=120,
        )
        took = time.monotonic() - started
        time.sleep(0.3)
    grown = watch.peak - watch.base
    kept = rss(server.proc.pid) - watch.base
    print(
        f"validate of {JOINING} joining nodes: {answer.status_code} in {took:.1f} s,"
        f" answer {len(answer.content) / 1000:.0f} kB, server +{grown / MB:.0f} MB"
        f" (peak {watch.peak / MB:.0f} MB, +{kept / MB:.0f} MB after),"
        f" slowest /healthz {watch.slowest * 1000:.0f} ms of {watch.polls}"
    )
    if answer.status_code == 200:
        result = answer.json()
        assert result["valid"] is True
        assert result["plan"]["counts"]["added"] == JOINING
        assert result["plan"]["complete"] is False
    else:
        assert 400 <= answer.status_code < 500, answer.text
        assert "(max_" in answer.json()["error"]["message"]  # names the limit
    assert took < 15, f"the validate took {took:.1f} s"
    assert grown < 500 * MB, f"the server grew by {grown / MB:.0f} MB"
    assert kept < 100 * MB, f"the server kept {kept / MB:.0f} MB after the answer"
    assert watch.failures == []
    assert watch.polls >= 10
    assert watch.slowest < 1.0, f"/healthz took {watch.slowest:.2f} s"
