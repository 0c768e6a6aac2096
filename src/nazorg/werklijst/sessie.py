"""Sessions, CSRF tokens and the failed-login limit of the werklijst: no server-side session store.

A session is a cookie ``base64url(json) "." base64url(HMAC-SHA256)`` signed with
the configured key; the JSON holds the account name, the expiry (epoch
seconds), a random session id and the session's CSRF token. Tampering breaks
the signature; an expired one is refused by its own expiry, whatever the
browser keeps. Logout forgets the session id in this process until its expiry
(a stolen cookie dies with the logout; a restart forgets that list, so the
session duration is the bound for a logged-out cookie across a restart).

The login form has no session yet: its CSRF token is a signed, short-lived
value that is also set as a cookie (double submit): a form posted from another
site carries neither, and SameSite=Strict keeps the cookie from being sent
along by one.

Failed logins are limited per account name (known or not): after
:data:`MAX_MISLUKT` failures in :data:`VENSTER_S` seconds the name is refused
(429) until the window passes, whatever the password.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

MIN_SLEUTEL_CHARS = 32
LOGIN_CSRF_S = 30 * 60
MAX_MISLUKT = 5
VENSTER_S = 15 * 60
MAX_NAMEN = 10_000
"""Names tracked at once by the limiter; beyond it the oldest windows are dropped first."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class Sessie:
    naam: str
    verloopt: int
    sid: str
    csrf: str


class Ondertekenaar:
    """Signs and checks values with the session key; ``klok`` is injectable for tests of expiry."""

    def __init__(self, sleutel: str, duur_s: int, klok: Callable[[], float] = time.time) -> None:
        if len(sleutel) < MIN_SLEUTEL_CHARS:
            raise ValueError(f"sessiesleutel moet minstens {MIN_SLEUTEL_CHARS} tekens zijn")
        self._sleutel = sleutel.encode("utf-8")
        self.duur_s = duur_s
        self.klok = klok
        self._uitgelogd: dict[str, int] = {}
        self._lock = threading.Lock()

    def _mac(self, soort: str, payload: str) -> str:
        return _b64(hmac.new(self._sleutel, f"{soort}|{payload}".encode(), hashlib.sha256).digest())

    def _teken(self, soort: str, data: dict[str, object]) -> str:
        payload = _b64(json.dumps(data, separators=(",", ":"), sort_keys=True).encode())
        return f"{payload}.{self._mac(soort, payload)}"

    def _lees(self, soort: str, waarde: str | None) -> dict[str, object] | None:
        if not waarde or len(waarde) > 1024 or waarde.count(".") != 1:
            return None
        payload, mac = waarde.split(".")
        if not hmac.compare_digest(mac, self._mac(soort, payload)):
            return None
        try:
            data = json.loads(_unb64(payload))
        except ValueError:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("e"), int) or data["e"] <= self.klok():
            return None
        return data

    # -- the session

    def nieuwe_sessie(self, naam: str) -> tuple[Sessie, str]:
        sessie = Sessie(
            naam, int(self.klok()) + self.duur_s, secrets.token_urlsafe(16), secrets.token_urlsafe(24)
        )
        return sessie, self._teken(
            "sessie", {"n": naam, "e": sessie.verloopt, "s": sessie.sid, "c": sessie.csrf}
        )

    def sessie(self, cookie: str | None) -> Sessie | None:
        data = self._lees("sessie", cookie)
        if data is None:
            return None
        naam, sid, csrf = data.get("n"), data.get("s"), data.get("c")
        if not (isinstance(naam, str) and isinstance(sid, str) and isinstance(csrf, str)):
            return None
        with self._lock:
            if sid in self._uitgelogd:
                return None
        return Sessie(naam, int(str(data["e"])), sid, csrf)

    def uitloggen(self, sessie: Sessie) -> None:
        nu = self.klok()
        with self._lock:
            self._uitgelogd = {s: e for s, e in self._uitgelogd.items() if e > nu}
            self._uitgelogd[sessie.sid] = sessie.verloopt

    # -- the login form's CSRF token (double submit, signed, short-lived)

    def login_csrf(self) -> str:
        return self._teken("login", {"e": int(self.klok()) + LOGIN_CSRF_S, "r": secrets.token_urlsafe(16)})

    def login_csrf_geldig(self, formulier: str | None, cookie: str | None) -> bool:
        if not formulier or not cookie or not hmac.compare_digest(formulier, cookie):
            return False
        return self._lees("login", formulier) is not None


class Pogingen:
    """Failed logins per name in a sliding window; :meth:`geblokkeerd` says how long to wait."""

    def __init__(self, klok: Callable[[], float] = time.monotonic) -> None:
        self.klok = klok
        self._mislukt: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, naam: str, nu: float) -> list[float]:
        recent = [t for t in self._mislukt.get(naam, []) if t > nu - VENSTER_S]
        if recent:
            self._mislukt[naam] = recent
        else:
            self._mislukt.pop(naam, None)
        return recent

    def geblokkeerd(self, naam: str) -> int:
        """Seconds until ``naam`` may try again (0: now)."""
        nu = self.klok()
        with self._lock:
            recent = self._recent(naam, nu)
            if len(recent) < MAX_MISLUKT:
                return 0
            return max(1, int(recent[0] + VENSTER_S - nu) + 1)

    def mislukt(self, naam: str) -> None:
        nu = self.klok()
        with self._lock:
            if len(self._mislukt) >= MAX_NAMEN and naam not in self._mislukt:
                oudste = min(self._mislukt, key=lambda n: self._mislukt[n][-1])
                del self._mislukt[oudste]
            self._recent(naam, nu)
            self._mislukt.setdefault(naam, []).append(nu)

    def gelukt(self, naam: str) -> None:
        with self._lock:
            self._mislukt.pop(naam, None)
