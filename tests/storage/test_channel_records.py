"""What the channels store, on SQLite and PostgreSQL: replay memory, reply windows,
undelivered counts, sealed tokens with a single-flight refresh lease, erase-my-data."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from bot.storage import conversations, delivery, events, residents, subscriptions, tokens
from bot.storage.models import utcnow


def test_an_event_is_new_exactly_once_even_when_checked_concurrently(db_url):
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _n: events.first_time("telegram", "update-42"), range(16)))
    assert results.count(True) == 1
    assert events.first_time("zalo", "update-42")  # another channel, another event


def test_the_replay_memory_is_pruned_after_48_hours(db_url):
    events.first_time("telegram", "old")
    assert events.prune(now=utcnow() + timedelta(hours=47)) == 0
    assert events.prune(now=utcnow() + timedelta(hours=49)) == 1
    assert events.first_time("telegram", "old")


def test_the_reply_window_follows_the_residents_last_message(db_url):
    start = utcnow()
    delivery.touch_window("zabc", start)
    delivery.touch_window("zabc", start - timedelta(hours=5))  # an older, late event does not shorten it
    assert delivery.window_closes_at("zabc") - start == timedelta(hours=delivery.WINDOW_HOURS)
    assert delivery.window_closes_at("zabc", hours=48) - start == timedelta(hours=48)
    delivery.touch_window("zabc", start + timedelta(hours=1))
    assert delivery.window_closes_at("zabc", hours=48) - start == timedelta(hours=49)
    assert delivery.prune_windows(now=start + timedelta(hours=delivery.WINDOW_HOURS)) == 0
    assert delivery.prune_windows(now=start + timedelta(hours=delivery.WINDOW_HOURS + 2)) == 1
    assert delivery.window_closes_at("zabc") is None


def test_undelivered_messages_are_counted_per_reason_without_losing_concurrent_counts(db_url):
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda _n: delivery.record_undelivered("zalo", "window_closed"), range(12)))
    delivery.record_undelivered("zalo", "token")
    delivery.record_undelivered("zalo", "token", day=utcnow().date() - timedelta(days=40))  # too old to report
    assert delivery.undelivered_counts("zalo") == {"token": 1, "window_closed": 12}
    assert delivery.undelivered_counts("telegram") == {}


def test_only_one_refresher_holds_the_lease_and_a_stale_lease_can_be_taken_over(db_url):
    stored = tokens.seed("zalo", "access-1", "refresh-1")
    assert tokens.claim_refresh("zalo", stored.version)
    assert not tokens.claim_refresh("zalo", stored.version)
    later = utcnow() + timedelta(seconds=tokens.LEASE_SECONDS + 1)
    assert tokens.claim_refresh("zalo", stored.version, now=later)  # the first refresher died
    new = tokens.store_refreshed("zalo", stored.version, "access-2", "refresh-2", 90000)
    assert new.version == stored.version + 1
    assert tokens.load("zalo") == new
    assert not tokens.claim_refresh("zalo", stored.version)  # that version is gone
    assert tokens.claim_refresh("zalo", new.version)
    tokens.release("zalo", new.version)
    assert tokens.claim_refresh("zalo", new.version)


def test_gateways_seeding_the_tokens_at_the_same_moment_both_start(db_url):
    """Two gateways start on an empty table: both find no row and insert one. The second
    insert waits on the first's uncommitted row, then fails; that gateway reads the row."""
    if not db_url.startswith("postgresql"):
        import pytest

        pytest.skip("SQLite lets one writer in at a time: the race needs PostgreSQL")
    import time

    from sqlalchemy import create_engine, text

    other = create_engine(db_url, future=True)
    with other.connect() as first, ThreadPoolExecutor(1) as pool:
        transaction = first.begin()
        first.execute(text("INSERT INTO channel_tokens (channel, version, refresh_token, seed, updated_at) "
                           "VALUES ('zalo', 1, :sealed, 'another gateway', now())"), {"sealed": b"x"})
        second = pool.submit(tokens.seed, "zalo", "access-1", "refresh-1")
        time.sleep(0.5)  # the second gateway's insert is now waiting on the first's row
        transaction.commit()
        stored = second.result(timeout=10)
    other.dispose()
    assert stored.refresh_token == "refresh-1" and tokens.load("zalo") == stored


def test_tokens_are_sealed_at_rest(db_url):
    from tests.channels.conftest import database_dump

    tokens.seed("zalo", "access-PLAINTEXT-1", "refresh-PLAINTEXT-1")
    dump = database_dump(db_url)
    assert b"PLAINTEXT" not in dump


def test_erase_my_data_removes_conversation_subscription_and_reply_window_of_that_resident_only(db_url):
    for sender in ("tme", "tother"):
        conversations.store(sender, b"state")
        subscriptions.subscribe(sender, "telegram", "12345")
        delivery.touch_window(sender)
    assert residents.forget("tme")
    assert conversations.load("tme") is None and not subscriptions.is_subscribed("tme")
    assert delivery.window_closes_at("tme") is None
    assert conversations.load("tother") == b"state" and subscriptions.is_subscribed("tother")
    assert not residents.forget("tme")


def test_the_scheduler_prunes_channel_records_every_hour(db_url):
    from bot import scheduler
    from bot.config import settings

    jobs = {job.id: job for job in scheduler.build(settings()).get_jobs()}
    assert jobs["channel_state"].func is scheduler.prune_channel_state
    events.first_time("telegram", "1")
    scheduler.prune_channel_state()  # a fresh record stays
    assert not events.first_time("telegram", "1")
