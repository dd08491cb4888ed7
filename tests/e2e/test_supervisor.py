"""`gbvbot run` supervises: a crashed child is restarted, Rasa down still gets an answer,
and SIGTERM leaves no process behind."""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest

from tests.e2e.conftest import descendants, start_stack, stop_stack

pytestmark = pytest.mark.e2e


def child_pid(stack, module_args: str) -> int:
    for pid in descendants(stack.process.pid):
        try:
            cmdline = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode()
        except FileNotFoundError:
            continue
        if module_args in cmdline:
            return pid
    raise AssertionError(f"no child running {module_args!r}")


def wait_for(predicate, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_crash_restart_degraded_answer_and_clean_stop(tmp_path):
    stack = start_stack(tmp_path, f"sqlite:///{tmp_path / 'sup.sqlite3'}")
    try:
        rasa = child_pid(stack, "-m rasa run")
        os.kill(rasa, signal.SIGKILL)
        assert wait_for(lambda: '"rasa": "down"' in stack.get("/healthz")[1], 10)

        status, body = stack.chat("s" + uuid.uuid4().hex, text="xin chào")  # how fast: make bench (bench_timings)
        assert status == 200
        assert all(number in body["messages"][0]["text"] for number in ("113", "115", "111"))

        status, body = stack.chat("s" + uuid.uuid4().hex, text="cứu tôi với, nó đang cầm dao")
        assert body["messages"][0]["text"].startswith("Hãy gọi ngay 113")

        assert wait_for(lambda: '"rasa": "up"' in stack.get("/healthz")[1], 90), "rasa was not restarted"
        assert child_pid(stack, "-m rasa run") != rasa
        assert any("rasa exited" in line and "restarting" in line for line in stack.output)
        status, body = stack.chat("s" + uuid.uuid4().hex, text="xin chào")
        assert status == 200 and "hạn chế" not in body["messages"][0]["text"]
    finally:
        leftovers = stop_stack(stack)
    assert not leftovers
    assert any("all processes stopped" in line for line in stack.output)
    for line in stack.output:  # logs are prefixed by process
        assert line.startswith(("[supervisor]", "[rasa]", "[actions]", "[gateway]", "[scheduler]", "ready:")), line
