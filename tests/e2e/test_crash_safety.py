"""SIGKILL a real server hundreds of times mid-write: it restarts, writes and loses nothing.

Every round starts ``drago server`` on the same data directory and checks it
before anything else touches it: it started (no manual repair, ever), ``git
fsck`` is clean, every write acknowledged so far is there, the live revision
is the branch head and valid, and a write succeeds. Then writers run at once
against it, each with short random pauses (status reports always; API file
writes and key registrations, signed ``git push``es, or all of them), and the
server gets a SIGKILL after a random delay: one kill per start. Starts are
cheap (servers are forked from a process that has imported drago): the whole
run took about three minutes on two cores shared with other test runs.

Reproduce a run with ``DRAGO_CRASH_SEED`` (and ``DRAGO_CRASH_KILLS``); the
figures are printed at the end (``pytest -s``).
"""

from __future__ import annotations

import base64
import os
import random
import re
import signal
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from dulwich.objects import Blob, Commit, Tree
from dulwich.repo import Repo

from tests.server.forked import ForkedServer, ServerForker
from tests.server.git.gitenv import GitUser
from tests.server.process import drago_command

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SEED = int(os.environ.get("DRAGO_CRASH_SEED", "9"))
KILLS = int(os.environ.get("DRAGO_CRASH_KILLS", "200"))
#: The kill comes this long (at most) after the writers start.
MAX_KILL_DELAY = 0.4
#: Pauses between two writes of a writer (seconds): a few commits per server
#: lifetime through the API, status reports as fast as they can.
COMMIT_PAUSE = (0.05, 0.25)
FAST_PAUSE = (0.0, 0.03)
#: Who writes in a round besides the status reports: all at once in half the rounds;
#: pushes alone (they lose most races against API commits) or API commits alone
#: in the others.
MIXES = (("api", "push"), ("api", "push"), ("push",), ("api",))

API_NODE = "laptop-ben"  # its file is rewritten through the API
KEY_NODE, KEY_NETWORK = "sgp-1", "backbone"  # registers keys and reports status
PUSH_FILE = "nodes/nyc-1.toml"  # signed pushes append a comment to it
REMOVED = re.compile(r"WARNING drago\.server: removed (\S+) \(left by an interrupted write\)")


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@dataclass(frozen=True)
class Acked:
    """A commit the server acknowledged, and what it wrote."""

    kind: str
    revision: str
    path: str
    needle: bytes


@dataclass
class Ledger:
    """Everything acknowledged (2xx, or a push git reported as accepted) and every surprise."""

    commits: list[Acked] = field(default_factory=list)
    pushes: list[str] = field(default_factory=list)
    report: int = 0  # number of the latest acknowledged status report
    reports: int = 0  # how many status reports were acknowledged
    problems: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # leftovers the server cleared at start
    checked: int = 0  # commits[:checked] were found with their content already
    _counter: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def number(self) -> int:
        with self._lock:
            self._counter += 1
            return self._counter

    def acked_report(self, number: int) -> None:
        with self._lock:
            self.report = max(self.report, number)
            self.reports += 1

    def count(self, kind: str) -> int:
        return sum(1 for c in self.commits if c.kind == kind)


@dataclass
class Round:
    """One server lifetime: its URL and whether the kill is under way."""

    url: str
    admin: str
    node: str
    ledger: Ledger
    #: One TLS context for every client: building one per client (certifi) costs ~0.1 s.
    tls: ssl.SSLContext
    killing: threading.Event = field(default_factory=threading.Event)

    def client(self, token: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=auth(token), timeout=15, verify=self.tls)

    def failed(self, what: str) -> None:
        """A writer failed: fine once the kill is under way, a problem before."""
        if not self.killing.is_set():
            self.ledger.problems.append(what)


def api_write(client: httpx.Client, ledger: Ledger, template: str) -> httpx.Response:
    number = ledger.number()
    needle = f"api write {number}"
    text = template.replace("Ben's laptop", needle)
    answer = client.put(f"/api/v1/nodes/{API_NODE}", json={"toml": text})
    if answer.status_code == 200:
        ledger.commits.append(
            Acked("api", answer.json()["revision"], f"nodes/{API_NODE}.toml", needle.encode())
        )
    return answer


def key_write(client: httpx.Client, ledger: Ledger) -> httpx.Response:
    key = base64.b64encode(os.urandom(32)).decode()
    answer = client.put(f"/api/v1/nodes/{KEY_NODE}/keys/{KEY_NETWORK}", json={"public_key": key})
    if answer.status_code == 200:
        ledger.commits.append(
            Acked("key", answer.json()["revision"], f"keys/{KEY_NODE}.toml", key.encode())
        )
    return answer


def status_write(client: httpx.Client, ledger: Ledger) -> httpx.Response:
    number = ledger.number()
    answer = client.put(f"/api/v1/nodes/{KEY_NODE}/status", json={"errors": [f"report {number}"]})
    if answer.status_code == 200:
        ledger.acked_report(number)
    return answer


def http_writer(
    run: Round,
    token: str,
    seed: int,
    pause: tuple[float, float],
    write: Callable[[httpx.Client], httpx.Response],
) -> Callable[[threading.Event], None]:
    def loop(stop: threading.Event) -> None:
        rng = random.Random(seed)
        with run.client(token) as client:
            while not stop.wait(rng.uniform(*pause)):
                try:
                    answer = write(client)
                except httpx.TransportError as exc:
                    run.failed(f"{write}: {exc!r}")
                    return
                if answer.status_code not in (200, 409):
                    run.ledger.problems.append(f"{answer.request.url}: {answer.text}")
                    return

    return loop


MAX_REFUSED_FETCHES = 20
RACE_LOST = ("non-fast-forward", "fetch first", "moved meanwhile", "moved while")


class Pusher:
    """Signed pushes from a clone: commit on top of the branch as fetched, push, repeat.

    The first commit is prepared before the writers start, so the first push of a
    round has a chance against the API commits that follow within milliseconds.
    """

    def __init__(self, run: Round, user: GitUser, work: Path, seed: int) -> None:
        self.run = run
        self.user = user
        self.work = work
        self.rng = random.Random(seed)
        self.remote = f"{run.url}/repo.git"
        # Credentials sent up front: in the URL, git would ask once without them first.
        basic = base64.b64encode(f"x:{run.admin}".encode()).decode()
        self.auth = ("-c", f"http.extraHeader=Authorization: Basic {basic}")
        self.commit = ""

    def prepare(self) -> bool:
        """Fetch the branch and commit a signed change on top; False once the kill began."""
        git, work = self.user.git, self.work
        for _ in range(MAX_REFUSED_FETCHES):
            fetched = git(*self.auth, "fetch", "-q", self.remote, "main", cwd=work, check=False)
            if fetched.code == 0:
                break
            # A fetch racing a write may be refused (the tip it was shown moved on
            # before it asked for it): a read to retry, not a write that failed.
            if self.run.killing.is_set():
                return False
        else:
            self.run.failed(f"fetch: {fetched.text}")
            return False
        git("reset", "-q", "--hard", "FETCH_HEAD", cwd=work)
        number = self.run.ledger.number()
        target = work / PUSH_FILE
        target.write_text(target.read_text() + f"# push {number}\n")
        git("commit", "-q", "-S", "-am", f"push {number}", cwd=work)
        self.commit = git("rev-parse", "HEAD", cwd=work).out.strip()
        return True

    def push(self) -> bool:
        """Push the prepared commit; False when it failed for another reason than a lost race."""
        pushed = self.user.git(
            *self.auth, "push", "-q", self.remote, "HEAD:main", cwd=self.work, check=False
        )
        if pushed.code == 0:
            self.run.ledger.pushes.append(self.commit)
        elif not any(reason in pushed.text for reason in RACE_LOST):
            self.run.failed(f"push: {pushed.text}")
            return False
        return True

    def __call__(self, stop: threading.Event) -> None:
        while not stop.is_set() and self.push():
            time.sleep(self.rng.uniform(*FAST_PAUSE))
            if stop.is_set() or not self.prepare():
                return


def fsck(repository: Path) -> None:
    result = subprocess.run(
        ["git", "fsck", "--strict", "--no-dangling", "--no-progress"],
        cwd=repository,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def head_and_ancestors(repository: Path) -> tuple[str, set[str]]:
    listed = subprocess.run(
        ["git", "rev-list", "refs/heads/main"],
        cwd=repository,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split()
    return listed[0], set(listed)


def file_at(repo: Repo, revision: str, path: str) -> bytes:
    commit = repo[revision.encode()]
    assert isinstance(commit, Commit)
    tree = repo[commit.tree]
    assert isinstance(tree, Tree)
    _, blob_id = tree.lookup_path(repo.__getitem__, path.encode())
    blob = repo[blob_id]
    assert isinstance(blob, Blob)
    return blob.data


def check_acknowledged(repository: Path, ledger: Ledger) -> str:
    """Every acknowledged commit is in main's history with its content; returns the head."""
    head, ancestors = head_and_ancestors(repository)
    lost = [c for c in ledger.commits if c.revision not in ancestors]
    lost_pushes = [sha for sha in ledger.pushes if sha not in ancestors]
    assert not lost and not lost_pushes, f"lost: {lost} {lost_pushes}"
    repo = Repo(str(repository))
    try:
        for acked in ledger.commits[ledger.checked :]:
            assert acked.needle in file_at(repo, acked.revision, acked.path), acked
    finally:
        repo.close()
    ledger.checked = len(ledger.commits)
    return head


def check_live(client: httpx.Client, head: str) -> None:
    """The server serves the branch head as its live revision, and it is valid."""
    deadline = time.monotonic() + 15
    while True:
        live = client.get("/api/v1/live").json()
        if live["revision"] == head and live["status"] == "ok":
            return
        assert time.monotonic() < deadline, live
        time.sleep(0.02)


def check_round(run: Round, server: ForkedServer, data: Path) -> None:
    """What must hold after every restart, before any writer touches the server."""
    ledger = run.ledger
    ledger.removed.extend(REMOVED.findall(server.output))
    repository = data / "repo.git"
    fsck(repository)
    head = check_acknowledged(repository, ledger)
    with run.client(run.admin) as client:
        check_live(client, head)
    with run.client(run.node) as client:
        status = client.get(f"/api/v1/nodes/{KEY_NODE}/status").json()
    reported = [int(e.split()[1]) for e in status["errors"] if e.startswith("report ")]
    assert ledger.report == 0 or (reported and reported[0] >= ledger.report), status


def leftover_kinds(removed: list[str]) -> dict[str, int]:
    """How many of each kind of leftover the server removed at its starts."""
    kinds: dict[str, int] = {}
    for path in removed:
        name = Path(path).name
        if name.startswith("incoming-"):
            kind = "push quarantines"
        elif "/refs/" in path or name in ("HEAD.lock", "packed-refs.lock"):
            kind = "ref locks"
        elif name.endswith(".lock"):
            kind = "object and pack locks"
        else:
            kind = "unfinished packs"
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


@pytest.fixture
def forker() -> ServerForker:
    return ServerForker()


@contextmanager
def writing(writers: list[Callable[[threading.Event], None]]) -> Iterator[None]:
    """The writers run in threads inside the block, and are stopped and joined after it."""
    stop = threading.Event()
    threads = [threading.Thread(target=w, args=(stop,), daemon=True) for w in writers]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
    for thread in threads:
        thread.join(60)
        assert not thread.is_alive(), "a writer hung after the kill"


# About three minutes on two cores shared with other test runs: room above the
# suite's default of 300 s, so that a busier machine does not fail it.
@pytest.mark.timeout(600)
def test_sigkill_during_writes_never_needs_repair_nor_loses_an_acknowledged_write(
    tmp_path: Path, example_repo: Path, forker: ServerForker
) -> None:
    rng = random.Random(SEED)
    data = tmp_path / "data"
    logs = tmp_path / "logs"
    logs.mkdir()
    alice = GitUser.create(tmp_path / "alice", "alice@example.com")
    work = tmp_path / "work"
    ledger = Ledger()
    template = (example_repo / "nodes" / f"{API_NODE}.toml").read_text()
    tls = ssl.create_default_context()
    started = time.monotonic()

    server = forker.start(data, logs / "0.log", "--init-from", str(example_repo))
    server.wait_listening()
    admin = (data / "bootstrap-token").read_text().strip()
    # The offline commands work beside a running server.
    node = subprocess.run(
        drago_command("token", "create", "--data", str(data), "--role", "node", "--node", KEY_NODE),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    subprocess.run(
        drago_command(
            "signers", "add", "--data", str(data), "--principal", alice.email, str(alice.pubkey)
        ),
        capture_output=True,
        check=True,
        timeout=60,
    )
    alice.git("clone", "-q", server.url.replace("http://", f"http://x:{admin}@") + "/repo.git",
              str(work))  # fmt: skip

    for kill in range(KILLS + 1):
        if kill:
            server = forker.start(data, logs / f"{kill}.log")
            server.wait_listening()
        run = Round(server.url, admin, node, ledger, tls)
        check_round(run, server, data)
        with run.client(admin) as client:
            assert api_write(client, ledger, template).status_code == 200
        with run.client(node) as client:
            assert status_write(client, ledger).status_code == 200
        if kill == KILLS:
            assert server.terminate() in (0, -signal.SIGTERM), server.output
            break
        seeds = [rng.getrandbits(32) for _ in range(4)]
        mix = rng.choice(MIXES)
        writers = [
            http_writer(run, node, seeds[0], FAST_PAUSE, lambda c: status_write(c, ledger)),
        ]
        if "api" in mix:
            writers += [
                http_writer(
                    run, admin, seeds[1], COMMIT_PAUSE, lambda c: api_write(c, ledger, template)
                ),
                http_writer(run, node, seeds[2], COMMIT_PAUSE, lambda c: key_write(c, ledger)),
            ]
        if "push" in mix:
            pusher = Pusher(run, alice, work, seeds[3])
            assert pusher.prepare(), ledger.problems
            writers.append(pusher)
        delay = rng.uniform(0, MAX_KILL_DELAY)
        with writing(writers):
            time.sleep(delay)
            run.killing.set()
            server.kill()
        assert not ledger.problems, ledger.problems

    took = time.monotonic() - started
    assert ledger.count("api") and ledger.count("key") and ledger.reports and ledger.pushes
    cleared = ", ".join(f"{n} {kind}" for kind, n in sorted(leftover_kinds(ledger.removed).items()))
    print(
        f"\ncrash safety (seed {SEED}): {KILLS} SIGKILLs in {took:.0f} s; acknowledged: "
        f"{ledger.count('api')} API writes, {ledger.count('key')} key registrations, "
        f"{ledger.reports} status reports, {len(ledger.pushes)} signed pushes; "
        f"lost: 0; manual repairs: 0; cleared by the server at start: {cleared or 'nothing'}"
    )
