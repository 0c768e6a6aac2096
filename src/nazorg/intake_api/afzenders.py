"""Senders of the intake API: who may send what, recognised by a bearer token stored hashed.

Why hashed: the configuration (an environment variable, a mounted file) is read
by more people and processes than the sender's token deserves. A token is 32
random bytes (256 bits), so a plain SHA-256 of it cannot be reversed by
guessing, and no slow password hash is needed. A presented token is hashed and
compared with every configured hash in constant time (``hmac.compare_digest``,
all of them, no early exit), so neither timing nor the order of the
configuration tells which sender came close.

The configuration is JSON, one entry per sender (``nazorg intake token genereer``
prints an entry)::

    {"pi": {"sha256": "<64 hex>", "gemeenten": "*",
            "soorten": ["eerstedagsmelding", "laatstedagsmelding"]}}

``gemeenten`` binds the sender: ``"*"`` is every gemeente with a besluit (the PI
sends for all of them), a list of four-digit codes limits it to those.
``soorten`` says which kinds of melding it may send (a closed list). Anything
else is refused when the service starts, with the sender's id and never a hash.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from nazorg.settings import INTAKE_TOKENS_ENV, INTAKE_TOKENS_FILE_ENV, Settings, SettingsError

TOKEN_PREFIX = "nzi_"  # noqa: S105 - a marker that makes leaked tokens recognisable, not a secret
TOKEN_BYTES = 32
MAX_TOKEN_CHARS = 256
"""A longer Authorization value is refused without hashing it."""
AFZENDER_ID = re.compile(r"^[a-z][a-z0-9-]{1,31}$")
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
GEMEENTE_CODE = re.compile(r"^[0-9]{4}$")
ALLE_GEMEENTEN = "*"


class Soort(StrEnum):
    """The kinds of melding the intake API accepts (one endpoint each)."""

    EERSTEDAGSMELDING = "eerstedagsmelding"
    LAATSTEDAGSMELDING = "laatstedagsmelding"


@dataclass(frozen=True, slots=True)
class Afzender:
    """One configured sender; ``gemeenten`` None means every gemeente."""

    afzender_id: str
    sha256: str
    gemeenten: frozenset[str] | None
    soorten: frozenset[Soort]

    def mag_soort(self, soort: Soort) -> bool:
        return soort in self.soorten

    def mag_gemeente(self, gemeente_code: str) -> bool:
        return self.gemeenten is None or gemeente_code in self.gemeenten


def genereer_token() -> str:
    """A new random token: 32 bytes from ``secrets``, URL-safe text with a recognisable prefix."""
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def configuratie_regel(
    afzender_id: str, token: str, gemeenten: Collection[str] | None, soorten: Collection[Soort]
) -> str:
    """The JSON entry that configures ``token`` for ``afzender_id`` (a ``"id": {...}`` member)."""
    entry = {
        "sha256": token_hash(token),
        "gemeenten": ALLE_GEMEENTEN if gemeenten is None else sorted(gemeenten),
        "soorten": sorted(s.value for s in soorten),
    }
    return f"{json.dumps(afzender_id)}: {json.dumps(entry)}"


class Afzenders:
    """The configured senders; :meth:`authenticeer` finds the one a token belongs to."""

    def __init__(self, afzenders: Collection[Afzender]) -> None:
        self._afzenders = tuple(afzenders)
        hashes = [a.sha256 for a in self._afzenders]
        if len(set(hashes)) != len(hashes):
            raise SettingsError(
                "intake-tokens: twee afzenders met dezelfde token-hash", setting=INTAKE_TOKENS_ENV
            )

    def __len__(self) -> int:
        return len(self._afzenders)

    def authenticeer(self, token: str) -> Afzender | None:
        """The sender of ``token``, or None; compares with every hash, whatever matched."""
        if not token or len(token) > MAX_TOKEN_CHARS:
            return None
        digest = token_hash(token).encode()
        found: Afzender | None = None
        for afzender in self._afzenders:
            if hmac.compare_digest(digest, afzender.sha256.encode()):
                found = afzender
        return found

    @classmethod
    def parse(cls, text: str, setting: str = INTAKE_TOKENS_ENV) -> Afzenders:
        """Senders from the JSON text; refused as a whole when one entry is wrong (named by id)."""
        try:
            data = json.loads(text)
        except ValueError:
            raise SettingsError(f"{setting}: geen geldige JSON", setting=setting) from None
        if not isinstance(data, dict):
            raise SettingsError(f"{setting}: verwacht een JSON-object {{afzender: {{...}}}}", setting=setting)
        return cls([_afzender(name, entry, setting) for name, entry in data.items()])

    @classmethod
    def uit_settings(cls, config: Settings) -> Afzenders:
        """From NAZORG_INTAKE_TOKENS, else the file NAZORG_INTAKE_TOKENS_FILE names; none: refused."""
        if config.intake_tokens_raw is not None:
            return cls.parse(config.intake_tokens_raw, INTAKE_TOKENS_ENV)
        if config.intake_tokens_file is not None:
            try:
                text = Path(config.intake_tokens_file).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                raise SettingsError(
                    f"{INTAKE_TOKENS_FILE_ENV}: bestand niet leesbaar", setting=INTAKE_TOKENS_FILE_ENV
                ) from None
            return cls.parse(text, INTAKE_TOKENS_FILE_ENV)
        raise SettingsError(
            f"{INTAKE_TOKENS_ENV} (of {INTAKE_TOKENS_FILE_ENV}) ontbreekt: maak een token met "
            "`nazorg intake token genereer AFZENDER`",
            setting=INTAKE_TOKENS_ENV,
        )


def _afzender(name: object, entry: object, setting: str) -> Afzender:
    if not isinstance(name, str) or not AFZENDER_ID.match(name):
        raise SettingsError(f"{setting}: afzender-id moet [a-z][a-z0-9-]{{1,31}} zijn", setting=setting)
    if not isinstance(entry, Mapping) or set(entry) - {"sha256", "gemeenten", "soorten"}:
        raise SettingsError(
            f"{setting}: afzender {name}: verwacht sha256, gemeenten, soorten", setting=setting
        )
    digest = entry.get("sha256")
    if not isinstance(digest, str) or not SHA256_HEX.match(digest):
        raise SettingsError(f"{setting}: afzender {name}: sha256 moet 64 hex-tekens zijn", setting=setting)
    gemeenten = entry.get("gemeenten")
    scope: frozenset[str] | None
    if gemeenten == ALLE_GEMEENTEN:
        scope = None
    elif (
        isinstance(gemeenten, list)
        and gemeenten
        and all(isinstance(g, str) and GEMEENTE_CODE.match(g) for g in gemeenten)
    ):
        scope = frozenset(gemeenten)
    else:
        raise SettingsError(
            f'{setting}: afzender {name}: gemeenten moet "*" of een lijst gemeentecodes zijn', setting=setting
        )
    soorten = entry.get("soorten")
    bekend = {s.value for s in Soort}
    if not isinstance(soorten, list) or not soorten or not all(s in bekend for s in soorten):
        raise SettingsError(
            f"{setting}: afzender {name}: soorten moet een lijst uit {', '.join(sorted(bekend))} zijn",
            setting=setting,
        )
    return Afzender(name, digest, scope, frozenset(Soort(s) for s in soorten))
