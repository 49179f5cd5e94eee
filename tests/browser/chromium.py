"""A minimal headless-Chromium driver over the DevTools protocol on a pipe (``--remote-debugging-pipe``).

No Selenium or chromedriver: Chromium reads protocol messages on file descriptor 3 and writes them on
4, each a JSON object ended by a NUL byte. That is enough to open a page, collect its console errors,
uncaught exceptions and failed loads, and take a screenshot — what the browser tests need.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
)


def find_chromium() -> str | None:
    for candidate in CHROMIUM_CANDIDATES:
        path = candidate if os.path.isabs(candidate) else shutil.which(candidate)
        if path and os.access(path, os.X_OK):
            return path
    return None


@dataclass
class PageReport:
    """What a page did while loading: problems reported by the browser, and a PNG screenshot."""

    errors: list[str] = field(default_factory=list)
    png: bytes = b""
    width: int = 0
    height: int = 0
    title: str = ""
    scripts: int = 0
    overflow_x: bool = False
    probes: dict[str, Any] = field(default_factory=dict)


class Chromium:
    """One headless browser process; use as a context manager."""

    def __init__(self, binary: str, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="regiocode-chromium-")
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        # Move the child's ends above the low descriptors so dup2 onto 3 and 4 cannot clobber them.
        high_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
        high_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
        os.close(to_child_r)
        os.close(from_child_w)

        def wire_pipe() -> None:
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        self.process = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=wire_pipe,
            pass_fds=(3, 4),
        )
        os.close(high_r)
        os.close(high_w)
        self._write, self._read = to_child_w, from_child_r
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=5)
        except Exception:  # noqa: BLE001 - the browser may already be gone; we only clean up
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        for fd in (self._write, self._read):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)

    # ------------------------------------------------------------ protocol

    def _receive(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self._read], [], [], left)
            if ready:
                chunk = os.read(self._read, 1 << 20)
                if not chunk:
                    raise RuntimeError(f"Chromium exited (code {self.process.poll()})")
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session: str | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def _wait_for(self, name: str, session: str) -> None:
        deadline = time.monotonic() + self.timeout
        while not any(e.get("method") == name and e.get("sessionId") == session for e in self.events):
            self.events.append(self._receive(deadline))

    # ------------------------------------------------------------ pages

    def open(self, path: Path, width: int = 1280, height: int = 900, mobile: bool = False,
             probes: dict[str, str] | None = None, javascript: bool = True) -> PageReport:
        """Load a local file at the given viewport; report errors, a full-page screenshot and the value of each
        JavaScript expression in ``probes`` (evaluated in order after the load, so one may act on the page and
        the next observe it). ``javascript=False`` loads the page with scripts disabled."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime.enable", "Log.enable", "Page.enable"):
            self.call(domain, session=session)
        if not javascript:
            self.call("Emulation.setScriptExecutionDisabled", {"value": True}, session=session)
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
            session=session,
        )
        self.events.clear()
        self.call("Page.navigate", {"url": Path(path).resolve().as_uri()}, session=session)
        self._wait_for("Page.loadEventFired", session)
        report = PageReport()
        metrics = self.call("Page.getLayoutMetrics", session=session)
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        report.width, report.height = int(size["width"]), int(size["height"])
        shot = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session=session)
        report.png = base64.b64decode(shot["data"])
        title = self.call("Runtime.evaluate", {"expression": "document.title", "returnByValue": True}, session=session)
        report.title = str(title.get("result", {}).get("value", ""))
        probe = "[document.scripts.length, document.documentElement.scrollWidth > window.innerWidth + 1]"
        scripts, overflow = self.call("Runtime.evaluate", {"expression": probe, "returnByValue": True},
                                      session=session)["result"]["value"]
        report.scripts, report.overflow_x = int(scripts), bool(overflow)
        for name, expression in (probes or {}).items():
            result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                               session=session)
            if "exceptionDetails" in result:
                raise RuntimeError(f"probe {name}: {result['exceptionDetails']}")
            report.probes[name] = result.get("result", {}).get("value")
        report.errors = _problems(e for e in self.events if e.get("sessionId") == session)
        self.call("Target.closeTarget", {"targetId": target})
        return report


def _problems(events: Any) -> list[str]:
    """Console errors and warnings, uncaught exceptions, failed loads and other browser-logged errors."""
    problems = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            problems.append(f"console.{params['type']}: {args}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            problems.append(f"exception: {details.get('text')} {details.get('exception', {}).get('description', '')}")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") in ("error", "warning"):
            entry = params["entry"]
            problems.append(f"{entry.get('source')} {entry['level']}: {entry.get('text')} {entry.get('url', '')}")
    return problems


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
