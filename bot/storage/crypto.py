"""Pseudonyms and encryption at rest, both keyed by GBVBOT_SECRET_KEY.

Platform ids (web session ids, Telegram chat ids, Zalo user ids) are only ever stored as
keyed hashes; anything that must be read back (conversation state) is sealed with
AES-GCM. Each purpose gets its own key derived with HKDF, so a pseudonym can never be
used to decrypt anything.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.config import settings

_NONCE = 12


@lru_cache(maxsize=8)
def derive_key(purpose: str, secret: bytes | None = None) -> bytes:
    master = secret if secret is not None else settings().secret_key
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"gbvbot", info=purpose.encode()).derive(master)


def pseudonym(channel: str, platform_id: str, secret: bytes | None = None) -> str:
    """Stable, non-reversible id for a sender on a channel ("web", "telegram", "zalo")."""
    mac = hmac.new(derive_key("pseudonym", secret), f"{channel}:{platform_id}".encode(), hashlib.sha256)
    return f"{channel[:1]}{mac.hexdigest()[:39]}"


class Sealer:
    """Authenticated encryption of small blobs; `purpose` binds ciphertext to its use."""

    def __init__(self, purpose: str):
        self._aead = AESGCM(derive_key(purpose))
        self._aad = purpose.encode()

    def seal(self, plaintext: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, plaintext, self._aad)

    def open(self, sealed: bytes) -> bytes:
        return self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], self._aad)
