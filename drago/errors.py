"""The one error hierarchy of drago.

Every error a user can cause is a :class:`DragoError`. Errors are converted at
exactly two boundaries: the HTTP layer (``drago.server.errors`` maps each class
to a status code and the JSON shape ``{"error": {"code", "message", "details"}}``)
and the CLI (``DragoError`` -> exit 1).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


class DragoError(Exception):
    """Base class of every error drago reports to a user."""

    code = "error"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


@dataclass(frozen=True, order=True)
class Problem:
    """One validation problem: the file, the key path inside it, and what is wrong."""

    path: str
    key: str
    message: str

    def __str__(self) -> str:
        if not self.path:
            return self.message
        if self.key:
            return f"{self.path}: {self.key}: {self.message}"
        return f"{self.path}: {self.message}"

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "key": self.key, "message": self.message}


#: A ConfigError lists at most this many problems, then one saying how many more.
MAX_PROBLEMS = 1000


def more_problems(count: int) -> Problem:
    """The last problem of a list cut at :data:`MAX_PROBLEMS` (no path)."""
    return Problem("", "", f"... and {count} more problems")


class ConfigError(DragoError):
    """The desired state is invalid: one or more problems, each naming file and key.

    At most :data:`MAX_PROBLEMS` are kept (the first in path order), followed by
    :func:`more_problems`; a list that was cut before keeps its last problem."""

    code = "invalid_config"

    def __init__(self, problems: Iterable[Problem]) -> None:
        found = sorted(set(problems))
        cut = [p for p in found if not p.path]  # an earlier cut's count
        listed = [p for p in found if p.path]
        if len(listed) > MAX_PROBLEMS:
            cut = [more_problems(len(listed) - MAX_PROBLEMS)]
            listed = listed[:MAX_PROBLEMS]
        self.problems: Sequence[Problem] = listed + cut
        lines = [str(p) for p in self.problems]
        if len(lines) == 1:
            message = lines[0]
        else:
            count = f"{len(listed)}+" if cut else str(len(lines))
            message = f"{count} problems:\n" + "\n".join(f"  {line}" for line in lines)
        super().__init__(message, details=[p.as_dict() for p in self.problems])

    @classmethod
    def single(cls, path: str, key: str, message: str) -> ConfigError:
        return cls([Problem(path, key, message)])


class InvalidRequest(DragoError):
    """A request or command-line argument is malformed."""

    code = "invalid_request"


class InvalidBody(InvalidRequest):
    """A request body is JSON of the wrong shape or type (malformed JSON is an InvalidRequest)."""


class NotFound(DragoError):
    code = "not_found"


class Conflict(DragoError):
    """A compare-and-swap failed: the base revision is stale, or the object exists."""

    code = "conflict"


class Unauthorized(DragoError):
    """No valid credentials."""

    code = "unauthorized"


class Forbidden(DragoError):
    """Valid credentials without the right to do this."""

    code = "forbidden"


class PayloadTooLarge(DragoError):
    code = "payload_too_large"


class RequestTimeout(DragoError):
    """The client stopped sending its request body for longer than the server waits."""

    code = "request_timeout"


class Busy(DragoError):
    """The server runs as many expensive requests as it allows; retry later."""

    code = "busy"


class SignatureError(DragoError):
    """A commit signature is missing, malformed, untrusted or does not verify."""

    code = "bad_signature"


class PushRejected(DragoError):
    """A git push was refused; the message is what ``git push`` shows."""

    code = "push_rejected"


class UnsafeValue(DragoError):
    """A writer was handed a value outside its line grammar (a config line, a UAPI
    stream): refused rather than written, so no value can add a line."""

    code = "unsafe_value"


class ConfigRefused(DragoError):
    """The agent refused a config from the server: it is not intact or holds a value
    outside the config grammar. The previous config stays applied.

    ``served`` is the hash the server gave the refused config (its ``ETag``), so the
    agent can wait for the next one instead of asking for the same one again."""

    code = "config_refused"

    def __init__(self, message: str, *, served: str | None = None) -> None:
        super().__init__(message, details={"hash": served})
        self.served = served


class BackendError(DragoError):
    """The agent could not read or change a WireGuard device."""

    code = "backend_error"


class DeviceRefused(BackendError):
    """A WireGuard device answered that it does not accept an update (a value it refuses)."""

    code = "device_refused"


class ServerUnavailable(DragoError):
    """The agent could not reach the server (or it answered 5xx)."""

    code = "server_unavailable"


class PrimaryUnavailable(ServerUnavailable):
    """A replica could not reach its primary, so it cannot take a write (503)."""

    code = "primary_unavailable"


class DatabaseUnavailable(DragoError):
    """The runtime database (PostgreSQL, with ``--database``) cannot be reached or refused
    the work; retry later."""

    code = "database_unavailable"


class DeltaMismatch(DragoError):
    """A config delta does not apply to the config held: another base, a removal of
    what is not there, an incomplete new interface, or a result whose hash is not
    the delta's. The held config is unchanged; fetch the whole config instead."""

    code = "delta_mismatch"
