"""Provider configurations at rest: Fernet under a key derived by HKDF-SHA256 from
``PROVIDER_CONFIG_SECRET`` (default ``SECRET_KEY``), and the mask every answer shows.

A configuration holds the provider's API key: the database keeps only its ciphertext,
and the API, the admin, the logs and the events only its mask (``****abcd``).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from ibl_core.conf import ibl_settings

MASK = "****"
#: A configuration key whose name ends so holds a secret (masked in every answer).
SECRET_KEY_SUFFIXES = ("api_key", "_key", "secret", "token", "password")


def _fernet() -> Fernet:
    secret = ibl_settings.PROVIDER_CONFIG_SECRET or settings.SECRET_KEY
    derived = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"ibl-data-manager providers",
        info=b"provider configurations v1",
    ).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt_config(config: dict[str, Any]) -> str:
    return _fernet().encrypt(json.dumps(config, sort_keys=True).encode()).decode()


def decrypt_config(token: str) -> dict[str, Any]:
    config: dict[str, Any] = json.loads(_fernet().decrypt(token.encode()))
    return config


def is_secret_key(name: str) -> bool:
    return name.endswith(SECRET_KEY_SUFFIXES)


def mask(value: Any) -> str:
    """``****`` and the last four characters of a secret of 8 or more; ``****`` alone
    for a shorter one (its last four would be half of it)."""
    text = str(value)
    return MASK + text[-4:] if len(text) >= 8 else MASK


def masked_config(config: dict[str, Any]) -> dict[str, Any]:
    """The configuration as it is answered: every secret masked."""
    return {
        key: mask(value) if is_secret_key(key) and value not in (None, "") else value
        for key, value in config.items()
    }
