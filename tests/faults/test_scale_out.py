"""The scaled-out stack (`gbvbot run` with 2 gateways and 2 Rasa servers on PostgreSQL and
Redis) under a bounded load, while its parts fail: a gateway, a Rasa server and the
scheduler's leader are killed with SIGKILL, Redis is killed and started again, and
PostgreSQL drops every connection of the stack.

PostgreSQL is also made unreachable for a few seconds (the stack reaches it through a small
TCP proxy that refuses every connection meanwhile).

What must hold: every urgent message the gateway accepted is escalated exactly once; no
officer alert is lost or sent twice (the fake Telegram counts them); each ladder timer
fires once, on whichever gateway leads; residents get 113/115 while parts are down. The
figures are printed for the report (`pytest -m faults -s`).

Our own redis-server on a free port and a fresh PostgreSQL schema: the machine's shared
Redis and the other schemas are never touched.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import statistics
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from sqlalchemy import bindparam, create_engine, text

from bot.storage.crypto import pseudonym
from tests.conftest import PG_URL, _drop_all
from tests.e2e.conftest import SECRET, OwnRedis, alive, free_pair, start_stack, stop_stack
from tests.e2e.test_escalation_flow import gbvbot
from tests.fakes import InThread
from tests.fakes import telegram as tg

pytestmark = [pytest.mark.faults, pytest.mark.postgres]

T = 6  # seconds an alert waits for acknowledgement
OFFICER, BACKUP = 730001, 730002
URGENT = "cứu em với, chồng em đang cầm dao đòi giết em"
QUESTIONS = ("xin chào", "quyền của tôi là gì", "tìm nơi tạm lánh", "luật phòng chống bạo lực gia đình",
             "chồng em hay chửi mắng em thì sao", "cảm ơn")
CASE = re.compile(r"CA KHẨN CẤP ([0-9A-F]{8})")


class PostgresProxy:
    """A TCP proxy in front of PostgreSQL that can be closed: `down()` drops every connection
    and refuses new ones until `up()`."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open = threading.Event()
        self.open.set()
        self.sockets: set[socket.socket] = set()
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.sockets |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def down(self) -> None:
        self.open.clear()
        with self.lock:
            dropped, self.sockets = self.sockets, set()
        for end in dropped:
            try:
                end.shutdown(socket.SHUT_RDWR)
                end.close()
            except OSError:
                pass

    def up(self) -> None:
        self.open.set()

    def close(self) -> None:
        self.down()
        self.listener.close()


@dataclass
class Turn:
    phase: str
    urgent: bool
    session: str
    status: int  # 0: no HTTP answer (connection reset, refused, timeout)
    ms: float
    body: dict | None
    at: float = field(default_factory=time.monotonic)  # when the answer came


@dataclass
class Load:
    """Residents on the web chat: `chatters` asking questions (a new session every 4 turns),
    and one new resident every `urgent_every` seconds writing an emergency."""

    url: str
    chatters: int = 2
    urgent_every: float = 1.5
    phase: str = "warm-up"
    turns: list[Turn] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _post(self, session: str, message: str, urgent: bool) -> None:
        request = urllib.request.Request(self.url + "/api/chat", data=json.dumps({"session_id": session, "text": message}).encode(),
                                         headers={"Content-Type": "application/json"})
        phase, began, status, body = self.phase, time.monotonic(), 0, None
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, body = response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            status = error.code
        except (OSError, ValueError):
            pass
        self.turns.append(Turn(phase, urgent, session, status, (time.monotonic() - began) * 1000, body))

    def _chatter(self, number: int) -> None:
        n, session = 0, ""
        while not self._stop.is_set():
            session = f"c{number}x{n // 4}{uuid.uuid4().hex[:8]}" if n % 4 == 0 else session
            self._post(session, QUESTIONS[n % len(QUESTIONS)], urgent=False)
            n += 1

    def _urgent(self) -> None:
        while not self._stop.wait(self.urgent_every):
            self._post("u" + uuid.uuid4().hex, URGENT, urgent=True)

    def __enter__(self) -> Load:
        self.threads = [threading.Thread(target=self._chatter, args=(n,), daemon=True) for n in range(self.chatters)]
        self.threads.append(threading.Thread(target=self._urgent, daemon=True))
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        for thread in self.threads:
            thread.join(timeout=60)


def first_text(turn: Turn) -> str:
    return turn.body["messages"][0]["text"] if turn.body and turn.body.get("messages") else ""


def degraded(turn: Turn) -> bool:
    return turn.body is not None and "hạn chế" in " ".join(m["text"] for m in turn.body.get("messages", []))


def pids(stack, name: str) -> list[int]:
    """Live pids of a child ("gateway-1", "rasa-2"), from the supervisor's "started" lines."""
    found = [int(m.group(1)) for line in list(stack.output)
             if (m := re.search(rf"started {re.escape(name)} \(pid (\d+)\)", line))]
    return [pid for pid in found if alive(pid)]


def leader(stack) -> int | None:
    for line in reversed(list(stack.output)):
        if (m := re.search(r"this gateway leads \(pid (\d+)\)", line)) and alive(int(m.group(1))):
            return int(m.group(1))
    return None


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    tmp = tmp_path_factory.mktemp("stack-faults")
    app = f"gbvbot_faults_{os.getpid()}"  # names the stack's connections, to cut only those
    schema_url = _drop_all(PG_URL, app)
    server = urlsplit(PG_URL)
    proxy = PostgresProxy(server.hostname or "127.0.0.1", server.port or 5432)
    through_proxy = schema_url.replace(server.netloc, f"{server.username}@127.0.0.1:{proxy.port}", 1)
    database = f"{through_proxy}&application_name={app}"
    redis = OwnRedis(tmp)
    redis.start()
    env = {**os.environ, "DATABASE_URL": database, "GBVBOT_SECRET_KEY": SECRET, "GBVBOT_VAR_DIR": str(tmp)}
    gbvbot(env, "db", "upgrade")
    gbvbot(env, "officers", "add", "--name", "Cán bộ A", "--agency", "police", "--units", "*", "--telegram-id", str(OFFICER))
    gbvbot(env, "officers", "add", "--name", "Cán bộ B", "--agency", "womens_union", "--role", "backup", "--telegram-id", str(BACKUP))
    shifts = tmp / "shifts.csv"
    shifts.write_text("officer_id,weekday,start,end\n" + "".join(
        f"{officer},{day},00:00,24:00\n" for officer in (1, 2) for day in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")))
    gbvbot(env, "roster", "import", str(shifts))
    try:
        with InThread(tg.FakeTelegram()) as telegram:
            stack = start_stack(tmp, database, {
                "GBVBOT_GATEWAYS": "2", "GBVBOT_RASA_SERVERS": "2", "GBVBOT_RASA_PORT": str(free_pair()),
                "REDIS_URL": f"redis://127.0.0.1:{redis.port}/0",
                "TELEGRAM_BOT_TOKEN": tg.TOKEN, "TELEGRAM_API_BASE_URL": telegram.fake.base_url,
                "TELEGRAM_WEBHOOK_URL": "https://faults.example/webhooks/telegram",
                "TELEGRAM_WEBHOOK_SECRET": "faults-webhook-secret-0123456789abcdef",
                "GBVBOT_ACK_TIMEOUT_SECONDS": str(T), "GBVBOT_CASES_PER_5_MINUTES": "1000",
                "GBVBOT_RATE_PER_MINUTE": "1000",
            })
            try:
                yield stack, telegram, redis, schema_url, app, proxy
            finally:
                leftovers = stop_stack(stack)
            assert not leftovers
    finally:
        if redis.process and redis.process.poll() is None:
            redis.kill()
        proxy.close()
        _drop_all(PG_URL, app, create=False)


def test_killing_parts_under_load_loses_no_emergency_and_sends_no_alert_twice(world):
    stack, telegram, redis, schema_url, app, proxy = world
    figures: dict[str, object] = {}
    database = create_engine(schema_url, future=True)
    with Load(stack.url) as load:
        time.sleep(4)

        load.phase = "gateway killed"
        follower = next(pid for name in ("gateway-1", "gateway-2") for pid in pids(stack, name) if pid != leader(stack))
        os.kill(follower, signal.SIGKILL)
        time.sleep(5)

        load.phase = "rasa killed"
        os.kill(pids(stack, "rasa-1")[0], signal.SIGKILL)
        time.sleep(5)

        load.phase = "leader killed"
        old = leader(stack)
        assert old is not None
        killed_at = time.monotonic()
        os.kill(old, signal.SIGKILL)
        assert wait_for(lambda: leader(stack) not in (None, old), 10), "no gateway took the lead within 10 s"
        figures["failover_s"] = round(time.monotonic() - killed_at, 2)
        pending = [t for t in load.turns if t.urgent and t.body and t.body.get("escalation") and killed_at - T < t.at < killed_at]
        time.sleep(3)

        load.phase = "redis down"
        redis.kill()
        time.sleep(4)
        redis.start()
        load.phase = "redis back"
        time.sleep(4)

        load.phase = "postgresql cut"
        for _ in range(2):
            with database.begin() as conn:
                figures.setdefault("pg_connections_cut", 0)
                figures["pg_connections_cut"] += len(conn.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :app"), {"app": app}).all())
            time.sleep(1.5)
        time.sleep(3)

        load.phase = "postgresql down"
        outage = (time.monotonic(), 0.0)
        proxy.down()
        time.sleep(3)
        proxy.up()
        outage = (outage[0], time.monotonic())
        load.phase = "after"
        time.sleep(6)

    # Every ladder runs to its end (officer, then the backup after T, then nobody: unreached),
    # including cases whose gateway died before the first alert (their first-rung timer, 30 s)
    # and ladders whose timer the database outage lost (the leader's sweep, after T + 30 s).
    def cases() -> dict[str, str]:
        with database.connect() as conn:
            return dict(conn.execute(text("SELECT id, status FROM cases")).all())

    if not wait_for(lambda: set(cases().values()) <= {"unreached"}, 120):
        stuck = [case for case, status in cases().items() if status != "unreached"]
        with database.connect() as conn:
            events = conn.execute(text("SELECT case_id, kind, rung FROM case_events WHERE case_id IN :ids ORDER BY id")
                                  .bindparams(bindparam("ids", expanding=True)), {"ids": stuck}).all()
        said = [line for line in stack.output if "scheduler:" in line or "ladder" in line]
        raise AssertionError(f"ladders that did not end: {events}\n" + "".join(said[-40:]))
    time.sleep(T + 1)  # a timer that would fire twice has had time to
    with database.connect() as conn:
        escalated = Counter(conn.execute(text(
            "SELECT case_id FROM case_events WHERE kind = 'escalated' AND rung = 1")).scalars())
        opened = Counter(conn.execute(text("SELECT case_id FROM case_events WHERE kind = 'opened'")).scalars())
        sessions = Counter(conn.execute(text("SELECT sender FROM cases")).scalars())
    database.dispose()

    sent = telegram.run(lambda: list(telegram.fake.sent))
    alerts = Counter((m["chat_id"], CASE.search(m["text"]).group(1)) for m in sent if CASE.search(m.get("text", "")))
    urgent = [t for t in load.turns if t.urgent]
    accepted = [t for t in urgent if t.status == 200 and t.body.get("escalation")]
    def during_outage(turn: Turn) -> bool:
        return turn.at - turn.ms / 1000 < outage[1] + 0.5 and turn.at > outage[0]

    answered_without_case = [t for t in urgent if t.status == 200 and not t.body.get("escalation")]
    # with the database unreachable no case can be stored: those residents are told to call 113,
    # and their case is opened (and alerted) once the database is back
    late = [t for t in answered_without_case if during_outage(t)]
    assert {pseudonym("web", t.session, SECRET.encode()) for t in late} <= set(sessions), "an outage report was lost"
    answered_without_case = [t for t in answered_without_case if not during_outage(t)]
    chats = [t for t in load.turns if not t.urgent]
    every_case = set(cases())

    # every accepted urgent message: its own case, alerted to the officer once and the backup once
    assert accepted
    accepted_cases = {t.body["escalation"]["case_id"] for t in accepted}
    assert len(accepted_cases) == len(accepted)
    assert accepted_cases <= every_case
    assert all(opened[case] == 1 for case in every_case)
    assert pending, "no ladder timer was pending when the leader was killed"
    figures["ladder timers pending at the leader kill"] = len(pending)
    assert max(sessions.values()) == 1  # one case per resident, never two
    opened_at = {t.body["escalation"]["case_id"]: t.at for t in accepted}

    def in_flight_at_the_kill(case: str) -> bool:
        """Its rung-2 alert fell due (opened + T) in the seconds before the leader was killed."""
        return case in opened_at and killed_at - 3 <= opened_at[case] + T <= killed_at + 0.5

    for case in every_case:
        # A case whose request died with its gateway may have lost its first alert, if the kill
        # came between taking the rung and Telegram's answer; its ladder goes on to the backup.
        # Likewise a rung-2 alert the killed leader had taken but not yet sent (README, known
        # limitations): the ladder still runs to its end.
        first, backup = alerts[(OFFICER, case)], alerts[(BACKUP, case)]
        assert first == 1 if case in accepted_cases else first <= 1, f"case {case}: {first} first alerts"
        when = f"opened {opened_at[case] - killed_at:+.1f} s from the leader kill" if case in opened_at else "request cut"
        with database.connect() as conn:
            events = conn.execute(text("SELECT kind, rung FROM case_events WHERE case_id = :c ORDER BY id"), {"c": case}).all()
        assert backup == 1 or (backup == 0 and in_flight_at_the_kill(case)), \
            f"case {case}: {backup} rung-2 alerts ({when}; events {events})"
        assert escalated[case] == 1, f"case {case}: the ladder timer acted {escalated[case]} times"
    assert max(alerts.values()) == 1  # nothing twice
    figures["first alerts lost with their gateway (backup alerted)"] = sum(
        1 for case in every_case if alerts[(OFFICER, case)] == 0)
    figures["rung-2 alerts lost with the leader"] = sum(1 for case in every_case if alerts[(BACKUP, case)] == 0)
    # residents are told to call 113 / 115 whatever is down
    assert all("113" in first_text(t) for t in urgent if t.status == 200)
    assert all("113" in " ".join(m["text"] for m in t.body["messages"]) and "115" in " ".join(m["text"] for m in t.body["messages"])
               for t in load.turns if t.status == 200 and degraded(t))
    assert not answered_without_case, f"{len(answered_without_case)} urgent messages answered but not escalated"
    assert not [t for t in load.turns if t.status >= 500]

    by_phase: dict[str, Counter] = {}
    for turn in load.turns:
        counter = by_phase.setdefault(turn.phase, Counter())
        counter["turns"] += 1
        counter["urgent"] += turn.urgent
        counter["no answer"] += turn.status == 0
        counter["degraded (113/115)"] += degraded(turn)
    latencies = sorted(t.ms for t in chats if t.status == 200)
    figures.update({
        "turns": len(load.turns), "urgent sent": len(urgent), "urgent accepted and escalated": len(accepted),
        "cases (incl. requests cut by a kill)": len(every_case), "officer alerts": sum(alerts.values()),
        "alerts sent twice": sum(1 for n in alerts.values() if n > 1),
        "urgent answered with 113 during the outage, case opened when the database was back": len(late), "chat p50 ms": round(statistics.median(latencies)),
        "chat p95 ms": round(latencies[int(0.95 * (len(latencies) - 1))]),
    })
    print("\nfault test figures:", json.dumps(figures, ensure_ascii=False))
    for phase, counter in by_phase.items():
        print(f"  {phase:16} " + ", ".join(f"{k} {v}" for k, v in counter.items()))
