"""What `gbvbot run` starts: one child per Rasa server and gateway, and Rasa's endpoints."""

from __future__ import annotations

import dataclasses

import yaml

from bot import supervisor
from bot.config import load


def topology(tmp_path, gateways: int, rasa: int, monkeypatch):
    monkeypatch.setattr(supervisor, "current_model", lambda: tmp_path)  # any existing path
    return dataclasses.replace(
        load({"GBVBOT_VAR_DIR": str(tmp_path), "DATABASE_URL": "postgresql://gbvbot@127.0.0.1/gbvbot",
              "REDIS_URL": "redis://:s3cret@10.0.0.5:6380/2", "GBVBOT_RASA_PORT": "7000", "GBVBOT_ACTIONS_PORT": "7100"}),
        gateways=gateways, rasa_servers=rasa,
    )


def test_n_gateways_and_m_rasa_servers_share_the_redis_lock_store(tmp_path, monkeypatch):
    settings = topology(tmp_path, 3, 2, monkeypatch)
    children = supervisor.children(settings)
    assert [c.name for c in children] == ["rasa-1", "rasa-2", "actions", "gateway-1", "gateway-2", "gateway-3"]
    assert [c.argv[c.argv.index("--port") + 1] for c in children[:2]] == ["7000", "7001"]
    assert all(c.env["GBVBOT_GATEWAYS"] == "3" and c.env["GBVBOT_RASA_SERVERS"] == "2" for c in children)
    path = tmp_path / "endpoints.runtime.yml"
    endpoints = yaml.safe_load(path.read_text())
    assert endpoints["action_endpoint"]["url"] == "http://127.0.0.1:7100/webhook"
    assert endpoints["lock_store"] == {"type": "redis", "url": "10.0.0.5", "port": 6380, "db": 2,
                                       "key_prefix": "gbvbot", "use_ssl": False, "password": "s3cret"}
    assert path.stat().st_mode & 0o777 == 0o600
    assert endpoints["tracker_store"]["type"] == "bot.storage.tracker_store.EncryptedTrackerStore"


def test_one_rasa_server_keeps_the_in_memory_lock_store_and_plain_names(tmp_path, monkeypatch):
    children = supervisor.children(topology(tmp_path, 1, 1, monkeypatch))
    assert [c.name for c in children] == ["rasa", "actions", "gateway"]
    assert yaml.safe_load((tmp_path / "endpoints.runtime.yml").read_text())["lock_store"] == {"type": "in_memory"}
