"""Accounts of the werklijst: one per person, bound to one gemeente and one role, stored hashed.

Why a slow hash (scrypt) here and a plain SHA-256 for the intake tokens: a
token is 256 random bits, a password is chosen by (or read aloud to) a person
and may be guessed; scrypt with a per-account salt makes every guess cost
memory and time, and a leaked configuration does not give the passwords.
:func:`genereer_wachtwoord` makes a random one anyway (``nazorg werklijst
account genereer``), printed once.

The configuration is JSON, one entry per account::

    {"a.jansen": {"scrypt": "<hex>", "salt": "<hex>", "gemeente": "9901", "rol": "coordinator"}}

``rol`` is one of the register's ``ontvangers`` (:data:`nazorg.register.Ontvanger`):
it decides what the document page shows. Anything else is refused when the
service starts, with the account's name and never a hash.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

from nazorg.register import Ontvanger
from nazorg.settings import WERKLIJST_ACCOUNTS_ENV, WERKLIJST_ACCOUNTS_FILE_ENV, Settings, SettingsError

ROLLEN: tuple[str, ...] = get_args(Ontvanger)
NAAM = re.compile(r"^[a-z][a-z0-9.\-]{1,39}$")
GEMEENTE_CODE = re.compile(r"^[0-9]{4}$")
HEX = re.compile(r"^[0-9a-f]{32,128}$")
#: scrypt cost: 16 MiB of memory per guess (n * r * 128 bytes), well under OpenSSL's 32 MiB cap
SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LEN = 2**14, 8, 1, 32
MAX_WACHTWOORD_CHARS = 128
"""A longer password is refused without hashing it (scrypt's cost is not the attacker's to choose)."""


@dataclass(frozen=True, slots=True)
class Account:
    naam: str
    scrypt: str
    salt: str
    gemeente: str
    rol: str


def wachtwoord_hash(wachtwoord: str, salt: str) -> str:
    return hashlib.scrypt(
        wachtwoord.encode("utf-8"),
        salt=bytes.fromhex(salt),
        n=SCRYPT_N,
        r=SCRYPT_R,
        p=SCRYPT_P,
        dklen=SCRYPT_LEN,
    ).hex()


def genereer_wachtwoord() -> str:
    """20 random bytes as URL-safe text: long enough that nobody needs to pick one."""
    return secrets.token_urlsafe(20)


def configuratie_regel(naam: str, wachtwoord: str, gemeente: str, rol: str) -> str:
    """The JSON entry (a ``"naam": {...}`` member) that configures this account; checked like a loaded one."""
    salt = secrets.token_hex(16)
    entry = {"scrypt": wachtwoord_hash(wachtwoord, salt), "salt": salt, "gemeente": gemeente, "rol": rol}
    _account(naam, entry, "account")  # refuses what the service would refuse
    return f"{json.dumps(naam)}: {json.dumps(entry)}"


class Accounts:
    """The configured accounts; :meth:`controleer` checks a name and password."""

    def __init__(self, accounts: list[Account]) -> None:
        self._accounts = {a.naam: a for a in accounts}
        # an unknown name costs one scrypt too, so timing does not tell which names exist
        self._dummy_salt = secrets.token_hex(16)

    def __len__(self) -> int:
        return len(self._accounts)

    def get(self, naam: str) -> Account | None:
        return self._accounts.get(naam)

    def controleer(self, naam: str, wachtwoord: str) -> Account | None:
        """The account when the password is right, else None (unknown name or wrong password alike)."""
        if not wachtwoord or len(wachtwoord) > MAX_WACHTWOORD_CHARS or len(naam) > 64:
            return None
        account = self._accounts.get(naam)
        salt = account.salt if account is not None else self._dummy_salt
        digest = wachtwoord_hash(wachtwoord, salt)
        if account is None:
            return None
        return account if hmac.compare_digest(digest, account.scrypt) else None

    @classmethod
    def parse(cls, text: str, setting: str = WERKLIJST_ACCOUNTS_ENV) -> Accounts:
        try:
            data = json.loads(text)
        except ValueError:
            raise SettingsError(f"{setting}: geen geldige JSON", setting=setting) from None
        if not isinstance(data, dict):
            raise SettingsError(f"{setting}: verwacht een JSON-object {{naam: {{...}}}}", setting=setting)
        return cls([_account(naam, entry, setting) for naam, entry in data.items()])

    @classmethod
    def uit_settings(cls, config: Settings) -> Accounts | None:
        """From NAZORG_WERKLIJST_ACCOUNTS, else its file; None when neither is set (no werklijst)."""
        if config.werklijst_accounts_raw is not None:
            return cls.parse(config.werklijst_accounts_raw, WERKLIJST_ACCOUNTS_ENV)
        if config.werklijst_accounts_file is not None:
            try:
                text = Path(config.werklijst_accounts_file).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                raise SettingsError(
                    f"{WERKLIJST_ACCOUNTS_FILE_ENV}: bestand niet leesbaar",
                    setting=WERKLIJST_ACCOUNTS_FILE_ENV,
                ) from None
            return cls.parse(text, WERKLIJST_ACCOUNTS_FILE_ENV)
        return None


def _account(naam: object, entry: object, setting: str) -> Account:
    if not isinstance(naam, str) or not NAAM.match(naam):
        raise SettingsError(f"{setting}: accountnaam moet [a-z][a-z0-9.-]{{1,39}} zijn", setting=setting)
    velden = {"scrypt", "salt", "gemeente", "rol"}
    if not isinstance(entry, Mapping) or set(entry) != velden:
        raise SettingsError(
            f"{setting}: account {naam}: verwacht precies {', '.join(sorted(velden))}", setting=setting
        )
    for veld in ("scrypt", "salt"):
        if not isinstance(entry[veld], str) or not HEX.match(entry[veld]):
            raise SettingsError(f"{setting}: account {naam}: {veld} moet hex zijn", setting=setting)
    if not isinstance(entry["gemeente"], str) or not GEMEENTE_CODE.match(entry["gemeente"]):
        raise SettingsError(
            f"{setting}: account {naam}: gemeente moet een gemeentecode zijn", setting=setting
        )
    if entry["rol"] not in ROLLEN:
        raise SettingsError(
            f"{setting}: account {naam}: rol moet een van {', '.join(ROLLEN)} zijn", setting=setting
        )
    return Account(naam, entry["scrypt"], entry["salt"], entry["gemeente"], str(entry["rol"]))
