"""BSN rules: the elfproef and the keyed pseudonym used in processing-log records."""

from __future__ import annotations

import hashlib
import hmac
import os

PSEUDONYM_KEY_ENV = "NAZORG_PSEUDONIEM_SLEUTEL"


def is_valid_bsn(value: str) -> bool:
    """Nine digits that pass the elfproef (weights 9..2, last digit -1)."""
    if len(value) != 9 or not value.isascii() or not value.isdigit():
        return False
    digits = [int(c) for c in value]
    total = sum(d * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True)) - digits[8]
    return total % 11 == 0 and value != "000000000"


def pseudonymise(bsn: str, key: bytes | None = None) -> str:
    """Keyed HMAC-SHA256 of the BSN: stable per key, useless without it.

    The key comes from the environment (an Airflow Variable or secret in
    deployment); without a key we refuse rather than fall back to a plain hash,
    which would be reversible by enumerating all valid BSNs.
    """
    if key is None:
        raw = os.environ.get(PSEUDONYM_KEY_ENV, "")
        if len(raw) < 16:
            raise RuntimeError(f"{PSEUDONYM_KEY_ENV} must hold a secret of at least 16 characters")
        key = raw.encode()
    return hmac.new(key, bsn.encode(), hashlib.sha256).hexdigest()
