"""`gbvbot run`: start and supervise every process of the stack.

Children: the Rasa server and the action server (loopback only), and the gateway, which
also runs the scheduler (bot/scheduler.py). `--rasa M` starts M Rasa servers on consecutive
loopback ports (sharing the tracker store and, through Redis, the conversation locks);
`--gateways N` starts N gateways on the one public port (SO_REUSEPORT), of which one leads.
Each child's output is prefixed with its name. A child that exits is restarted
with exponential backoff; SIGINT/SIGTERM stop every child (process groups, then SIGKILL
after a grace period), and children die with the supervisor even if it is killed.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import aiohttp
import yaml

from bot.config import ROOT, Settings
from bot.training import current_model

log = logging.getLogger("supervisor")
PYTHON = sys.executable
READY_TIMEOUT = 300
GRACE = 10


def _die_with_parent() -> None:
    """Runs in the child: new process group, and SIGTERM when the supervisor dies."""
    os.setsid()
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    health_url: str | None
    ready_line: str | None = None  # also wait for this line (gateways sharing a port answer for each other)
    process: asyncio.subprocess.Process | None = None
    restarts: int = 0
    started_at: float = 0.0
    pumps: list[asyncio.Task] = field(default_factory=list)
    said_ready: bool = False


def redis_lock_store(redis_url: str) -> dict:
    """Rasa's lock store settings for REDIS_URL (redis[s]://[user:password@]host[:port][/db])."""
    url = urlsplit(redis_url)
    store = {"type": "redis", "url": url.hostname, "port": url.port or 6379,
             "db": int(url.path.strip("/") or 0), "key_prefix": "gbvbot", "use_ssl": url.scheme == "rediss"}
    if url.username:
        store["username"] = unquote(url.username)
    if url.password:
        store["password"] = unquote(url.password)
    return store


def runtime_endpoints(settings: Settings) -> Path:
    """endpoints.yml with the configured action-server port; with several Rasa servers, the
    Redis lock store, so that one conversation is never processed by two servers at once."""
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
    endpoints["action_endpoint"]["url"] = f"{settings.actions_url}/webhook"
    if settings.rasa_servers > 1:
        assert settings.redis_url is not None  # config.check_topology
        endpoints["lock_store"] = redis_lock_store(settings.redis_url)
    path = settings.var_dir / "endpoints.runtime.yml"
    path.unlink(missing_ok=True)  # created afresh, private: it may hold the Redis password
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        yaml.safe_dump(endpoints, out, sort_keys=False)
    return path


def children(settings: Settings) -> list[Child]:
    env = {
        **os.environ,
        "GBVBOT_GATEWAYS": str(settings.gateways),
        "GBVBOT_RASA_SERVERS": str(settings.rasa_servers),
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SANIC_HOST": "127.0.0.1",
        "PYTHONWARNINGS": "ignore",
    }
    model = current_model()
    if not model.exists():
        raise SystemExit(f"No trained model at {model}. Run `make train` (or `gbvbot train`) first.")
    endpoints = runtime_endpoints(settings)

    def name(kind: str, number: int, count: int) -> str:
        return kind if count == 1 else f"{kind}-{number}"

    rasa = [
        Child(name("rasa", n + 1, settings.rasa_servers), [
            PYTHON, "-m", "rasa", "run", "--model", str(model), "--endpoints", str(endpoints),
            "--credentials", str(ROOT / "credentials.yml"), "--interface", "127.0.0.1", "--port", url.rsplit(":", 1)[1],
        ], env, f"{url}/")
        for n, url in enumerate(settings.rasa_urls)
    ]
    actions = [PYTHON, "-m", "rasa_sdk", "--actions", "actions", "--port", str(settings.actions_port)]
    gateways = [
        Child(name("gateway", n + 1, settings.gateways), [PYTHON, "-m", "bot.cli", "gateway"], env,
              f"http://127.0.0.1:{settings.port}/healthz", "gateway listening on")
        for n in range(settings.gateways)
    ]
    return [*rasa, Child("actions", actions, env, f"{settings.actions_url}/health"), *gateways]


class Supervisor:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.children = children(settings)
        self.stopping = asyncio.Event()

    async def _pump(self, child: Child, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            text = line.decode("utf-8", "replace").rstrip()
            if child.ready_line and child.ready_line in text:
                child.said_ready = True
            sys.stdout.write(f"[{child.name}] {text}\n")
            sys.stdout.flush()

    async def _start(self, child: Child) -> None:
        child.process = await asyncio.create_subprocess_exec(
            *child.argv, cwd=ROOT, env=child.env, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        child.started_at = time.monotonic()
        child.said_ready = False
        assert child.process.stdout is not None
        child.pumps = [asyncio.create_task(self._pump(child, child.process.stdout))]
        log.info("started %s (pid %d)", child.name, child.process.pid)

    async def _watch(self, child: Child) -> None:
        """Restart `child` whenever it exits, with backoff, until stopping."""
        backoff = 1.0
        while not self.stopping.is_set():
            assert child.process is not None
            code = await child.process.wait()
            if self.stopping.is_set():
                return
            if time.monotonic() - child.started_at > 60:
                backoff = 1.0
            child.restarts += 1
            log.warning("%s exited with %s; restarting in %.0f s", child.name, code, backoff)
            try:
                await asyncio.wait_for(self.stopping.wait(), timeout=backoff)
                return
            except asyncio.TimeoutError:
                pass
            backoff = min(backoff * 2, 30.0)
            await self._start(child)

    async def _wait_ready(self) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT
        pending = [c for c in self.children if c.health_url]
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            while pending and time.monotonic() < deadline and not self.stopping.is_set():
                still = []
                for child in pending:
                    if child.ready_line and not child.said_ready:
                        still.append(child)
                        continue
                    try:
                        async with http.get(child.health_url) as response:
                            if response.status == 200:
                                log.info("%s is ready", child.name)
                                continue
                    except (aiohttp.ClientError, asyncio.TimeoutError):
                        pass
                    still.append(child)
                pending = still
                if pending:
                    await asyncio.sleep(0.5)
        return not pending

    async def _stop_all(self) -> None:
        for child in self.children:
            if child.process and child.process.returncode is None:
                try:
                    os.killpg(child.process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + GRACE
        for child in self.children:
            if child.process is None:
                continue
            try:
                await asyncio.wait_for(child.process.wait(), max(0.1, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                log.warning("%s did not stop in %d s; killing", child.name, GRACE)
            try:  # the whole group, so no grandchild is left behind
                os.killpg(child.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for child in self.children:
            for pump in child.pumps:
                pump.cancel()
        log.info("all processes stopped")

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stopping.set)
        for child in self.children:
            await self._start(child)
        watchers = [asyncio.create_task(self._watch(c)) for c in self.children]
        if await self._wait_ready():
            print(f"ready: http://{self.settings.host}:{self.settings.port}", flush=True)
        elif not self.stopping.is_set():
            log.error("not every process became ready within %d s", READY_TIMEOUT)
        await self.stopping.wait()
        log.info("stopping")
        await self._stop_all()
        for watcher in watchers:
            watcher.cancel()
        return 0


def run(settings: Settings) -> int:
    return asyncio.run(Supervisor(settings).run())
