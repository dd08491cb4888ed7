"""Pseudonyms and encryption at rest, keyed by GBVBOT_SECRET_KEY.

Platform ids (web session ids, Telegram chat ids, Zalo user ids) are only ever stored as
keyed hashes; anything that must be read back (conversation state) is sealed with
AES-GCM. Each purpose gets its own key derived with HKDF, so a pseudonym can never be
used to decrypt anything.

Key rotation: a sealed blob names the key that sealed it ("K1" + a 4-byte key id). The
operator sets a new GBVBOT_SECRET_KEY, lists the old ones in GBVBOT_PREVIOUS_SECRET_KEYS
(newest first) and runs `gbvbot keys rotate`, which re-seals everything with the new key;
blobs sealed before key ids existed are still read. Pseudonyms and other keyed hashes must
stay the same across a rotation (they are looked up, never decrypted), so they are keyed by
the *identity secret*: the oldest secret listed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.config import settings

_NONCE = 12
_MAGIC = b"K1"


def _secrets() -> list[bytes]:
    """The current secret first, then the previous ones, newest first."""
    config = settings()
    return [config.secret_key, *config.previous_secret_keys]


def key_id(secret: bytes) -> bytes:
    return hashlib.sha256(b"gbvbot-key-id:" + secret).digest()[:4]


@lru_cache(maxsize=64)
def derive_key(purpose: str, secret: bytes | None = None) -> bytes:
    master = secret if secret is not None else settings().secret_key
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"gbvbot", info=purpose.encode()).derive(master)


def identity_key(purpose: str) -> bytes:
    """A key for keyed hashes that must not change when the secret is rotated."""
    return derive_key(purpose, _secrets()[-1])


def pseudonym(channel: str, platform_id: str, secret: bytes | None = None) -> str:
    """Stable, non-reversible id for a sender on a channel ("web", "telegram", "zalo")."""
    key = derive_key("pseudonym", secret) if secret is not None else identity_key("pseudonym")
    mac = hmac.new(key, f"{channel}:{platform_id}".encode(), hashlib.sha256)
    return f"{channel[:1]}{mac.hexdigest()[:39]}"


class Sealer:
    """Authenticated encryption of small blobs; `purpose` binds ciphertext to its use."""

    def __init__(self, purpose: str):
        secrets = _secrets()
        self._current = key_id(secrets[0])
        self._aeads = {key_id(secret): AESGCM(derive_key(purpose, secret)) for secret in secrets}
        self._aad = purpose.encode()

    def seal(self, plaintext: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return _MAGIC + self._current + nonce + self._aeads[self._current].encrypt(nonce, plaintext, self._aad)

    def open(self, sealed: bytes) -> bytes:
        sealed = bytes(sealed)
        aead = self._aeads.get(sealed[2:6]) if sealed[:2] == _MAGIC else None
        if aead is not None:
            try:
                return aead.decrypt(sealed[6:6 + _NONCE], sealed[6 + _NONCE:], self._aad)
            except InvalidTag:
                pass  # a blob from before key ids that happens to start like one
        for aead in self._aeads.values():  # sealed before key ids existed
            try:
                return aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], self._aad)
            except InvalidTag:
                continue
        raise InvalidTag()

    def current(self, sealed: bytes) -> bool:
        """Sealed with the current key (nothing for `gbvbot keys rotate` to do)."""
        return bytes(sealed[:6]) == _MAGIC + self._current
