"""BSN rules: the elfproef and the keyed pseudonym used in processing-log records."""

from __future__ import annotations

import hashlib
import hmac


def is_valid_bsn(value: str) -> bool:
    """Nine digits that pass the elfproef (weights 9..2, last digit -1)."""
    if len(value) != 9 or not value.isascii() or not value.isdigit():
        return False
    digits = [int(c) for c in value]
    total = sum(d * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True)) - digits[8]
    return total % 11 == 0 and value != "000000000"


def pseudonymise(bsn: str, key: bytes | None = None) -> str:
    """Keyed HMAC-SHA256 of the BSN: stable per key, useless without it.

    The key comes from the settings (a secret in deployment); without a strong
    one :meth:`nazorg.settings.Settings.pseudonym_key` refuses rather than fall
    back to a plain hash, which would be reversible by enumerating all valid
    BSNs. A key passed in directly must at least have 32 bytes.
    """
    if key is None:
        from nazorg.settings import settings

        key = settings().pseudonym_key()
    from nazorg.sleutel import MIN_KEY_BYTES

    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"pseudoniemsleutel te kort: minstens {MIN_KEY_BYTES} bytes")
    return hmac.new(key, bsn.encode(), hashlib.sha256).hexdigest()


def canonieke_bsn(value: str) -> str | None:
    """The BSN as the inbox stores it (nine digits), or None when ``value`` is not a valid one.

    Why: a person's BSN typed by hand (``nazorg toestemming``) comes with spaces,
    dots or a dropped leading zero; the inbox holds the nine digits the intake
    accepted. Separators (space, dot, hyphen) are removed and an eight-digit
    number gets its leading zero back; the elfproef decides.
    """
    digits = "".join(c for c in value.strip() if c not in " .-\t")
    if len(digits) == 8 and digits.isascii() and digits.isdigit():
        digits = "0" + digits
    return digits if is_valid_bsn(digits) else None
