"""Push-check benchmark: a signed push touching 100 files of a 1,000-node repository.

Run ``python benchmarks/push_check.py`` (``--nodes N``, ``--files F``,
``--repeat K``, ``--no-write``). Each round changes the endpoint of F nodes in
a clone, commits with an SSH signature, and measures

- the push check alone (signature of every new commit, validation of the new
  tree, fast-forward), in process, on objects the server has not validated yet;
- the whole ``git push`` to the live branch (pack upload, quarantine, check,
  ref move, the new revision going live).

Figures go to the ``bench:git`` section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from git_clone import (
    drago_server,
    git_env,
    node_name,
    node_text,
    write_repository,
    write_section,
)

from drago.server.git.check import PushCheck, RefUpdate
from drago.signing import PublicKey


def git(env: dict[str, str], cwd: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    if proc.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def run(nodes: int, files: int, repeat: int) -> tuple[list[float], list[float]]:
    checks: list[float] = []
    pushes: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_repository(root / "source", nodes)
        key = root / "id_ed25519"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        (root / ".gitconfig").write_text(
            "[user]\n  name = Bench\n  email = bench@example.com\n"
            f"  signingkey = {key}\n[gpg]\n  format = ssh\n"
        )
        env = git_env(root)
        with drago_server(root / "data", root / "source") as (ctx, port, token):
            public, _ = PublicKey.from_line(key.with_suffix(".pub").read_text())
            ctx.trust.signers.add("bench@example.com", public)
            work = root / "work"
            git(env, root, "clone", "-q", f"http://x:{token}@127.0.0.1:{port}/repo.git", str(work))
            for round_ in range(repeat):
                step = max(1, nodes // files)
                for index in range(1, nodes, step)[:files]:
                    endpoint = f"r{round_}-{index}.example.net"
                    (work / "nodes" / f"{node_name(index)}.toml").write_text(
                        node_text(index, endpoint)
                    )
                git(env, work, "commit", "-q", "-S", "-am", f"round {round_}: {files} endpoints")
                new = git(env, work, "rev-parse", "HEAD").strip()
                git(env, work, "push", "-q", "origin", f"HEAD:refs/heads/bench-{round_}")
                old = ctx.store.head("main")
                # The pushed objects are in the repository (a review branch): a view
                # of its object store reads them as a quarantine would.
                # With the server's validator, as receive-pack checks a push.
                check = PushCheck(
                    ctx.store.view(ctx.store.repo.object_store),
                    ctx.trust,
                    live_branch="main",
                    validator=ctx.validator,
                )
                start = time.perf_counter()
                verdict = check.check(RefUpdate("refs/heads/main", old, new))
                checks.append(time.perf_counter() - start)
                if not verdict.ok:
                    raise SystemExit(f"the push check refused the change: {verdict.reason}")
                start = time.perf_counter()
                git(env, work, "push", "-q", "origin", "HEAD:main")
                pushes.append(time.perf_counter() - start)
                if ctx.live.revision != new:
                    raise SystemExit("the pushed revision did not go live")
    return checks, pushes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    checks, pushes = run(args.nodes, args.files, args.repeat)
    rows = [
        f"| push check of a signed commit touching {args.files} files, {args.nodes:,} nodes, "
        f"median of {args.repeat} | {statistics.median(checks) * 1000:.0f} ms "
        f"(max {max(checks) * 1000:.0f} ms) | - |",
        f"| `git push` of that commit to main until live, median of {args.repeat} "
        f"| {statistics.median(pushes) * 1000:.0f} ms (max {max(pushes) * 1000:.0f} ms) | - |",
    ]
    for row in rows:
        print(row)
    if not args.no_write:
        write_section(rows)


if __name__ == "__main__":
    os.environ.setdefault("GIT_CONFIG_NOSYSTEM", "1")
    main()
