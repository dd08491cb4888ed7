"""Key rotation: sealed values name their key, old keys still open them, `gbvbot keys rotate`
re-seals everything with the new key, and pseudonyms survive the rotation."""

from __future__ import annotations

import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bot import cli
from bot.storage import conversations, keys, subscriptions
from bot.storage.crypto import Sealer, derive_key, pseudonym
from bot.storage.db import session_scope
from bot.storage.models import Conversation, Subscription
from tests.conftest import _reset_caches

OLD = "old-secret-key-0123456789abcdefghijklmnop"
NEW = "new-secret-key-0123456789abcdefghijklmnop"


def use_keys(monkeypatch, current: str, previous: str = "") -> None:
    monkeypatch.setenv("GBVBOT_SECRET_KEY", current)
    monkeypatch.setenv("GBVBOT_PREVIOUS_SECRET_KEYS", previous)
    _reset_caches()


def test_rotation_reseals_everything_and_keeps_pseudonyms(db_url, monkeypatch, capsys):
    use_keys(monkeypatch, OLD)
    sender = pseudonym("web", "session-1")
    conversations.store(sender, b'{"events": ["em bi danh"]}')
    subscriptions.subscribe(pseudonym("telegram", "42"), "telegram", "42")
    legacy_nonce = os.urandom(12)  # a value sealed before sealed values carried a key id
    legacy = legacy_nonce + AESGCM(derive_key("subscription", OLD.encode())).encrypt(legacy_nonce, b"77", b"subscription")
    with session_scope() as session:
        session.add(Subscription(sender="t-legacy", channel="telegram", chat=legacy))

    use_keys(monkeypatch, NEW, OLD)  # the operator sets a new key and lists the old one
    assert pseudonym("web", "session-1") == sender
    assert conversations.load(sender) == b'{"events": ["em bi danh"]}'
    assert cli.main(["keys", "rotate"]) == 0
    assert "conversations.state: 1 re-sealed" in capsys.readouterr().out
    with session_scope() as session:
        state = session.get(Conversation, sender).state
        chats = [row.chat for row in session.query(Subscription)]
    assert Sealer("conversation").current(state)
    assert all(Sealer("subscription").current(chat) for chat in chats)
    assert sorted(Sealer("subscription").open(chat) for chat in chats) == [b"42", b"77"]
    assert keys.rotate()["conversations.state"] == 0  # nothing left under the old key

    use_keys(monkeypatch, NEW)  # the new key alone opens everything now
    assert Sealer("conversation").open(state) == b'{"events": ["em bi danh"]}'


def test_a_value_sealed_with_an_unknown_key_does_not_open(db_url, monkeypatch):
    import pytest
    from cryptography.exceptions import InvalidTag

    use_keys(monkeypatch, OLD)
    sealed = Sealer("case").seal(b"secret")
    use_keys(monkeypatch, NEW)
    with pytest.raises(InvalidTag):
        Sealer("case").open(sealed)
