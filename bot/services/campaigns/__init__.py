"""Awareness campaigns (issue 14): what a campaign says and to whom (spec.py), where it
stands in the database (store.py), and the engine that delivers it through the channels'
outboxes at broadcast priority, exactly once per subscriber (engine.py)."""

from bot.services.campaigns.engine import CampaignEngine, message_for, tap_payload
from bot.services.campaigns.spec import Spec, SpecError, load, parse, render, templates
from bot.services.campaigns.store import CampaignError, act, all_campaigns, create, get, stats, tap, update_draft

__all__ = [
    "CampaignEngine", "CampaignError", "Spec", "SpecError", "act", "all_campaigns", "create", "get", "load",
    "message_for", "parse", "render", "stats", "tap", "tap_payload", "templates", "update_draft",
]
