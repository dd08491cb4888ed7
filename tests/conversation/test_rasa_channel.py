"""The Rasa side of the seam: loading our channel keeps Rasa's check of action server answers."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

import bot.conversation.rasa_channel  # noqa: F401 — installs the validator built once


@pytest.fixture
def action() -> RemoteAction:
    return RemoteAction("action_suggest_topics", None)


def test_a_well_formed_action_answer_is_accepted(action):
    answer = {"events": [{"event": "slot", "name": "place", "value": "Hương Trà"}],
              "responses": [{"text": "Chào bạn", "buttons": [{"title": "Có", "payload": "/affirm"}]}]}
    assert action._validate_action_result(answer) is True


@pytest.mark.parametrize("answer", [
    {"events": {"event": "slot"}},  # events not a list
    {"events": [{"event": "slot", "name": "place", "value": "x", "timestamp": "yesterday"}]},
    {"responses": "Chào bạn"},
])
def test_a_malformed_action_answer_is_refused_with_rasas_message(action, answer):
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result(answer)
