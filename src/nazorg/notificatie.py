"""Notifications to a team of a besluit: "melding X, date D: neem contact op". Nothing more.

Why so little: a message is read by whoever reads the team's mailbox, and its
mere existence already says something (a message to the GGZ-team about melding
X says that a GGZ check answered ja for X). So a message carries only what the
team needs to act: the melding id, one date, the team it is addressed to, the
gemeente whose coördinator to call, and "neem contact op". Never a BSN, never a
check name, an uitkomst or an aandachtsgebied, and the same words for every
kind of notification (a laatstedagsmelding and a top-x inseinen read alike):
the coördinator, who sees the basisdocument, tells the team the rest.

A :class:`Notifier` sends one :class:`Bericht`; two exist:

* :class:`BestandNotifier` (``NAZORG_NOTIFIER=bestand``, the embedded default):
  one file per notification in an owner-only directory (0700; files 0600,
  created exclusively), named after the notification id, never the melding id.
* :class:`SmtpNotifier` (``smtp``): through Airflow's SMTP provider
  (``SmtpHook``) and the connection ``NAZORG_SMTP_CONN_ID``, to the team's
  ``email`` from its besluit.

A failed send raises :class:`VerzendFout` with a reason code only: an SMTP
error message can repeat the recipient or the message, so it is never kept.
Every attempt is recorded in ``notificatie`` (:func:`verstuur`).
"""

from __future__ import annotations

import contextlib
import html
import os
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from nazorg.bestanden import maak_map
from nazorg.models import Kanaal, NotificatieSoort, NotificatieStatus

if TYPE_CHECKING:
    from nazorg.register import Team
    from nazorg.settings import Settings
    from nazorg.store import Store

#: reason codes of a failed send (``notificatie.reden``)
REDEN_CODES = frozenset(
    {
        "geen_emailadres",  # the team has no ``email`` in its besluit (SMTP)
        "smtp_verbinding",  # the SMTP connection is missing, invalid or the server unreachable
        "smtp_geweigerd",  # the server refused the message or a recipient
        "smtp_fout",  # any other error while sending
        "bestand_fout",  # the file could not be written
    }
)


class VerzendFout(RuntimeError):
    """A send failed; the message is the reason code, never what the server or OS said."""

    def __init__(self, reden: str) -> None:
        if reden not in REDEN_CODES:
            raise ValueError("onbekende redencode")
        super().__init__(reden)
        self.reden = reden


@dataclass(frozen=True, slots=True)
class Bericht:
    """One notification: whom it is for and the melding it is about. Its text is fixed (see the module)."""

    notificatie_id: str
    melding_id: str
    datum: date
    team: Team
    team_gemeente: str  # the code of the gemeente whose besluit lists the team
    gemeente_naam: str  # whose coördinator nazorg to contact (the gemeente van herkomst)

    @property
    def onderwerp(self) -> str:
        return f"Nazorg: neem contact op (melding {self.melding_id})"

    @property
    def tekst(self) -> str:
        return (
            f"Aan: {self.team.naam}\n\n"
            f"Melding {self.melding_id}, datum {self.datum.isoformat()}: neem contact op met de "
            f"coördinator nazorg van gemeente {self.gemeente_naam}.\n\n"
            "Dit bericht bevat bewust geen verdere gegevens.\n"
        )


class Notifier(Protocol):
    """Sends a :class:`Bericht`; raises :class:`VerzendFout` (a reason code) when it could not."""

    @property
    def kanaal(self) -> Kanaal: ...

    def controleer(self) -> None:
        """Refuse a configuration that cannot send, before anything is due (every run alike)."""

    def verstuur(self, bericht: Bericht) -> None: ...


@dataclass(frozen=True)
class BestandNotifier:
    """One owner-only file per notification under ``root/<gemeente>/<team>/<notificatie_id>.txt``.

    Written under a temporary name and renamed into place, so a reader never
    sees half a message; ``O_EXCL`` so an existing file is never overwritten.
    """

    root: Path
    kanaal: Kanaal = Kanaal.BESTAND

    def controleer(self) -> None:
        maak_map(self.root)

    def pad(self, bericht: Bericht) -> Path:
        return self.root / bericht.team_gemeente / bericht.team.id / f"{bericht.notificatie_id}.txt"

    def verstuur(self, bericht: Bericht) -> None:
        doel = self.pad(bericht)
        tijdelijk = doel.with_name(f".{doel.name}.{secrets.token_hex(6)}.tmp")
        inhoud = f"Onderwerp: {bericht.onderwerp}\n{bericht.tekst}".encode()
        try:
            maak_map(doel.parent)
            fd = os.open(tijdelijk, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(inhoud)
            os.link(tijdelijk, doel)  # fails if doel exists: never overwrite a notification
        except OSError:
            raise VerzendFout("bestand_fout") from None
        finally:
            with contextlib.suppress(OSError):
                tijdelijk.unlink()


@dataclass(frozen=True)
class SmtpNotifier:
    """Sends through Airflow's ``SmtpHook`` and connection ``conn_id`` (sender: its ``from_email``)."""

    conn_id: str
    kanaal: Kanaal = Kanaal.SMTP

    def controleer(self) -> None:
        from nazorg.connections import get_connection

        get_connection(self.conn_id)  # ConnectionMissing / ConnectionInvalid name the id, never a value

    def verstuur(self, bericht: Bericht) -> None:
        import smtplib

        from nazorg.airflow.smtp import verstuur_email

        if not bericht.team.email:
            raise VerzendFout("geen_emailadres")
        body = "<pre>" + html.escape(bericht.tekst) + "</pre>"
        try:
            verstuur_email(self.conn_id, bericht.team.email, bericht.onderwerp, body)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused):
            raise VerzendFout("smtp_geweigerd") from None
        except (OSError, smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected):
            raise VerzendFout("smtp_verbinding") from None
        except Exception:  # the provider wraps much in AirflowException; its text is never kept
            raise VerzendFout("smtp_fout") from None


def notifier_voor(config: Settings) -> Notifier:
    """The notifier ``NAZORG_NOTIFIER`` names (checked in the settings: a closed list)."""
    if config.notifier == "smtp":
        return SmtpNotifier(config.smtp_conn_id)
    return BestandNotifier(config.notificatie_dir)


@dataclass(frozen=True, slots=True)
class Stand:
    """Where one notification (melding, soort, gemeente, team) is: sent, or how many attempts failed."""

    verzonden: bool
    mislukt: int


def stand(store: Store, melding_id: str, soort: NotificatieSoort, gemeente_code: str, team_id: str) -> Stand:
    rows = store.query(
        "laatstedag/notificatie_stand",
        {
            "melding_id": melding_id,
            "soort": soort.value,
            "gemeente_code": gemeente_code,
            "team_id": team_id,
            "verzonden": NotificatieStatus.VERZONDEN.value,
            "mislukt": NotificatieStatus.MISLUKT.value,
        },
    )
    row = rows[0] if rows else {"verzonden": 0, "mislukt": 0}
    return Stand(verzonden=int(row["verzonden"] or 0) > 0, mislukt=int(row["mislukt"] or 0))


def verstuur(
    store: Store,
    notifier: Notifier,
    *,
    soort: NotificatieSoort,
    melding_id: str,
    datum: date,
    team: Team,
    gemeente_code: str,
    gemeente_naam: str,
    nu: Callable[[], str],
) -> NotificatieStatus:
    """Send one notification and record the attempt (sent, or failed with its reason code)."""
    notificatie_id = uuid.uuid4().hex
    bericht = Bericht(notificatie_id, melding_id, datum, team, gemeente_code, gemeente_naam)
    try:
        notifier.verstuur(bericht)
        status, reden = NotificatieStatus.VERZONDEN, None
    except VerzendFout as fout:
        status, reden = NotificatieStatus.MISLUKT, fout.reden
    store.execute(
        "laatstedag/notificatie_insert",
        {
            "notificatie_id": notificatie_id,
            "melding_id": melding_id,
            "soort": soort.value,
            "team_id": team.id,
            "gemeente_code": gemeente_code,
            "kanaal": notifier.kanaal.value,
            "status": status.value,
            "reden": reden,
            "nu": nu(),
        },
    )
    return status
