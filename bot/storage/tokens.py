"""A channel's API tokens, sealed at rest (Zalo: an access token and a single-use refresh token).

A refresh token works once, so refreshing must be single-flight across processes: a
refresher first claims a short lease with one conditional UPDATE, and stores the new
pair (bumping `version`) before anyone uses it. Others wait for the version to change.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from bot.storage.crypto import Sealer, identity_key
from bot.storage.db import session_scope
from bot.storage.models import ChannelToken, aware, utcnow

LEASE_SECONDS = 60


@dataclass(frozen=True)
class Tokens:
    access_token: str | None
    refresh_token: str
    expires_at: datetime | None
    version: int
    updated_at: datetime


def _sealer() -> Sealer:
    return Sealer("channel-token")



def _fingerprint(refresh_token: str) -> str:
    return hmac.new(identity_key("token-seed"), refresh_token.encode(), hashlib.sha256).hexdigest()


def _tokens(row: ChannelToken) -> Tokens:
    sealer = _sealer()
    return Tokens(
        access_token=sealer.open(row.access_token).decode() if row.access_token else None,
        refresh_token=sealer.open(row.refresh_token).decode(),
        expires_at=aware(row.expires_at),
        version=row.version,
        updated_at=aware(row.updated_at),
    )


def seed(channel: str, access_token: str | None, refresh_token: str) -> Tokens:
    """Store the configured tokens unless this very configuration was stored before (the
    stored pair is newer then: the configured refresh token has already been used). Gateways
    starting together on an empty table may both insert the first row: the loser reads it."""
    try:
        return _seed(channel, access_token, refresh_token)
    except IntegrityError:
        return _seed(channel, access_token, refresh_token)


def _seed(channel: str, access_token: str | None, refresh_token: str) -> Tokens:
    sealer = _sealer()
    fingerprint = _fingerprint(refresh_token)
    with session_scope() as session:
        row = session.get(ChannelToken, channel, with_for_update=True)
        if row is None:
            row = ChannelToken(channel=channel, version=1)
            session.add(row)
        elif row.seed == fingerprint:
            return _tokens(row)
        else:
            row.version += 1
        row.access_token = sealer.seal(access_token.encode()) if access_token else None
        row.refresh_token = sealer.seal(refresh_token.encode())
        row.expires_at, row.lease_until, row.seed, row.updated_at = None, None, fingerprint, utcnow()
        session.flush()
        return _tokens(row)


def load(channel: str) -> Tokens | None:
    with session_scope() as session:
        row = session.get(ChannelToken, channel)
        return None if row is None else _tokens(row)


def claim_refresh(channel: str, version: int, now: datetime | None = None) -> bool:
    """Take the refresh lease for `version`; False if another refresher holds it or already refreshed."""
    now = now or utcnow()
    with session_scope() as session:
        claimed = session.execute(
            update(ChannelToken)
            .where(
                ChannelToken.channel == channel,
                ChannelToken.version == version,
                (ChannelToken.lease_until.is_(None)) | (ChannelToken.lease_until < now),
            )
            .values(lease_until=now + timedelta(seconds=LEASE_SECONDS))
        ).rowcount
    return claimed == 1


def store_refreshed(channel: str, version: int, access_token: str, refresh_token: str, expires_in: int | None) -> Tokens:
    """Persist a refreshed pair (version + 1) and release the lease, in one statement."""
    sealer = _sealer()
    now = utcnow()
    expires_at = now + timedelta(seconds=expires_in) if expires_in else None
    with session_scope() as session:
        stored = session.execute(
            update(ChannelToken)
            .where(ChannelToken.channel == channel, ChannelToken.version == version)
            .values(
                access_token=sealer.seal(access_token.encode()),
                refresh_token=sealer.seal(refresh_token.encode()),
                expires_at=expires_at,
                version=version + 1,
                lease_until=None,
                updated_at=now,
            )
        ).rowcount
    if stored != 1:
        raise RuntimeError(f"{channel} tokens changed during a refresh (version {version} is gone)")
    return Tokens(access_token, refresh_token, expires_at, version + 1, now)


def release(channel: str, version: int) -> None:
    """Give the lease back after a failed refresh."""
    with session_scope() as session:
        session.execute(
            update(ChannelToken)
            .where(ChannelToken.channel == channel, ChannelToken.version == version)
            .values(lease_until=None)
        )
