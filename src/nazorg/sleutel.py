"""The pseudonym key: how strong it must be, its fingerprint, and how to make a new one.

Why: a processing-log pseudonym is ``HMAC-SHA256(key, BSN)``. There are only
about 10^8 valid BSNs, so whoever knows the key reverses any pseudonym by trying
them all in minutes; the key is the whole protection. A key a person typed
("test-sleutel-2026", a sentence, sixteen times the same letter) can be guessed
first and then the BSNs enumerated. So a key is accepted only when it looks
machine-generated, by the rule below, and ``nazorg sleutel genereer`` makes one.

The rule (:func:`beoordeel`), applied to the key text exactly as configured:

1. Form. Text of hex digits only is *hex*: it needs at least 64 digits (32
   bytes). Any other text (including base64 and base64url) needs at least 32
   characters. Only the first 256 characters are judged.
2. At least 12 different characters.
3. Estimated strength at least 128 bits, summed per character:
   a hex digit is worth 4 bits; in other text a character is worth
   log2(pool), the pool being the sum of the character classes the key uses
   (lowercase 26, uppercase 26, digits 10, other ASCII 33, non-ASCII 100).
   Worth nothing: a character equal or next (one code point up or down) to the
   one before it ("aaaa", "abcd", "4321"); a repeat of 3 or more characters
   that already occurred earlier in the key ("Zomer26!Zomer26!"). In text that
   is not hex, a word (3 to 12 letters between non-letters, in lowercase,
   Capitalised or ALL CAPS) is worth at most 11 bits, one pick from a
   2048-word list as in BIP-39, and one separator between two words nothing.

The base64 of 32 random bytes scores over 160 bits and 64 random hex digits
over 150; a sentence, a repeated pattern or a padded dictionary word does
not come close. The key bytes are the UTF-8 text itself, never a decoding of
it, so a pseudonym does not change when this rule does.

Key rotation: see :func:`sleutel_id`. Every processing-log record carries the
fingerprint of the key that made its pseudonym, so after a rotation each
record still says which (old) key verifies it.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import math
import re
import secrets
from typing import Final

MIN_BITS: Final = 128
MIN_HEX_CHARS: Final = 64  # 32 bytes
MIN_TEXT_CHARS: Final = 32
MIN_DISTINCT: Final = 12
JUDGED_CHARS: Final = 256
WORD_BITS: Final = 11.0
MIN_KEY_BYTES: Final = 32

_HEX: Final = re.compile(r"[0-9a-fA-F]+")
_WORD: Final = re.compile(r"(?<![A-Za-z])(?:[A-Za-z][a-z]{2,11}|[A-Z]{3,12})(?![A-Za-z])")
_MIN_REPEAT: Final = 3
_SLEUTEL_ID_CONTEXT: Final = b"nazorg-intake sleutel_id v1"


def _pool(text: str) -> int:
    pool = 0
    if any("a" <= c <= "z" for c in text):
        pool += 26
    if any("A" <= c <= "Z" for c in text):
        pool += 26
    if any("0" <= c <= "9" for c in text):
        pool += 10
    if any(c.isascii() and not c.isalnum() for c in text):
        pool += 33
    if any(not c.isascii() for c in text):
        pool += 100
    return pool


def _earlier_repeat(text: str, i: int) -> int:
    """Length of the longest run starting at ``i`` that also starts somewhere before ``i``."""
    length = 0
    while i + length < len(text) and text.find(text[i : i + length + 1], 0, i + length) >= 0:
        length += 1
    return length


def sterkte_bits(text: str) -> float:
    """The estimated strength of a key text in bits, by the rule in the module docstring."""
    text = text[:JUDGED_CHARS]
    if not text:
        return 0.0
    is_hex = bool(_HEX.fullmatch(text))
    per_char = 4.0 if is_hex else math.log2(_pool(text))
    bits = [per_char] * len(text)
    i = 0
    while i < len(text):
        repeat = _earlier_repeat(text, i)
        if repeat >= _MIN_REPEAT:
            bits[i : i + repeat] = [0.0] * repeat
            i += repeat
            continue
        if i > 0 and abs(ord(text[i]) - ord(text[i - 1])) <= 1:
            bits[i] = 0.0
        i += 1
    if not is_hex:
        words = list(_WORD.finditer(text))
        for word in words:
            worth = sum(bits[word.start() : word.end()])
            if worth > WORD_BITS:
                scale = WORD_BITS / worth
                bits[word.start() : word.end()] = [b * scale for b in bits[word.start() : word.end()]]
        for before, after in itertools.pairwise(words):
            if after.start() - before.end() == 1:  # one separator between two words
                bits[before.end()] = 0.0
    return sum(bits)


def beoordeel(text: str) -> str | None:
    """Why ``text`` is not an acceptable key (Dutch, never quoting it), or None when it is."""
    is_hex = bool(_HEX.fullmatch(text))
    if is_hex and len(text) < MIN_HEX_CHARS:
        return f"te kort: een hex-sleutel heeft minstens {MIN_HEX_CHARS} hex-cijfers (32 bytes)"
    if len(text) < MIN_TEXT_CHARS:
        return f"te kort: minstens {MIN_TEXT_CHARS} tekens"
    if len(set(text[:JUDGED_CHARS])) < MIN_DISTINCT:
        return f"te weinig verschillende tekens (minstens {MIN_DISTINCT})"
    bits = sterkte_bits(text)
    if bits < MIN_BITS:
        return (
            f"te voorspelbaar: geschatte sterkte {int(bits)} bits, minstens {MIN_BITS} "
            "(herhalingen, reeksen en woorden tellen niet mee)"
        )
    return None


def sleutel_id(key: bytes) -> str:
    """A short fingerprint of the key (16 hex), stored with every processing-log record.

    It names the key without revealing it (an HMAC under the key itself of a
    fixed text), so after a rotation each record says which key verifies its
    pseudonym, and an operator can see which key a deployment uses.
    """
    return hmac.new(key, _SLEUTEL_ID_CONTEXT, hashlib.sha256).hexdigest()[:16]


def genereer() -> str:
    """A new random key: 32 bytes from the OS's CSPRNG as 64 hex digits."""
    return secrets.token_hex(MIN_KEY_BYTES)
