"""The real stack (`gbvbot run`: Rasa server, action server, gateway, scheduler) on free
ports, once on SQLite and once on PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import PG_URL, ROOT, _drop_all

ADMIN_TOKEN = "e2e-admin-token-0123456789"
SECRET = "e2e-secret-key-0123456789abcdefghijkl"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_pair() -> int:
    """A port p with p + 1 free too (two Rasa servers)."""
    while True:
        port = free_port()
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 1))
                return port
            except OSError:
                continue


class OwnRedis:
    """A redis-server of this test only: no persistence, in a temporary directory."""

    def __init__(self, directory):
        self.directory, self.port = directory, free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()


def descendants(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
    children: dict[int, list[int]] = {}
    for line in out.splitlines():
        p, pp = map(int, line.split())
        children.setdefault(pp, []).append(p)
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat")
    return state.exists() and state.read_text().split()[2] != "Z"


@dataclass
class Stack:
    url: str
    database_url: str
    var_dir: Path
    process: subprocess.Popen
    env: dict
    output: list[str] = field(default_factory=list)

    def post(self, path: str, body, headers: dict | None = None, raw: bytes | None = None):
        data = raw if raw is not None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, headers={"Content-Type": "application/json", **(headers or {})}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read().decode()
                return response.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as error:
            text = error.read().decode()
            return error.code, (json.loads(text) if text else None)

    def get(self, path: str, headers: dict | None = None):
        request = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def chat(self, session_id: str, **kwargs):
        return self.post("/api/chat", {"session_id": session_id, **kwargs})


def start_stack(tmp: Path, database_url: str, extra_env: dict | None = None) -> Stack:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "GBVBOT_VAR_DIR": str(tmp),
        "GBVBOT_PORT": str(port),
        "GBVBOT_RASA_PORT": str(free_port()),
        "GBVBOT_ACTIONS_PORT": str(free_port()),
        "GBVBOT_ADMIN_TOKEN": ADMIN_TOKEN,
        "GBVBOT_SECRET_KEY": SECRET,
        "GBVBOT_RATE_PER_MINUTE": "40",
        "GBVBOT_USEFULNESS_PERCENT": "100",  # every conversation asked, at its 2nd informational answer
        **(extra_env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    stack = Stack(f"http://127.0.0.1:{port}", database_url, tmp, process, env)
    ready = threading.Event()

    def reader():
        assert process.stdout is not None
        for line in process.stdout:
            stack.output.append(line)
            if line.startswith("ready: "):
                ready.set()

    pump = threading.Thread(target=reader, daemon=True)
    pump.start()
    deadline = time.monotonic() + 240
    while not ready.is_set():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pump.join(timeout=5)
            raise RuntimeError("stack did not start:\n" + "".join(stack.output[-60:]))
        time.sleep(0.2)
    return stack


def stop_stack(stack: Stack) -> set[int]:
    """SIGTERM the supervisor; return the pids of children that are still alive after."""
    children = descendants(stack.process.pid)
    stack.process.send_signal(signal.SIGTERM)
    stack.process.wait(timeout=30)
    time.sleep(0.5)
    return {pid for pid in children if alive(pid)}


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def stack(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"stack-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'e2e.sqlite3'}"
    else:
        url = _drop_all(PG_URL, "gbvbot_e2e")
    running = start_stack(tmp, url)
    yield running
    leftovers = stop_stack(running)
    assert not leftovers, f"orphaned processes after SIGTERM: {leftovers}"
