"""Outbound messages: one prioritised, rate-limited queue per channel."""

from bot.outbound.queue import Outbox, Priority, RetryLater, TemporaryFailure

__all__ = ["Outbox", "Priority", "RetryLater", "TemporaryFailure"]
