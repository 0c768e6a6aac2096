"""Plain value types shared by every layer.

They are deliberately small: a check result carries a yes/no answer and a contact,
never the source data it was derived from (Bijlage 1, step 4 of the report: a yes/no
answer and whom to contact, nothing more).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Uitkomst(StrEnum):
    """The only answers a check may give."""

    JA = "ja"
    NEE = "nee"
    ONBEKEND = "onbekend"  # source failed or was ambiguous; never turned into nee
    NIET_UITGEVOERD = "niet_uitgevoerd"  # not allowed or not needed; carries a reason


class Aandachtsgebied(StrEnum):
    """The six DPAN aandachtsgebieden, in the order the basisdocument shows them."""

    VEILIGHEIDSHUIS_RECLASSERING = "veiligheidshuis_reclassering"
    ID_BEWIJS = "id_bewijs"
    INKOMEN_WERK_DAGBESTEDING = "inkomen_werk_dagbesteding"
    SCHULDEN = "schulden"
    HUISVESTING_ONDERDAK = "huisvesting_onderdak"
    ZORG = "zorg"


class Reden(StrEnum):
    """Machine-readable reason codes for niet_uitgevoerd and onbekend outcomes.

    One is also given to a ja or nee: ``contact_niet_in_besluit``, when the
    contact a source named is not a team of the gemeente's besluit and the
    besluit's default team is published instead.
    """

    NIET_IN_BESLUIT = "niet_in_besluit"
    GEEN_GRONDSLAG = "geen_grondslag"
    GEEN_TOESTEMMING = "geen_toestemming"
    BRON_ONBEREIKBAAR = "bron_onbereikbaar"
    BRON_FOUT = "bron_fout"
    BRON_AMBIGU = "bron_ambigu"
    BRON_TIMEOUT = "bron_timeout"
    NIET_IN_MELDING = "niet_in_melding"
    PERSOON_NIET_GEVONDEN = "persoon_niet_gevonden"
    # What the BRP says about its own record (nazorg.sources.brp_signalen): the record
    # cannot carry a definite answer, so the check is onbekend and says why.
    PERSOON_OVERLEDEN = "persoon_overleden"  # opschorting bijhouding, reden O
    BIJHOUDING_OPGESCHORT = "bijhouding_opgeschort"  # opschorting bijhouding, any other reden
    BRON_IN_ONDERZOEK = "bron_in_onderzoek"  # a field the answer rests on is in onderzoek
    HOUDER_ONJUIST = "houder_onjuist"  # a reisdocument whose holder is not the person asked about
    BRON_VORM = "bron_vorm"  # an SQL row whose bsn matches no requested BSN: rows cannot be attributed
    CONTACT_NIET_IN_BESLUIT = "contact_niet_in_besluit"  # the source's contact is not a listed team


class ContactHerkomst(StrEnum):
    """Where a check's published contact comes from (``uitkomst.contact_herkomst``, revision 0012).

    Recorded where the outcome is determined (:mod:`nazorg.checks`), because it
    cannot be derived afterwards: a source that names the besluit's default team
    itself looks, in the besluit, like no name at all.
    """

    BRON = "bron"  # a team of the besluit that a source named (the default team too)
    STANDAARD = "standaard"  # the besluit's default team: no source named one, or its name was refused


# The states below are stored as text in the pipeline DB, where CHECK constraints
# (migrations 0002 to 0007) hold the same lists: a new member needs a new migration, and
# tests/unit/test_migrations.py fails until it has one.


class MeldingStatus(StrEnum):
    """Where a melding is in the pipeline (``inbox.status``); ``geblokkeerd`` is final.

    ``mislukt`` ends a run that failed for another reason than over-collection
    (configuration, a bad lookup, a bug): purged and quarantined like a block,
    but a new run (``ontvang``) may take the melding up again once it is fixed.
    """

    ONTVANGEN = "ontvangen"  # in the inbox, no run has taken it yet
    IN_BEHANDELING = "in_behandeling"
    GEBLOKKEERD = "geblokkeerd"  # over-collection: purged, quarantined, never published
    GEPUBLICEERD = "gepubliceerd"
    MISLUKT = "mislukt"  # a step failed: purged, quarantined (reason code), nothing published


class DocumentStatus(StrEnum):
    """A basisdocument's way out (``basisdocument.status``): only an approved one is published."""

    CONCEPT = "concept"  # assembled, not yet checked by the guard
    GOEDGEKEURD = "goedgekeurd"  # the guard passed it
    GEPUBLICEERD = "gepubliceerd"


class Fase(StrEnum):
    """The step that put a row in quarantine (``quarantaine.fase``)."""

    INTAKE = "intake"  # a submitted melding was refused
    ONTVANG = "ontvang"  # the run could not start (configuration)
    PLAN = "plan"
    CHECK = "check"  # a source answered more (or other) than the question, or a check failed
    BASISDOCUMENT = "basisdocument"
    BEWAAK = "bewaak"  # the guard found over-collection in the basisdocument
    PUBLICEER = "publiceer"
    BATCH = "batch"  # a batch chunk failed as a whole; which step each melding was in is not known


class ChunkStatus(StrEnum):
    """Where one batch chunk is (``batch_chunk.status``).

    ``open`` until its task has run; ``klaar`` once its meldingen were processed
    (a retried task then does nothing twice); ``mislukt`` when processing raised
    and its unfinished meldingen were closed ``mislukt``.
    """

    OPEN = "open"
    KLAAR = "klaar"
    MISLUKT = "mislukt"


class Soort(StrEnum):
    """Why a melding is in a batch chunk (``batch_chunk_melding.soort``)."""

    NIEUW = "nieuw"  # not yet published: the whole pipeline
    HERHALING = "herhaling"  # published with onbekend outcomes due for retry: those checks again


class LaatstedagStatus(StrEnum):
    """Where a laatstedagsmelding is (``laatstedagsmelding.status``)."""

    ONTVANGEN = "ontvangen"  # stored; its notifications are not yet sent
    VERWERKT = "verwerkt"  # every notification it calls for was sent (or recorded as failed)
    MISLUKT = "mislukt"  # it could not be processed; quarantined with a reason code


class NotificatieSoort(StrEnum):
    """Why a notification was sent (``notificatie.soort``)."""

    LAATSTEDAGSMELDING = "laatstedagsmelding"  # end of detention: please contact
    INSEINEN = "inseinen"  # doelgroep top-x: the regievoerder is told at the start of detention


class Kanaal(StrEnum):
    """How a notification went out (``notificatie.kanaal``)."""

    SMTP = "smtp"
    BESTAND = "bestand"  # the embedded default: a file per notification in an owner-only directory


class NotificatieStatus(StrEnum):
    VERZONDEN = "verzonden"
    MISLUKT = "mislukt"


class OpschoonSoort(StrEnum):
    """Why a run of :mod:`nazorg.bewaartermijn` deleted (``bewaartermijn_run.soort``, revision 0010)."""

    BEWAARTERMIJN = "bewaartermijn"  # the daily run: what the register's terms say is due
    VERWIJDERVERZOEK = "verwijderverzoek"  # one person's erasure request (AVG art. 17)


class ToestemmingSoort(StrEnum):
    """What a consent record is (``toestemming.soort``), after §3.3.1.2 of the report.

    Both cover the checks they name for one melding; the difference is the legal
    ground the gemeente records: the person's consent, or an agreement (between
    DJI/PI, gemeente and the person) that describes the services offered and the
    processing they need.
    """

    TOESTEMMING = "toestemming"
    OVEREENKOMST = "overeenkomst"


class Uitvoeren(StrEnum):
    """The plan's decision per check (``plan.uitvoeren``); a ``nee`` carries a :class:`Reden`."""

    JA = "ja"
    NEE = "nee"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What one check says about one melding.

    ``contact_geweigerd`` says that a source named a contact outside the
    besluit's teams, so the default team stands in; the pipeline quarantines
    that fact (check and reason, never the text). It is a flag, not the value:
    the rejected text never leaves the evaluation.

    ``contact_herkomst``: where ``dossierverantwoordelijke`` comes from; None
    exactly when there is no contact (a check that was not run).
    """

    check_id: str
    uitkomst: Uitkomst
    dossierverantwoordelijke: str | None
    reden: Reden | None = None
    contact_geweigerd: bool = False
    contact_herkomst: ContactHerkomst | None = None

    def __post_init__(self) -> None:
        if (self.contact_herkomst is None) != (self.dossierverantwoordelijke is None):
            raise ValueError(f"{self.check_id}: contact_herkomst hoort bij een contact, en alleen daarbij")
        needs_reason = self.uitkomst in (Uitkomst.ONBEKEND, Uitkomst.NIET_UITGEVOERD)
        if needs_reason and self.reden is None:
            raise ValueError(f"{self.check_id}: uitkomst {self.uitkomst} needs a reden")
