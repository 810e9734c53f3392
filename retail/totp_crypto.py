"""TOTP secrets encrypted at rest: allauth's MFA adapter hooks `encrypt`/`decrypt`.

Secrets (and recovery-code seeds) are stored as ``enc1:<Fernet token>``, with a key
derived from ``settings.AISLE_TOTP_KEY`` (or, when unset, from ``SECRET_KEY``: a
development default; production sets its own). A value without the prefix is a
secret stored before encryption: it is still read (the data migration
`*_accounts_totp_encrypt` encrypts them all).
"""

from __future__ import annotations

import base64
import hashlib

from allauth.mfa.adapter import DefaultMFAAdapter
from cryptography.fernet import Fernet
from django.conf import settings

PREFIX = "enc1:"


def _fernet() -> Fernet:
    material = settings.AISLE_TOTP_KEY or f"aisle-totp:{settings.SECRET_KEY}"
    key = base64.urlsafe_b64encode(hashlib.sha256(material.encode()).digest())
    return Fernet(key)


def encrypt_secret(text: str) -> str:
    if text.startswith(PREFIX):
        return text
    return PREFIX + _fernet().encrypt(text.encode()).decode()


def decrypt_secret(stored: str) -> str:
    if not stored.startswith(PREFIX):
        return stored
    return _fernet().decrypt(stored[len(PREFIX) :].encode()).decode()


class AisleMFAAdapter(DefaultMFAAdapter):
    def encrypt(self, text: str) -> str:
        return encrypt_secret(text)

    def decrypt(self, encrypted_text: str) -> str:
        return decrypt_secret(encrypted_text)


def encrypt_authenticator_data(data: dict) -> dict:
    """An Authenticator's `data` with its secret (TOTP) or seed (recovery codes) encrypted."""
    data = dict(data or {})
    for field in ("secret", "seed"):
        if isinstance(data.get(field), str):
            data[field] = encrypt_secret(data[field])
    return data


def seal(data) -> str:
    """JSON-able data encrypted for storage (an account e-mail waiting in the outbox)."""
    import json

    return _fernet().encrypt(json.dumps(data).encode()).decode()


def unseal(token: str):
    import json

    return json.loads(_fernet().decrypt(token.encode()).decode())
