"""Checks, in a real headless Chromium, that the HTML report and JupyterLab show what they should.

    python -m maintainer.browser report build/index.html --report-json build/report.json --screenshot index.png
    python -m maintainer.browser lab . --expect chapter02 chapter08

Chromium is Debian's (`apt-get install -y chromium`), driven over the DevTools protocol on a pipe
(`--remote-debugging-pipe`: JSON messages separated by NUL bytes on file descriptors 3 and 4), so
nothing beyond the standard library is needed: no playwright, no selenium, no websocket package.
A missing browser raises BrowserMissing (say how to install it): a check fails, never skips.

- `check_report(index, expected)`: every notebook x backend has a cell in the grid with a status;
  following one cell's link opens the rendered notebook, which shows at least one decoded <img>;
  neither page requests anything but file: and data: URLs. Optional screenshot.
- `check_jupyterlab(root_dir, expected_entries)`: starts `jupyter lab` on a free 127.0.0.1 port
  with no token, opens /lab and waits until the file browser lists the expected folders.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Iterable, Iterator, Sequence

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-default-browser-check", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
    "--disable-dev-shm-usage", "--remote-debugging-pipe",
]
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = "install it with `apt-get install -y chromium` (Debian), or set DLWP_CHROMIUM to its path"


class BrowserError(RuntimeError):
    """The browser or a DevTools call failed, or a check did not hold."""


class BrowserMissing(BrowserError):
    """No Chromium executable was found."""


class CheckFailed(AssertionError):
    """What the page shows is not what it should (the message says what differs)."""


def find_chromium(explicit: str | None = None) -> str:
    """The Chromium executable: `explicit`, $DLWP_CHROMIUM, or the first of CANDIDATES on PATH."""
    for name in [explicit, os.environ.get("DLWP_CHROMIUM"), *CANDIDATES]:
        if not name:
            continue
        found = shutil.which(name)
        if found:
            return found
        if explicit and name == explicit:
            raise BrowserMissing(f"Chromium not found at {explicit!r}: {INSTALL_HINT}.")
    raise BrowserMissing(f"No Chromium found (looked for $DLWP_CHROMIUM, {', '.join(CANDIDATES)}): {INSTALL_HINT}.")


_TRAMPOLINE = """\
import fcntl, os, sys
ends = [int(sys.argv[1]), int(sys.argv[2])]
high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in ends]  # copies that neither 3 nor 4 can be
for fd in set(ends) - {3, 4}:
    os.close(fd)
os.dup2(high[0], 3)  # inheritable: the browser keeps them across exec
os.dup2(high[1], 4)
for fd in high:
    os.close(fd)
os.execv(sys.argv[3], sys.argv[3:])
"""


class Chromium:
    """A headless Chromium process driven over the DevTools protocol on a pipe (stdlib only).

    Use as a context manager; it starts with a new empty profile (removed at the end) and is
    killed with its whole process group on exit.
    """

    def __init__(self, executable: str | None = None, window: tuple[int, int] = (1400, 1000),
                 timeout: float = 30.0, extra_flags: Sequence[str] = ()):
        self.executable = find_chromium(executable)
        self.window = window
        self.timeout = timeout
        self.extra_flags = list(extra_flags)
        self._next_id = 0
        self._buffer = b""
        self._events: list[dict[str, Any]] = []
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Chromium:
        self.profile = tempfile.mkdtemp(prefix="dlwp-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        flags = [*CHROMIUM_FLAGS, f"--user-data-dir={self.profile}",
                 f"--window-size={self.window[0]},{self.window[1]}", *self.extra_flags, "about:blank"]
        # The browser reads commands on fd 3 and writes replies on fd 4: a tiny Python trampoline
        # moves the pipe ends there and execs the browser (no preexec_fn, so thread-safe).
        self._log = tempfile.TemporaryFile()
        self.process = subprocess.Popen([sys.executable, "-c", _TRAMPOLINE, str(to_browser_r), str(from_browser_w),
                                         self.executable, *flags],
                                        pass_fds=(to_browser_r, from_browser_w), stdin=subprocess.DEVNULL,
                                        stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        os.close(to_browser_r)
        os.close(from_browser_w)
        try:
            self.version = self.send("Browser.getVersion")["product"]
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.process and self.process.poll() is None:
            with contextlib.suppress(Exception):
                self.send("Browser.close", timeout=5)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
            if self.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        for fd in (getattr(self, "_to_browser", None), getattr(self, "_from_browser", None)):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        shutil.rmtree(getattr(self, "profile", ""), ignore_errors=True)

    def browser_log(self) -> str:
        """What the browser printed (for error messages)."""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-3000:]

    # -- protocol
    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("timed out waiting for the browser")
            ready, _, _ = select.select([self._from_browser], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    raise BrowserError(f"the browser exited (code {self.process.poll()}):\n{self.browser_log()}")
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None,
             timeout: float | None = None) -> dict[str, Any]:
        """Call a DevTools method and return its result; events that arrive meanwhile are kept."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error'].get('message')}")
                return reply.get("result", {})
            if "method" in reply:
                self._events.append(reply)

    def wait_event(self, method: str, session: str | None = None, timeout: float | None = None) -> dict[str, Any]:
        """The next event `method` (of `session`), consuming it."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            for i, event in enumerate(self._events):
                if event["method"] == method and (session is None or event.get("sessionId") == session):
                    return self._events.pop(i)["params"]
            reply = self._read(deadline)
            if "method" in reply:
                self._events.append(reply)

    def events(self, method: str, session: str | None = None) -> list[dict[str, Any]]:
        """Params of the kept events `method` so far (not consumed)."""
        return [e["params"] for e in self._events if e["method"] == method
                and (session is None or e.get("sessionId") == session)]

    def new_page(self) -> Page:
        """A new tab, attached, with Page, Runtime and Network events on."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session)
        for domain in ("Page", "Runtime", "Network"):
            self.send(f"{domain}.enable", session=session)
        self.send("Page.bringToFront", session=session)  # a foreground tab paints and runs animation frames
        self.send("Emulation.setDeviceMetricsOverride", {"width": self.window[0], "height": self.window[1],
                                                         "deviceScaleFactor": 1, "mobile": False}, session=session)
        return page


@dataclass
class Page:
    """One tab of a Chromium."""

    browser: Chromium
    session: str

    def send(self, method: str, params: dict[str, Any] | None = None, timeout: float | None = None) -> dict[str, Any]:
        return self.browser.send(method, params, self.session, timeout)

    def goto(self, url: str, timeout: float = 30.0) -> None:
        """Navigate and wait for the load event."""
        self.browser._events = [e for e in self.browser._events if e.get("sessionId") != self.session
                                or e["method"] != "Page.loadEventFired"]
        result = self.send("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise BrowserError(f"could not open {url}: {result['errorText']}")
        self.browser.wait_event("Page.loadEventFired", self.session, timeout)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise BrowserError(f"JavaScript error: {details.get('exception', {}).get('description') or details.get('text')}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30.0, interval: float = 0.25) -> Any:
        """Poll a JavaScript expression until it is truthy; return its value (BrowserError on timeout)."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            last = self.evaluate(expression)
            if last:
                return last
            time.sleep(interval)
        raise BrowserError(f"timed out after {timeout:g} s waiting for {expression} (last value {last!r})")

    def requested_urls(self) -> list[str]:
        """Every URL the page has requested so far."""
        return [e["request"]["url"] for e in self.browser.events("Network.requestWillBeSent", self.session)]

    def screenshot(self, path: Path, full_page: bool = True) -> Path:
        """Save a PNG of the page (the whole page, not just the window, by default)."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            params.update(captureBeyondViewport=True,
                          clip={"x": 0, "y": 0, "width": min(size["width"], 4000),
                                "height": min(size["height"], 8000), "scale": 1})
        data = self.send("Page.captureScreenshot", params)["data"]
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(base64.b64decode(data))
        return Path(path)


# --------------------------------------------------------------------------- the report check

@dataclass
class ReportCheck:
    """What check_report saw."""

    cells: dict[tuple[str, str], str]  # (notebook, backend) -> status shown
    opened: str  # the rendered notebook that was opened through its link
    images: int  # <img> elements on it
    decoded_images: int  # of them, decoded with a size (naturalWidth > 0)
    external_requests: list[str]
    seconds: float
    screenshot: Path | None = None
    browser: str = ""
    problems: list[str] = field(default_factory=list)


def expected_cells(rows: Iterable[dict[str, Any]] = (), notebooks: Iterable[str] = (),
                   backends: Iterable[str] = ()) -> set[tuple[str, str]]:
    """The (notebook, backend) pairs the grid must show: those of `rows`, plus every
    notebook x backend of the given lists (e.g. every chapter notebook x jax, tensorflow, torch)."""
    pairs = {(str(r["notebook"]), str(r["backend"])) for r in rows}
    pairs |= {(n, b) for n in notebooks for b in backends}
    return pairs


_GRID_JS = """JSON.stringify(Array.from(document.querySelectorAll('#grid td.cell')).map(td =>
  [td.dataset.notebook, td.dataset.backend, (td.querySelector('.status') || {}).textContent || '',
   td.dataset.status, (td.querySelector('a.nb-link') || {}).href || '']))"""

_IMAGES_JS = """new Promise(resolve => {
  const imgs = Array.from(document.images);
  Promise.all(imgs.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })))
    .then(() => resolve(JSON.stringify({href: location.href, title: document.title, images: imgs.length,
      decoded: imgs.filter(i => i.naturalWidth > 0).length,
      cells: document.querySelectorAll('.jp-Cell').length})));
})"""


def _only_local(urls: Iterable[str]) -> list[str]:
    return sorted({u for u in urls if not u.startswith(("file:", "data:", "about:", "blob:"))})


def check_report(index: Path, expected: set[tuple[str, str]], screenshot: Path | None = None,
                 executable: str | None = None, timeout: float = 60.0) -> ReportCheck:
    """Open the report in headless Chromium and check it; raise CheckFailed listing every problem.

    Checks: each expected (notebook, backend) has a grid cell with a status that is not
    "not run"; no unexpected cells; one cell's link (a passed one, if any) opens a rendered
    notebook with at least one <img> that decodes; no page requests a non-file URL.
    """
    start = time.perf_counter()
    index = Path(index).resolve()
    if not index.is_file():
        raise CheckFailed(f"no report at {index}")
    problems: list[str] = []
    with Chromium(executable, timeout=timeout) as browser:
        page = browser.new_page()
        page.goto(index.as_uri(), timeout)
        grid = json.loads(page.wait_for("document.querySelector('#grid') && " + _GRID_JS, timeout=timeout))
        cells = {(n, b): status for n, b, status, _, _ in grid}
        links = [(n, b, d, href) for n, b, _, d, href in grid if href]
        for notebook, backend in sorted(expected - set(cells)):
            problems.append(f"the grid has no cell for {notebook} on {backend}")
        for notebook, backend in sorted(p for p in expected & set(cells) if cells[p] in ("", "not run")):
            problems.append(f"the grid shows {notebook} on {backend} as not run")
        for notebook, backend in sorted(set(cells) - expected):
            if cells[(notebook, backend)] != "not run":
                problems.append(f"the grid has an unexpected cell: {notebook} on {backend}")
        if screenshot:
            page.screenshot(screenshot)
        external = _only_local(page.requested_urls())
        opened, images, decoded = "", 0, 0
        if not links:
            problems.append("no grid cell links to a rendered notebook")
        else:
            links.sort(key=lambda link: link[2] != "passed")  # a passed notebook has its plots
            notebook, backend, _, href = links[0]
            selector = f'#grid td.cell[data-notebook="{notebook}"][data-backend="{backend}"] a.nb-link'
            browser._events = [e for e in browser._events if e["method"] != "Page.loadEventFired"]
            page.evaluate(f"document.querySelector({json.dumps(selector)}).click()")  # follow the link itself
            browser.wait_event("Page.loadEventFired", page.session, timeout)
            seen = json.loads(page.evaluate(_IMAGES_JS))
            opened, images, decoded = seen["href"], seen["images"], seen["decoded"]
            if seen["href"] != href:
                problems.append(f"the link went to {seen['href']}, not {href}")
            if seen["cells"] == 0:
                problems.append(f"{href} shows no notebook cells (.jp-Cell)")
            if images == 0:
                problems.append(f"{href} has no <img>: its plots are missing")
            elif decoded == 0:
                problems.append(f"{href} has {images} <img> but none decodes")
            external = _only_local(page.requested_urls())
        if external:
            problems.append(f"the report requested non-local URLs: {', '.join(external[:5])}")
        result = ReportCheck(cells, opened, images, decoded, external, round(time.perf_counter() - start, 2),
                             screenshot, browser.version, problems)
    if problems:
        raise CheckFailed("the HTML report check failed:\n  " + "\n  ".join(problems))
    return result


# --------------------------------------------------------------------------- the JupyterLab check

def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _jupyter(explicit: str | None) -> list[str]:
    if explicit:
        return [explicit, "lab"]
    beside = Path(sys.executable).parent / "jupyter"
    if beside.exists():
        return [str(beside), "lab"]
    if shutil.which("jupyter"):
        return [shutil.which("jupyter") or "jupyter", "lab"]
    raise BrowserError("jupyter not found: pip install jupyterlab (in the environment running this check)")


@contextlib.contextmanager
def jupyter_lab(root_dir: Path, port: int | None = None, jupyter: str | None = None,
                timeout: float = 90.0, kernels: dict[str, str] | None = None,
                expose_app: bool = False) -> Iterator[str]:
    """Run `jupyter lab` on 127.0.0.1 with no token, its config, data, runtime and workspace
    folders in a temporary directory (nothing is written in root_dir); yield its /lab URL.

    kernels: {kernel name: python executable} to offer as kernels (e.g. the project's venv, when
    JupyterLab runs from another one). expose_app: window.jupyterapp in the page, to run commands.
    """
    port = port or free_port()
    home = Path(tempfile.mkdtemp(prefix="dlwp-jupyter-"))
    for name, python in (kernels or {}).items():
        spec = home / "data" / "kernels" / name
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": name, "language": "python"}))
    settings = home / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false", "checkForUpdates": false}')
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(home / "settings"), JUPYTER_DATA_DIR=str(home / "data"),
               IPYTHONDIR=str(home / "ipython"), JUPYTER_PLATFORM_DIRS="1", HOME=str(home))
    command = [*_jupyter(jupyter), "--no-browser", "--ip", "127.0.0.1", f"--port={port}", "--allow-root",
               "--ServerApp.token=", "--ServerApp.password=", f"--ServerApp.root_dir={Path(root_dir).resolve()}",
               "--ServerApp.port_retries=0", f"--LabApp.workspaces_dir={home / 'workspaces'}",
               "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               "--ContentsManager.allow_hidden=False", f"--LabApp.expose_app_in_browser={expose_app}"]
    log = open(home / "server.log", "wb")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if server.poll() is not None:
                raise BrowserError(f"jupyter lab exited ({server.returncode}):\n"
                                   + (home / "server.log").read_text(errors="replace")[-3000:])
            try:
                with urllib.request.urlopen(f"{base}/api/status", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise BrowserError(f"jupyter lab did not answer on {base} within {timeout:g} s")
            time.sleep(0.3)
        yield f"{base}/lab"
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        log.close()
        shutil.rmtree(home, ignore_errors=True)


@dataclass
class LabCheck:
    """What check_jupyterlab saw."""

    entries: list[str]  # names in the file browser
    server_seconds: float  # until the server answered
    page_seconds: float  # from navigation until the expected entries showed
    seconds: float
    screenshot: Path | None = None


# Names the file browser shows: rendered (with a box) and the loading splash gone.
_LISTING_JS = """JSON.stringify(document.querySelector('#jupyterlab-splash') ? [] : Array.from(
  document.querySelectorAll('.jp-DirListing-content .jp-DirListing-itemText'))
  .filter(e => e.getClientRects().length > 0 && e.getBoundingClientRect().height > 0)
  .map(e => e.textContent.trim()))"""
# A short pause for the last paint (timers, unlike requestAnimationFrame, run in a background tab).
_PAINTED_JS = "new Promise(r => setTimeout(() => r(true), 300))"


def check_jupyterlab(root_dir: Path, expected_entries: Sequence[str], screenshot: Path | None = None,
                     jupyter: str | None = None, executable: str | None = None, timeout: float = 120.0,
                     settle: float = 5.0) -> LabCheck:
    """Start JupyterLab on root_dir, open it in headless Chromium, and wait until its file browser
    lists every one of `expected_entries` (up to `settle` seconds after it first lists anything);
    raise CheckFailed naming the missing ones."""
    start = time.perf_counter()
    with jupyter_lab(root_dir, jupyter=jupyter, timeout=timeout) as url:
        server_seconds = time.perf_counter() - start
        with Chromium(executable, timeout=timeout) as browser:
            page = browser.new_page()
            t0 = time.perf_counter()
            page.goto(url, timeout)
            want = json.dumps(list(expected_entries))
            try:
                # First the listing (any entry), then a few seconds for all the expected ones: a
                # missing folder fails in `settle` seconds, not at the full timeout.
                page.wait_for(f"{_LISTING_JS} !== '[]'", timeout=timeout)
                page.wait_for(f"(() => {{ const names = {_LISTING_JS.replace('JSON.stringify', '', 1)};"
                              f" return {want}.every(n => names.includes(n)); }})()", timeout=settle)
            except BrowserError:
                entries = json.loads(page.evaluate(_LISTING_JS) or "[]")
                missing = [e for e in expected_entries if e not in entries]
                if screenshot:
                    page.screenshot(screenshot, full_page=False)
                raise CheckFailed(f"JupyterLab's file browser at {url} does not list {', '.join(missing)}; "
                                  f"it lists: {', '.join(entries) or 'nothing'}") from None
            page_seconds = time.perf_counter() - t0
            entries = json.loads(page.evaluate(_LISTING_JS))
            page.evaluate(_PAINTED_JS)
            if screenshot:
                page.screenshot(screenshot, full_page=False)
    return LabCheck(entries, round(server_seconds, 2), round(page_seconds, 2),
                    round(time.perf_counter() - start, 2), screenshot)


# --------------------------------------------------------------------------- command line

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    report = sub.add_parser("report", help="check the HTML report")
    report.add_argument("index", type=Path)
    report.add_argument("--report-json", type=Path, help="rows whose notebook x backend must all show")
    report.add_argument("--notebooks", nargs="*", default=[], help="notebooks that must show on every --backends")
    report.add_argument("--backends", nargs="*", default=[])
    report.add_argument("--screenshot", type=Path)
    lab = sub.add_parser("lab", help="check JupyterLab's file browser")
    lab.add_argument("root", type=Path)
    lab.add_argument("--expect", nargs="+", required=True)
    lab.add_argument("--jupyter", help="the jupyter executable (default: beside this Python, or on PATH)")
    lab.add_argument("--screenshot", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.what == "report":
            rows = json.loads(args.report_json.read_text()) if args.report_json else []
            result = check_report(args.index, expected_cells(rows, args.notebooks, args.backends), args.screenshot)
            print(f"OK: {len(result.cells)} cells; opened {result.opened}: {result.decoded_images}/{result.images} "
                  f"images decoded; {result.seconds:.1f} s ({result.browser})")
        else:
            lab_result = check_jupyterlab(args.root, args.expect, args.screenshot, args.jupyter)
            print(f"OK: the file browser lists {', '.join(lab_result.entries)}; server up in "
                  f"{lab_result.server_seconds:.1f} s, listing shown {lab_result.page_seconds:.1f} s after navigation")
    except (CheckFailed, BrowserError) as err:
        print(f"FAILED: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
