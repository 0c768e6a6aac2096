"""Verwerkingsregister and gemeentelijke besluiten: policy as versioned data.

The register says what each check is for and on which basis it may run; a
besluit says which checks one gemeente performs, under which of its own rules,
and which connection and query serve each source. :func:`load_policy` refuses
an inconsistent combination so that a bad edit fails in CI, not at 3 a.m.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from nazorg.models import Aandachtsgebied
from nazorg.settings import DEFAULT_REGISTER_URI

if TYPE_CHECKING:
    from nazorg.sources.kinds import SourceAdapter

# A source kind; which kinds exist is the adapter registry's business (nazorg.sources.kinds),
# checked in consistency_problems, so a new kind needs no change here.
SOURCE_KIND = re.compile(r"^[a-z][a-z0-9_]{1,59}$")
BRONVRAAG = re.compile(r"^[a-z][a-z0-9_]{1,59}$")
ISO_DURATION = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?$")
CONTACT_MIN_LENGTH = 2
CONTACT_MAX_LENGTH = 80
#: a team or function name, no digits; its {1,79} is CONTACT_MIN/MAX_LENGTH minus the first letter
CONTACT = re.compile(r"^[A-Za-zÀ-ž][A-Za-zÀ-ž .,'()&/-]{1,79}$")
CHECK_ID = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
#: a team's id in a besluit's ``teams:`` list; what a check's default and a source may name
TEAM_ID = re.compile(r"^[a-z][a-z0-9_-]{1,39}$")
#: a team's functional mailbox (notifications); deliberately plain: no display name, no comments
EMAIL = re.compile(r"^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}$")
_M = TypeVar("_M", bound=BaseModel)


class RegisterError(ValueError):
    """The register or a besluit is inconsistent; the message says where and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Grondslag(_Strict):
    status: Literal["aanwezig", "niet_aanwezig"]
    omschrijving: str = Field(min_length=3)


#: who may see a check's outcome: the gemeentelijk coördinator (always the reader of the
#: basisdocument), the casemanager of the PI (Tabel 2's "DJI/PI" activities), the top-x-regievoerder
Ontvanger = Literal["coordinator", "pi_casemanager", "regievoerder"]
#: what starts the retention clock of ``bewaartermijn``: the eerstedagsmelding's arrival, or
#: the laatstedagsmelding (end of detention) for outcomes the nazorgplan still needs after it
BewaartermijnStart = Literal["melding_ontvangen", "laatstedagsmelding"]
#: what a besluit that enables a check must name besides its own grondslag (``BesluitCheck``):
#: ``beleidsregels`` - Tabel 1's basis is completed by the gemeente's own beleidsregels (huurschuld:
#: Participatiewet art. 16 lid 1 with beleidsregels bijzondere bijstand); ``dpia`` - the gemeente's
#: DPIA of the processing (report §4.2, §4.3, Bijlage 1 stap 3); ``criteria`` - the criteria of the
#: doelgroep or profile searched for (Bijlage 1 stap 3: "leg de criteria gedetailleerd vast")
BesluitVereiste = Literal["beleidsregels", "dpia", "criteria"]


class Actie(_Strict):
    """Which outcome asks the coördinator to act, and what to do (Dutch, one line)."""

    uitkomst: Literal["ja", "nee"]
    tekst: str = Field(min_length=10, max_length=200)


class RegisterEntry(_Strict):
    id: str = Field(pattern=CHECK_ID.pattern)
    versie: int = Field(ge=1)
    aandachtsgebied: Aandachtsgebied
    vraag: str = Field(min_length=5)
    doel: str = Field(min_length=5)
    grondslag: Grondslag
    wanneer: Literal["standaard", "toestemming"]
    uitvoerder: Literal["gemeente", "dji_pi"]
    bijzondere_categorie: Literal["geen", "gezondheid", "strafrechtelijk"]
    # The exception to the ban on special-category data (UAVG) that lets this check touch it:
    # a precondition for processing such data, NOT a legal basis (that is ``grondslag``).
    uitzondering: str | None = None
    #: what a besluit enabling this check must name on top of a grondslag (see BesluitVereiste)
    besluit_vereist: list[BesluitVereiste] = Field(default_factory=list)
    bron: str = Field(pattern=SOURCE_KIND.pattern)
    # What to ask the bron, for kinds that can answer more than one question
    # (haal_centraal_brp_personen: woonadres or minderjarige_kinderen); the kind's
    # adapter lists what it can answer. A gemeentelijk_sql check's question is its query.
    bronvraag: str | None = Field(default=None, pattern=BRONVRAAG.pattern)
    # Supplies only the contact: when it knows the person, its dossierverantwoordelijke.
    aanvullende_bron: str | None = Field(default=None, pattern=SOURCE_KIND.pattern)
    # For kinds that read the BRP's onderzoek markers (the Haal Centraal kinds): what a
    # field "in onderzoek" means for the answer. onbekend: open, reden bron_in_onderzoek;
    # negeren: answer on the registered value. The kind's adapter says whether it needs it.
    in_onderzoek: Literal["onbekend", "negeren"] | None = None
    # The BRP API gateway's ``x-doelbinding`` for this check (a code agreed with the
    # gateway's supplier); without it the check id is sent (nazorg.sources.builtin.doelbinding).
    doelbinding: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9._@:-]{1,79}$")
    bewaartermijn: str
    bewaartermijn_start: BewaartermijnStart
    vertrouwelijkheid: Literal["vertrouwelijk", "zeer_vertrouwelijk"]
    gegevenscategorieen: list[str] = Field(min_length=1)
    #: who may see the outcome (Tabel 2's "wie"); the coördinator always does
    ontvangers: list[Ontvanger] = Field(min_length=1)
    #: reference to the DPIA that covers this processing (report §4.3)
    dpia: str = Field(min_length=5)
    #: which outcome needs action, and which
    actie: Actie

    @field_validator("ontvangers", "besluit_vereist")
    @classmethod
    def _uniek(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("een waarde komt meer dan eens voor")
        return value

    @field_validator("bewaartermijn")
    @classmethod
    def _iso_duration(cls, value: str) -> str:
        if not ISO_DURATION.match(value):
            raise ValueError(f"bewaartermijn {value!r} is geen ISO 8601-duur (bijv. P1Y)")
        return value

    #: the register's base URI (``NAZORG_REGISTER_URI``), set by :func:`load_register`
    _register_uri: str = PrivateAttr(default=DEFAULT_REGISTER_URI)

    @property
    def processing_activity_id(self) -> str:
        """The exact register version a processing-log record points at, as a URI.

        The Logboek Dataverwerkingen standard wants ``dpl.core.processing_activity_id``
        to be a URI into the register, and every relevant change a new identifier:
        ``<register_uri><id>/v<versie>`` (see :func:`activiteit_uri`).
        """
        return activiteit_uri(self._register_uri, self.id, self.versie)


class NietGebouwd(_Strict):
    """A processing of Tabel 1 that is deliberately not a check, and why (report §3.3: minimisation)."""

    id: str = Field(pattern=CHECK_ID.pattern)
    aandachtsgebied: Aandachtsgebied
    omschrijving: str = Field(min_length=5)  # Tabel 1's row
    wanneer: Literal["standaard", "toestemming"]
    uitvoerder: Literal["gemeente", "dji_pi"]
    grondslag: Grondslag
    reden: str = Field(min_length=20)
    alternatief: str = Field(min_length=5)  # where the information comes from instead


class Register(_Strict):
    register_versie: str = Field(min_length=1)
    verwerkingsverantwoordelijke: str
    checks: list[RegisterEntry] = Field(min_length=1)
    niet_gebouwd: list[NietGebouwd] = Field(default_factory=list)

    def entry(self, check_id: str) -> RegisterEntry:
        for entry in self.checks:
            if entry.id == check_id:
                return entry
        raise KeyError(check_id)

    @property
    def ids(self) -> list[str]:
        return [entry.id for entry in self.checks]


class Lookup(_Strict):
    verbinding: str = Field(min_length=1)
    query: str = Field(pattern=r"^lookups/[a-z0-9_]+\.sql$")
    # The SQL dialect of the query (and so of its connection); without it the query
    # must pass the lookup rules in both (nazorg.sources.lookup_lint).
    dialect: Literal["postgresql", "sqlite"] | None = None


def activiteit_uri(register_uri: str, check_id: str, versie: int) -> str:
    """``<register_uri><check_id>/v<versie>``: one URI per register entry version."""
    return f"{register_uri}{check_id}/v{versie}"


#: both forms a stored ``processing_activity_id`` may have: the URI, and ``<id>@v<n>`` of before 0011
_ACTIVITEIT_ID = re.compile(
    r"^(?P<basis>.*?)(?P<id>[a-z][a-z0-9_]{1,39})(?:/v|@v)(?P<versie>[1-9][0-9]{0,5})$"
)


def lees_activiteit_id(waarde: str) -> tuple[str, int]:
    """``(check_id, versie)`` from a stored processing_activity_id; ValueError for anything else.

    Accepts the URI of any register base and the ``<id>@v<versie>`` of records written
    before migration 0011 (which rewrites the pipeline DB's own rows; an export or a
    copy made earlier may still hold the old form).
    """
    match = _ACTIVITEIT_ID.fullmatch(waarde)
    if match is None or ("@v" in waarde and match["basis"]):
        raise ValueError("geen processing_activity_id (<register-uri><check>/v<versie> of <check>@v<versie>)")
    return match["id"], int(match["versie"])


def _dubbel(values: list[str]) -> set[str]:
    return {v for v in values if values.count(v) > 1}


class Team(_Strict):
    """One entry of a besluit's closed list of contacts: an id to refer to it, a name to publish.

    Why a list: a contact is the one free-text field that reaches the published
    document, and a pattern cannot tell a team from a diagnosis or a person's
    name. So a source may only *name* a team of this list (by id or exact name);
    what is published is always the list's ``naam``. The name still obeys
    :data:`CONTACT` as a sanity check on the besluit itself.
    """

    id: str = Field(pattern=TEAM_ID.pattern)
    naam: str
    #: the team's functional mailbox for notifications (laatstedagsmelding, inseinen); optional:
    #: without it the SMTP notifier records the notification as failed (``geen_emailadres``)
    email: str | None = Field(default=None, pattern=EMAIL.pattern, max_length=254)

    @field_validator("naam")
    @classmethod
    def _contact_format(cls, value: str) -> str:
        if not CONTACT.match(value):
            raise ValueError("naam: alleen een team- of functienaam zonder cijfers, 2 tot 80 tekens")
        return value


class BesluitCheck(_Strict):
    grondslag: str | None = None  # the gemeente's own basis, where Tabel 1 has none
    #: the gemeente's beleidsregels that complete Tabel 1's basis (register: besluit_vereist)
    beleidsregels: str | None = None
    #: the gemeente's DPIA of this processing, by reference (register: besluit_vereist)
    dpia: str | None = None
    #: the criteria of the doelgroep or profile the check looks for, text or reference
    criteria: str | None = None
    verbinding: str | None = None  # HTTP connection id for Haal Centraal sources
    #: BRP Personen connection for a source that cannot tell an unknown person from one
    #: without data (Reisdocumenten answers [] for both): its nee is confirmed there
    brp_verbinding: str | None = None
    lookup: Lookup | None = None  # SQL lookup for gemeentelijke sources
    #: the id of the team (in the besluit's ``teams``) to contact when no source names one
    dossierverantwoordelijke: str = Field(pattern=TEAM_ID.pattern)


class BesluitMeta(_Strict):
    id: str = Field(min_length=1)
    titel: str = Field(min_length=5)
    vastgesteld_op: date


class Besluit(_Strict):
    gemeente_code: str = Field(pattern=r"^[0-9]{4}$")
    gemeente_naam: str
    #: the gemeente's Organisatie-identificatienummer (20 digits), sent to the BRP API gateway
    #: as ``x-origin-oin`` so it protocols the request under the right afnemer
    oin: str = Field(pattern=r"^[0-9]{20}$")
    besluit: BesluitMeta
    teams: list[Team] = Field(min_length=1)
    checks: dict[str, BesluitCheck]
    #: the team (id in ``teams``) that directs the top-x approach: told once when doelgroep_topx
    #: answers ja for a published melding (inseinen); without it nobody is told
    regievoerder: str | None = Field(default=None, pattern=TEAM_ID.pattern)

    @model_validator(mode="after")
    def _closed_contact_list(self) -> Besluit:
        """Ids and names unique, no id that is another team's name, every default a team of the list."""
        problems = []
        ids = [t.id for t in self.teams]
        namen = [t.naam for t in self.teams]
        problems += [f"teams: id {i} komt meer dan eens voor" for i in sorted(_dubbel(ids))]
        problems += [f"teams: naam {n} komt meer dan eens voor" for n in sorted(_dubbel(namen))]
        # a source names a team by id or by name: one string must never point at two teams
        problems += [f"teams: id {t.id} is de naam van een ander team" for t in self.teams if t.id in namen]
        for check_id, chosen in self.checks.items():
            if chosen.dossierverantwoordelijke not in ids:
                problems.append(
                    f"checks.{check_id}.dossierverantwoordelijke: {chosen.dossierverantwoordelijke} "
                    "is geen team-id uit teams"
                )
        if self.regievoerder is not None and self.regievoerder not in ids:
            problems.append(f"regievoerder: {self.regievoerder} is geen team-id uit teams")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def team_naam(self, contact: str) -> str | None:
        """The published name of the team a source names by id or exact name; None for anything else.

        Exact: no case folding, no trimming. A near miss is not a team, and the
        caller must not publish, store or log it.
        """
        for team in self.teams:
            if contact in (team.id, team.naam):
                return team.naam
        return None

    def team(self, team_id: str) -> Team | None:
        """The team with this id; None for anything else."""
        return next((t for t in self.teams if t.id == team_id), None)

    def standaard_contact(self, check_id: str) -> str:
        """The name of the team the besluit names for ``check_id`` (its default contact)."""
        naam = self.team_naam(self.checks[check_id].dossierverantwoordelijke)
        if naam is None:  # unreachable for a validated besluit; model_copy skips validation
            raise RegisterError(f"besluit {self.gemeente_code}: {check_id} verwijst naar een onbekend team")
        return naam


@dataclass(frozen=True)
class Policy:
    """The register plus every gemeente's besluit, checked against each other."""

    register: Register
    besluiten: dict[str, Besluit]

    def melding_velden(self) -> dict[str, frozenset[str]]:
        """Per gemeente, the melding fields its besluit reads (bronvraag of a ``melding`` check).

        The intake stores no other answer field (:func:`nazorg.intake.minimaliseer`).
        """
        return {
            code: frozenset(
                entry.bronvraag
                for entry in self.register.checks
                if entry.bron == "melding" and entry.bronvraag and entry.id in besluit.checks
            )
            for code, besluit in self.besluiten.items()
        }

    def besluit(self, gemeente_code: str) -> Besluit:
        try:
            return self.besluiten[gemeente_code]
        except KeyError:
            raise RegisterError(f"geen besluit voor gemeente {gemeente_code}") from None


#: libyaml's safe loader when PyYAML was built with it (the wheels are): the pure-Python
#: loader costs ~0.13 s for the register and besluiten, and every task process loads them
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path) -> object:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader
    except (OSError, yaml.YAMLError) as exc:
        raise RegisterError(f"{path}: niet leesbaar: {exc}") from exc


def _parse(model: type[_M], path: Path) -> _M:
    try:
        return model.model_validate(_read_yaml(path))
    except ValidationError as exc:
        problems = "; ".join(_problem(err) for err in exc.errors())
        raise RegisterError(f"{path}: {problems}") from None


def _problem(err: ErrorDetails) -> str:
    """One validation error as ``where: why``; a whole-model check names its own places."""
    if not err["loc"]:
        return str(err["msg"]).removeprefix("Value error, ")
    return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"


def _source_kinds(register: Register) -> tuple[dict[str, type[SourceAdapter]], list[str]]:
    """The adapter of every kind the register names, and why an entry's sources cannot serve it."""
    from nazorg.sources.kinds import adapter_class

    kinds: dict[str, type[SourceAdapter]] = {}
    problems: list[str] = []
    for entry in register.checks:
        for rol, bron in (("bron", entry.bron), ("aanvullende_bron", entry.aanvullende_bron)):
            if bron is None:
                continue
            try:
                kinds[bron] = adapter_class(bron)
            except LookupError as exc:
                problems.append(f"register: {entry.id}: {rol}: {exc}")
        if entry.bron in kinds:
            problems += kinds[entry.bron].register_problems(entry)
        extra = kinds.get(entry.aanvullende_bron or "")
        if extra is not None and not extra.levert_contact:
            problems.append(f"register: {entry.id}: aanvullende_bron {extra.kind} kan geen contact leveren")
    return kinds, problems


def consistency_problems(register: Register, besluiten: dict[str, Besluit], sql_root: Path) -> list[str]:
    """Every reason the combination may not run, as readable Dutch-English lines."""
    problems: list[str] = []
    seen: set[str] = set()
    kinds, kind_problems = _source_kinds(register)
    problems += kind_problems
    for entry in register.checks:
        if entry.id in seen:
            problems.append(f"register: dubbele check-id {entry.id}")
        seen.add(entry.id)
        if "coordinator" not in entry.ontvangers:
            problems.append(
                f"register: {entry.id}: ontvangers zonder coordinator (die leest het basisdocument)"
            )
        if entry.bijzondere_categorie != "geen" and not entry.uitzondering:
            problems.append(
                f"register: {entry.id} raakt bijzondere/strafrechtelijke gegevens "
                "maar noemt geen uitzondering (uitzondering: ...)"
            )
    for niet in register.niet_gebouwd:
        if niet.id in seen:
            problems.append(f"register: {niet.id} staat zowel bij checks als bij niet_gebouwd")
    for code, besluit in besluiten.items():
        where = f"besluit {code}"
        for check_id, chosen in besluit.checks.items():
            if check_id not in seen:
                problems.append(f"{where}: onbekende check {check_id} (niet in het register)")
                continue
            entry = register.entry(check_id)
            if entry.grondslag.status == "niet_aanwezig" and not chosen.grondslag:
                problems.append(
                    f"{where}: {check_id} heeft in Tabel 1 geen wettelijke basis; "
                    "het besluit moet een eigen grondslag noemen"
                )
            problems += [
                f"{where}: {check_id} vereist in het besluit {vereiste} ({_VEREISTE_UITLEG[vereiste]})"
                for vereiste in ontbrekende_vereisten(entry, chosen)
            ]
            for bron in (entry.bron, entry.aanvullende_bron):
                if bron is not None and bron in kinds:
                    problems += kinds[bron].besluit_problems(where, check_id, chosen, sql_root)
            if chosen.brp_verbinding and not (entry.bron in kinds and kinds[entry.bron].bevestigt_in_brp):
                problems.append(f"{where}: {check_id}: bron {entry.bron} kent geen brp_verbinding")
        if besluit.gemeente_code != code:
            problems.append(f"{where}: bestandsnaam en gemeente_code verschillen")
    return problems


_VEREISTE_UITLEG: dict[str, str] = {
    "beleidsregels": "de gemeentelijke beleidsregels die de grondslag uit Tabel 1 aanvullen",
    "dpia": "een verwijzing naar de DPIA van de gemeente",
    "criteria": "de criteria van de doelgroep of het profiel (Bijlage 1 stap 3)",
}


def ontbrekende_vereisten(entry: RegisterEntry, chosen: BesluitCheck) -> list[str]:
    """What the register says a besluit enabling ``entry`` must name, and ``chosen`` does not."""
    return [v for v in entry.besluit_vereist if not (getattr(chosen, v) or "").strip()]


VERSIES_LOCK = "versies.lock.json"


# Fields added to RegisterEntry after versions were first recorded: left at their
# default they are not part of the hash, so adding a field does not silently
# "change" every recorded version; giving one a value does.
_LATER_FIELDS = frozenset({"bronvraag", "in_onderzoek", "doelbinding"})


def inhoud_hash(entry: RegisterEntry) -> str:
    """What a version stands for: every field of the entry except the version number itself."""
    data = entry.model_dump(mode="json", exclude={"versie"})
    for name in _LATER_FIELDS:
        if data.get(name) is None:
            data.pop(name, None)
    payload = json.dumps(data, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def version_problems(register: Register, lock: Mapping[str, Any]) -> list[str]:
    """A changed entry must carry a new version, and every version must be recorded in the lock.

    Processing-log records point at ``<register_uri><id>/v<versie>``; if the meaning of a check
    could change under the same version, those records would lie.
    """
    problems = []
    hint = "verhoog `versie` en voer `nazorg register vastleggen` uit"
    for entry in register.checks:
        recorded = lock.get(entry.id)
        if recorded is None:
            problems.append(
                f"register: {entry.id} v{entry.versie} is niet vastgelegd (`nazorg register vastleggen`)"
            )
        elif entry.versie < int(recorded["versie"]):
            problems.append(f"register: {entry.id} versie {entry.versie} is lager dan vastgelegd")
        elif entry.versie == int(recorded["versie"]) and inhoud_hash(entry) != recorded["inhoud"]:
            problems.append(f"register: {entry.id} is gewijzigd zonder nieuwe versie ({hint})")
        elif entry.versie > int(recorded["versie"]):
            problems.append(
                f"register: {entry.id} v{entry.versie} is niet vastgelegd (`nazorg register vastleggen`)"
            )
    return problems


def read_lock(directory: Path) -> dict[str, Any]:
    path = directory / VERSIES_LOCK
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def load_register(directory: Path, register_uri: str | None = None) -> Register:
    """Only ``verwerkingsregister.yaml``, parsed: enough to derive the guard suite from.

    No besluiten and no version lock, so the suite can be regenerated while
    those are still being edited; ``nazorg register check`` judges the whole.
    ``register_uri`` is the base of every entry's ``processing_activity_id``
    (default :data:`~nazorg.settings.DEFAULT_REGISTER_URI`).
    """
    register = _parse(Register, directory / "verwerkingsregister.yaml")
    if register_uri is not None:
        for entry in register.checks:
            entry._register_uri = register_uri
    return register


def vastleggen(directory: Path) -> dict[str, Any]:
    """Record the current versions; refuses a changed entry that kept its version."""
    register = load_register(directory)
    lock = read_lock(directory)
    unbumped = [p for p in version_problems(register, lock) if "zonder nieuwe versie" in p or "lager" in p]
    if unbumped:
        raise RegisterError("\n".join(unbumped))
    new = {e.id: {"versie": e.versie, "inhoud": inhoud_hash(e)} for e in register.checks}
    (directory / VERSIES_LOCK).write_text(json.dumps(new, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return new


def load_besluiten(directory: Path) -> dict[str, Besluit]:
    """Every ``besluiten/*.yaml``, parsed (each on its own: its teams and their references).

    Enough to derive the guard suite's contact list from; whether the besluiten
    fit the register is :func:`load_policy`'s business.
    """
    besluiten: dict[str, Besluit] = {}
    for path in sorted((directory / "besluiten").glob("*.yaml")):
        besluit = _parse(Besluit, path)
        code = path.name.split("-", 1)[0]
        if code in besluiten:
            raise RegisterError(f"{path}: tweede besluit voor gemeente {code}")
        besluiten[code] = besluit
    if not besluiten:
        raise RegisterError(f"{directory}/besluiten: geen enkel besluit gevonden")
    return besluiten


def team_namen(besluiten: Mapping[str, Besluit]) -> list[str]:
    """Every team name of every besluit, sorted: the contacts a published document may name."""
    return sorted({team.naam for besluit in besluiten.values() for team in besluit.teams})


def load_policy(directory: Path, sql_root: Path, register_uri: str | None = None) -> Policy:
    """Load and check ``verwerkingsregister.yaml`` and ``besluiten/*.yaml``."""
    register = load_register(directory, register_uri)
    besluiten = load_besluiten(directory)
    problems = version_problems(register, read_lock(directory))
    problems += consistency_problems(register, besluiten, sql_root)
    if problems:
        raise RegisterError("\n".join(problems))
    return Policy(register=register, besluiten=besluiten)


def default_policy() -> Policy:
    """The policy of the configured project (``NAZORG_REGISTER_DIR``/``NAZORG_SQL_DIR``)."""
    from nazorg.settings import settings

    config = settings()
    return load_policy(config.register_dir, config.sql_dir, config.register_uri)
