"""The failure policy: which failures are worth another try, and how every failure reads.

* **Transient** failures — a network timeout, a lost or refused connection, HTTP 429 or 5xx — may pass
  if tried again later: only they are retried (the source assets' Dagster ``RetryPolicy``).
* Everything else — a file that cannot be read, a setting that names nothing, a check that failed —
  gives the same result however often it is tried: it fails at once, with :func:`one_line`.

A user reads one line, naming the file (sheet, row) or setting and what to do; the stack trace goes to
the Dagster run log and to ``regiocode refresh --verbose``.

The classification looks at the whole chain of an exception (``__cause__``, ``__context__``, and the
last attempt inside a tenacity ``RetryError``), because the sources wrap the HTTP client's error in a
:class:`~dagster_project.sources.base.SourceError` that names the URL. An exception may also say it
itself: an attribute ``transient`` (True or False) wins over everything else.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import tenacity

# An HTTP status worth another try, as the sources' own retry loops print it ("HTTP 503: …").
_TRANSIENT_STATUS_TEXT = re.compile(r"(?:^|: )HTTP (?:429|5\d\d)\b")
MAX_MESSAGE_CHARS = 600


def exception_chain(err: BaseException) -> Iterator[BaseException]:
    """``err`` and every exception behind it (causes, contexts, a tenacity RetryError's last attempt)."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [err]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, tenacity.RetryError) and current.last_attempt.failed:
            stack.append(current.last_attempt.exception())
        stack.extend((current.__context__, current.__cause__))


def _status(err: BaseException) -> int | None:
    """The HTTP status an exception carries (``status``, ``status_code`` or its ``response``'s), if any."""
    for holder in (err, getattr(err, "response", None)):
        for name in ("status_code", "status"):
            value = getattr(holder, name, None)
            if isinstance(value, int):
                return value
    return None


def is_transient(err: BaseException) -> bool:
    """Whether ``err`` may pass when tried again: a timeout, a connection failure, HTTP 429 or 5xx."""
    chain = list(exception_chain(err))
    for current in chain:
        declared = getattr(current, "transient", None)
        if isinstance(declared, bool):
            return declared
    for current in chain:
        if isinstance(current, httpx.TransportError | TimeoutError | ConnectionError):
            return True
        status = _status(current)
        if status is not None and (status == 429 or 500 <= status < 600):
            return True
        if current is not err and _TRANSIENT_STATUS_TEXT.search(str(current)):
            return True
    return False


def one_line(err: BaseException | str) -> str:
    """A message on one line: our own errors' text as it is; another library's error with its type
    (``KeyError: 'time'`` says more than ``'time'``); whitespace collapsed, at most MAX_MESSAGE_CHARS."""
    if isinstance(err, BaseException):
        text = str(err).strip()
        if isinstance(err, MemoryError):
            text = "ran out of memory" + (f" ({text})" if text else "")
        elif not type(err).__module__.startswith("dagster_project"):
            text = f"{type(err).__name__}: {text}" if text else type(err).__name__
    else:
        text = err
    text = " ".join(text.split())
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"
