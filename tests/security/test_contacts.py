"""Attack class: sensitive text as the contact.

A lookup may return any text as ``dossierverantwoordelijke``: a person's name, a
diagnosis, an addiction, a date of birth or a BSN written in words. None of these
has a digit or an ``@``, so the old guard (a pattern and a length) published them.
A pattern cannot tell a team from a diagnosis; the contact is now a closed list:
each besluit lists its ``teams``, a source may only name one of them (by id or
exact name), and anything else is neither published nor stored. The outcome is
kept, the check's default team is the contact, the outcome carries the reason
``contact_niet_in_besluit`` and the quarantine records the check and the reason.

The pipeline tests run real SQL lookups against the simulated source systems,
in-process (as ``tests/pipeline``); ``tests/dags`` has the same attack through one
real Airflow run.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import text

from nazorg.checks import Geval, evalueer
from nazorg.cli import main
from nazorg.models import CheckResult, ContactHerkomst, Reden, Uitkomst
from nazorg.register import RegisterError, default_policy, load_policy
from nazorg.settings import SOURCE_ROOT, settings
from nazorg.sources.answer import Antwoord
from nazorg.sources.kinds import BsnAdapter, SourceAdapter, Vraag
from nazorg.store import make_engine
from nazorg_dev.sim.bronnen import vul_bronnen
from nazorg_dev.sim.haal_centraal import HaalCentraalSimServer
from nazorg_dev.sim.meldingen import meldingen
from nazorg_dev.sim.population import Persoon, population
from tests.oracle import expected
from tests.pipeline.test_pipeline_steps import World, _world

REDEN = Reden.CONTACT_NIET_IN_BESLUIT.value
PIPELINE_TABLES = (
    "inbox",
    "toestemming",
    "toestemming_check",
    "quarantaine",
    "plan",
    "uitkomst",
    "basisdocument",
    "outbox",
    "verwerkingslog",
)
_CIJFERS = ("nul", "een", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen")


def in_woorden(bsn: str) -> str:
    """A BSN written out digit by digit: no digit left for a pattern to find."""
    return " ".join(_CIJFERS[int(c)] for c in bsn)


# --------------------------------------------------------------------------- the attacks


#: check -> (gemeente, the Persoon flag that makes its source know the person, table, contact column)
BRONNEN = {
    "schuldhulpverlening": ("9901", "schuldhulp", "shv_dossiers", "schuldhulpverlener_team"),
    "ggz_risicoprofiel": ("9901", "ggz_risico", "ggz_profielen", "behandelteam"),
    "wmo_zorg": ("9901", "wmo", "wmo_voorzieningen", "team"),
    # onderdak takes its contact from an aanvullende_bron (the opvang), not from its bron (the BRP)
    "onderdak": ("9901", "maatschappelijke_opvang", "mo_clienten", "contactteam"),
    "uitkering_reintegratie": ("9901", "reintegratie", "wi_uitkeringen", "consulent_team"),
    "schuld_cjib": ("9901", "schuld_cjib", "cjib_vorderingen", "team"),
    "doelgroep_topx": ("9901", "doelgroep_topx", "vh_doelgroep", "regievoerder"),
}


@dataclass(frozen=True)
class Aanval:
    """One source row, of a person the check's source knows, whose contact column says ``tekst``."""

    naam: str
    check_id: str
    tekst: str  # may contain {bsn_woorden}: the person's own BSN in words
    #: sensitive text is searched for everywhere; a near miss of a real team name only in its melding
    gevoelig: bool = True

    @property
    def gemeente(self) -> str:
        return BRONNEN[self.check_id][0]

    @property
    def kenmerk(self) -> str:
        return BRONNEN[self.check_id][1]

    @property
    def tabel(self) -> str:
        return BRONNEN[self.check_id][2]

    @property
    def kolom(self) -> str:
        return BRONNEN[self.check_id][3]


AANVALLEN = [
    Aanval("naam", "schuldhulpverlening", "Jan de Vries"),
    Aanval("diagnose", "ggz_risicoprofiel", "Paranoide schizofrenie, in behandeling"),
    Aanval("verslaving", "wmo_zorg", "Verslaafd aan heroine en alcohol"),
    Aanval("geboortedatum_in_woorden", "onderdak", "Geboren op twaalf maart negentienvijfentachtig"),
    Aanval("bsn_in_woorden", "uitkering_reintegratie", "{bsn_woorden}"),
    # near misses of "Team Wonen Ruimhaven" (a real team) and of its id "wonen": exact means exact
    Aanval("bijna_team_hoofdletters", "schuld_cjib", "team wonen ruimhaven", gevoelig=False),
    Aanval("bijna_team_dubbele_spatie", "schuld_cjib", "Team  Wonen Ruimhaven", gevoelig=False),
    Aanval("bijna_team_harde_spatie", "schuld_cjib", "Team\u00a0Wonen Ruimhaven", gevoelig=False),
    Aanval("bijna_team_id_hoofdletters", "schuld_cjib", "WONEN", gevoelig=False),
    # a real team, but of the other gemeente: in the guard's project-wide set, not in this besluit
    Aanval("team_van_andere_gemeente", "doelgroep_topx", "Sociaal Team Strikdorp", gevoelig=False),
]


@dataclass(frozen=True)
class Doelwit:
    aanval: Aanval
    persoon: Persoon
    record: dict[str, Any]
    tekst: str


def _persoon(gemeente: str, kenmerk: str, gebruikt: set[int]) -> int:
    """A synthetic person not used yet, from the back half of the population."""
    index = next(
        i
        for i, p in enumerate(population())
        if i >= 1000 and i not in gebruikt and p.gemeente_code == gemeente and getattr(p, kenmerk)
    )
    gebruikt.add(index)
    return index


def _kies(aanvallen: list[Aanval], gebruikt: set[int]) -> list[Doelwit]:
    """A distinct person per attack."""
    doelwitten = []
    for aanval in aanvallen:
        index = _persoon(aanval.gemeente, aanval.kenmerk, gebruikt)
        persoon = population()[index]
        tekst = aanval.tekst.format(bsn_woorden=in_woorden(persoon.bsn))
        doelwitten.append(Doelwit(aanval, persoon, next(meldingen(1, offset=index)), tekst))
    return doelwitten


# --------------------------------------------------------------------------- one world, every attack


class _Verzamel(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.teksten: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.teksten.append(self.format(record))
        if record.exc_info and record.exc_info[1] is not None:
            self.teksten.append(repr(record.exc_info[1]))


@dataclass
class Uitslag:
    world: World
    doelwitten: list[Doelwit]
    controles: list[dict[str, Any]]
    logs: str

    def document(self, melding_id: str) -> dict[str, Any]:
        rows = self.world.store.query("outbox_get", {"melding_id": melding_id})
        assert len(rows) == 1, f"{melding_id} is not published"
        assert Path(rows[0]["bestand"]).read_text(encoding="utf-8") == rows[0]["inhoud"]
        document: dict[str, Any] = json.loads(rows[0]["inhoud"])
        return document

    def checks(self, melding_id: str) -> dict[str, dict[str, Any]]:
        return {c["check_id"]: c for g in self.document(melding_id)["aandachtsgebieden"] for c in g["checks"]}

    def quarantaine(self, melding_id: str) -> set[tuple[Any, ...]]:
        return {
            (q["herkomst"], q["fase"], q["reden_code"], q["veld"], q["expectation"])
            for q in self.world.store.query("quarantaine_list")
            if q["melding_id"] == melding_id
        }

    def dump(self, melding_id: str | None = None) -> str:
        """Every row of every pipeline table (of one melding, if given), plus every published file."""
        parts = []
        with self.world.store.engine.connect() as conn:
            for table in PIPELINE_TABLES:
                has_melding = table not in ("toestemming_check", "verwerkingslog")
                if melding_id is not None and has_melding:
                    sql, params = f"SELECT * FROM {table} WHERE melding_id = :m", {"m": melding_id}
                elif melding_id is not None:
                    continue
                else:
                    sql, params = f"SELECT * FROM {table}", {}
                parts += [repr(tuple(row)) for row in conn.execute(text(sql), params)]
        bestanden = sorted((self.world.tmp / "outbox").rglob("*"))
        if melding_id is not None:
            bestanden = [b for b in bestanden if b.name.startswith(melding_id)]
        parts += [b.read_text(encoding="utf-8") for b in bestanden if b.is_file()]
        return "\n".join(parts)


@pytest.fixture(scope="module")
def uitslag(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Uitslag]:
    tmp = tmp_path_factory.mktemp("contacts")
    server = HaalCentraalSimServer(port=0)
    server.start()
    handler = _Verzamel()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        bronnen = f"sqlite:///{tmp / 'bronnen.db'}"
        engine = make_engine(bronnen)
        vul_bronnen(engine, population(), 1)
        gebruikt: set[int] = set()
        doelwitten = _kies(AANVALLEN, gebruikt)
        with engine.begin() as conn:
            for d in doelwitten:
                a = d.aanval
                changed = conn.execute(
                    text(f"UPDATE {a.tabel} SET {a.kolom} = :t WHERE bsn = :b"),
                    {"t": d.tekst, "b": d.persoon.bsn},
                ).rowcount
                assert changed == 1, a.naam
        engine.dispose()
        # controls: sources that name a team of the besluit, by id (opvang) and by name (werkplein)
        controles = [
            next(meldingen(1, offset=_persoon("9901", "maatschappelijke_opvang", gebruikt))),
            next(meldingen(1, offset=_persoon("9901", "reintegratie", gebruikt))),
        ]
        with pytest.MonkeyPatch.context() as mp:
            world = _world(tmp, mp, server, bronnen, SOURCE_ROOT)
            for melding_id in world.submit([d.record for d in doelwitten] + controles):
                world.run(melding_id)
            handler.flush()
            yield Uitslag(world, doelwitten, controles, "\n".join(handler.teksten))
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        server.stop()
        from nazorg.store import dispose_engines

        dispose_engines()


def _ids(aanvallen: list[Aanval]) -> list[str]:
    return [a.naam for a in aanvallen]


def _doelwit(uitslag: Uitslag, naam: str) -> Doelwit:
    (d,) = [d for d in uitslag.doelwitten if d.aanval.naam == naam]
    return d


#: the other checks whose lookup reads the same table (sql/lookups/): the attack reaches them too
OOK_GELEZEN_DOOR = {"uitkering_reintegratie": ("uitkering_voorschot",)}


def _geraakt(d: Doelwit) -> set[str]:
    """The checks whose source named the attacked contact: the target, and a co-reader that found the row."""
    check_id = d.aanval.check_id
    anderen = OOK_GELEZEN_DOOR.get(check_id, ())
    return {check_id} | {c for c in anderen if expected(c, d.persoon.bsn, d.aanval.gemeente)[0] == "ja"}


@pytest.mark.pipeline
@pytest.mark.parametrize("naam", _ids(AANVALLEN))
def test_the_outcome_stands_with_the_default_team_and_a_reason(uitslag: Uitslag, naam: str) -> None:
    d = _doelwit(uitslag, naam)
    besluit = default_policy().besluit(d.aanval.gemeente)
    checks = uitslag.checks(d.record["melding_id"])
    for check_id, result in checks.items():
        uitkomst, reden = expected(check_id, d.persoon.bsn, d.aanval.gemeente)
        if check_id in _geraakt(d):
            assert uitkomst in ("ja", "nee")  # the attacked source answered: the outcome is definite
            assert result == {
                "check_id": check_id,
                "uitkomst": uitkomst,  # kept: the answer was right, only the contact was not a team
                "dossierverantwoordelijke": besluit.standaard_contact(check_id),
                "contact_herkomst": "standaard",  # recorded: the default team stands in
                "reden": REDEN,
            }
        else:  # the melding's other checks are untouched
            assert (result["uitkomst"], result["reden"]) == (uitkomst, reden), check_id


@pytest.mark.pipeline
@pytest.mark.parametrize("naam", _ids(AANVALLEN))
def test_the_quarantine_names_the_check_and_the_reason_not_the_value(uitslag: Uitslag, naam: str) -> None:
    d = _doelwit(uitslag, naam)
    assert uitslag.quarantaine(d.record["melding_id"]) == {
        ("pipeline", "check", REDEN, f"{check_id}.dossierverantwoordelijke", None) for check_id in _geraakt(d)
    }


@pytest.mark.pipeline
@pytest.mark.parametrize("naam", _ids(AANVALLEN))
def test_the_text_is_stored_published_and_logged_nowhere(uitslag: Uitslag, naam: str) -> None:
    d = _doelwit(uitslag, naam)
    assert d.tekst not in uitslag.dump(d.record["melding_id"])
    if d.aanval.gevoelig:  # nothing anywhere; a near miss of a real team name may match other text
        assert d.tekst not in uitslag.dump()
    assert d.tekst not in uitslag.logs
    assert d.record["melding_id"] in uitslag.dump()  # sanity: the search sees the data


@pytest.mark.pipeline
def test_a_source_naming_a_listed_team_by_id_or_name_is_published_as_the_besluit_names_it(
    uitslag: Uitslag,
) -> None:
    opvang, werkplein = uitslag.controles
    onderdak = uitslag.checks(opvang["melding_id"])["onderdak"]
    assert (
        onderdak["dossierverantwoordelijke"] == "Team Maatschappelijke Opvang Ruimhaven"
    )  # id in the source
    assert onderdak["reden"] is None
    uitkering = uitslag.checks(werkplein["melding_id"])["uitkering_reintegratie"]
    assert (uitkering["uitkomst"], uitkering["dossierverantwoordelijke"], uitkering["reden"]) == (
        "ja",
        "Team Werk en Inkomen Ruimhaven",
        None,
    )
    assert onderdak["contact_herkomst"] == uitkering["contact_herkomst"] == "bron"  # recorded, published
    for record in (opvang, werkplein):
        assert uitslag.quarantaine(record["melding_id"]) == set()
    assert "maatschappelijke-opvang" not in uitslag.dump(opvang["melding_id"])  # the id is not published


# --------------------------------------------------------------------------- the evaluation itself


A = Geval("EDM-A", "999000007", None)
B = Geval("EDM-B", "999000019", None)
DAG = date(2026, 11, 29)


class _Vast(BsnAdapter):
    """Canned answers per BSN; nee for the rest (as a gemeentelijk system without a row)."""

    kind = "vast"

    def __init__(self, antwoorden: Mapping[str, Antwoord]) -> None:
        super().__init__(settings())
        self._antwoorden = dict(antwoorden)

    def answer_bsns(self, vraag: Vraag, bsns: Any) -> dict[str, Antwoord]:
        return {b: self._antwoorden.get(b, Antwoord.nee()) for b in bsns}


class _Bronnen:
    def __init__(self, **adapters: SourceAdapter) -> None:
        self._adapters = adapters

    def adapter(self, kind: str) -> SourceAdapter:
        return self._adapters[kind]


def _evalueer(check_id: str, gemeente: str, **adapters: SourceAdapter) -> dict[str, CheckResult]:
    policy = default_policy()
    return evalueer(
        policy.register.entry(check_id), policy.besluit(gemeente), [A, B], _Bronnen(**adapters), DAG
    )


@pytest.mark.unit
@pytest.mark.parametrize(
    ("genoemd", "gepubliceerd", "geweigerd"),
    [
        ("schuldhulpmaatje", "Schuldhulpmaatje Ruimhaven", False),  # by id
        ("Schuldhulpmaatje Ruimhaven", "Schuldhulpmaatje Ruimhaven", False),  # by exact name
        ("Schuldhulpmaatje ruimhaven", "Team Schuldhulpverlening Ruimhaven", True),
        (" Schuldhulpmaatje Ruimhaven", "Team Schuldhulpverlening Ruimhaven", True),
        ("Schuldhulpmaatje", "Team Schuldhulpverlening Ruimhaven", True),
        ("Jeugdteam Strikdorp", "Team Schuldhulpverlening Ruimhaven", True),  # another gemeente's team
        ("jeugdteam", "Team Schuldhulpverlening Ruimhaven", True),  # another gemeente's id
        ("Client heeft een alcoholverslaving", "Team Schuldhulpverlening Ruimhaven", True),
    ],
)
def test_only_a_team_of_the_gemeentes_besluit_is_a_contact(
    genoemd: str, gepubliceerd: str, geweigerd: bool
) -> None:
    results = _evalueer(
        "schuldhulpverlening",
        "9901",
        gemeentelijk_sql=_Vast({A.bsn: Antwoord.ja(genoemd), B.bsn: Antwoord.nee(genoemd)}),
    )
    for result in results.values():
        assert result.dossierverantwoordelijke == gepubliceerd
        assert result.contact_geweigerd is geweigerd
        assert result.reden == (Reden.CONTACT_NIET_IN_BESLUIT if geweigerd else None)
        if geweigerd:
            assert genoemd not in repr(result)
    assert [results[g.melding_id].uitkomst for g in (A, B)] == [Uitkomst.JA, Uitkomst.NEE]


@pytest.mark.unit
def test_an_onbekend_keeps_its_own_reason_and_still_flags_the_contact() -> None:
    """The BRP cannot say; the opvang knows the person but names no team: onbekend (bron), default, flag."""
    results = _evalueer(
        "onderdak",
        "9901",
        haal_centraal_brp_personen=_Vast({A.bsn: Antwoord.onbekend(Reden.BRON_AMBIGU)}),
        gemeentelijk_sql=_Vast({A.bsn: Antwoord.ja("Mevrouw J. Jansen")}),
    )
    assert results["EDM-A"] == CheckResult(
        "onderdak",
        Uitkomst.ONBEKEND,
        "Team Wonen Ruimhaven",
        Reden.BRON_AMBIGU,
        contact_geweigerd=True,
        contact_herkomst=ContactHerkomst.STANDAARD,
    )
    assert results["EDM-B"] == CheckResult(
        "onderdak", Uitkomst.NEE, "Team Wonen Ruimhaven", contact_herkomst=ContactHerkomst.STANDAARD
    )


# --------------------------------------------------------------------------- the guard and the register


@pytest.mark.unit
@pytest.mark.parametrize(
    "contact",
    ["Jan de Vries", "Paranoide schizofrenie", "Geboren op twaalf maart", "team wonen ruimhaven"],
)
def test_the_guard_lets_no_contact_through_that_no_besluit_lists(contact: str) -> None:
    """The second line: whatever reaches a document, only a team name of some besluit passes.

    Each of these passes the contact pattern and length (the old guard): the
    value-set expectation is what stops them.
    """
    import pandas as pd

    from nazorg.guard import Failure, validate_frame
    from nazorg.register import CONTACT

    assert CONTACT.match(contact)

    def frame(value: str) -> Any:
        return pd.DataFrame(
            {
                "melding_id": ["M-2026-abc", "M-2026-abc"],
                "aandachtsgebied": ["schulden", "zorg"],
                "check_id": ["schuldhulpverlening", "kinderen"],
                "uitkomst": ["ja", "niet_uitgevoerd"],
                "dossierverantwoordelijke": [value, None],
                "contact_herkomst": ["bron", None],
                "reden": [None, "niet_in_besluit"],
            }
        )

    assert validate_frame(frame("Team Wonen Ruimhaven")).passed
    verdict = validate_frame(frame(contact))
    assert not verdict.passed
    assert verdict.failures == (Failure("expect_column_values_to_be_in_set", "dossierverantwoordelijke"),)
    assert contact not in repr(verdict)


@pytest.fixture
def register_copy(tmp_path: Path) -> Path:
    for part in ("register", "sql", "expectations"):
        shutil.copytree(SOURCE_ROOT / part, tmp_path / part)
    return tmp_path


def _edit_besluit(project: Path, change: Any) -> None:
    path = project / "register" / "besluiten" / "9901-ruimhaven.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


@pytest.mark.unit
@pytest.mark.parametrize(
    "standaard",
    ["schuldbank", "Team Wonen Ruimhaven", "sociaal-team"],  # unknown id, a name, another gemeente's id
)
def test_register_check_refuses_a_default_that_is_not_a_team_id_of_the_besluit(
    register_copy: Path, standaard: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _edit_besluit(
        register_copy, lambda d: d["checks"]["huurschuld"].update({"dossierverantwoordelijke": standaard})
    )
    with pytest.raises(RegisterError, match=r"huurschuld\.dossierverantwoordelijke"):
        load_policy(register_copy / "register", register_copy / "sql")
    assert main(["register", "check", str(register_copy)]) == 1
    assert "checks.huurschuld.dossierverantwoordelijke" in capsys.readouterr().err


@pytest.mark.unit
def test_a_besluit_without_a_team_list_is_refused(register_copy: Path) -> None:
    _edit_besluit(register_copy, lambda d: d.pop("teams"))
    with pytest.raises(RegisterError, match="teams: Field required"):
        load_policy(register_copy / "register", register_copy / "sql")


@pytest.mark.unit
@pytest.mark.parametrize(
    ("genoemd", "herkomst", "reden"),
    [
        ("schuldhulpmaatje", ContactHerkomst.BRON, None),  # a listed team other than the default
        (None, ContactHerkomst.STANDAARD, None),  # the source names nobody
        # the default team named by the source itself: derivation from the besluit said standaard
        ("schuldhulpverlening", ContactHerkomst.BRON, None),
        ("Team Schuldhulpverlening Ruimhaven", ContactHerkomst.BRON, None),
        ("Mevrouw J. Jansen", ContactHerkomst.STANDAARD, Reden.CONTACT_NIET_IN_BESLUIT),  # refused
    ],
)
def test_the_check_records_where_its_contact_comes_from(
    genoemd: str | None, herkomst: ContactHerkomst, reden: Reden | None
) -> None:
    results = _evalueer(
        "schuldhulpverlening",
        "9901",
        gemeentelijk_sql=_Vast({A.bsn: Antwoord.ja(genoemd), B.bsn: Antwoord.nee(genoemd)}),
    )
    for result in results.values():
        assert result.contact_herkomst is herkomst
        assert result.reden == reden
        assert result.dossierverantwoordelijke in {
            "Schuldhulpmaatje Ruimhaven",
            "Team Schuldhulpverlening Ruimhaven",
        }


@pytest.mark.unit
def test_a_source_that_cannot_answer_leaves_the_default_team_as_standaard() -> None:
    results = _evalueer(
        "schuldhulpverlening",
        "9901",
        gemeentelijk_sql=_Vast({A.bsn: Antwoord.onbekend(Reden.BRON_AMBIGU)}),
    )
    assert results["EDM-A"].uitkomst is Uitkomst.ONBEKEND
    assert results["EDM-A"].contact_herkomst is ContactHerkomst.STANDAARD


@pytest.mark.unit
def test_a_check_result_keeps_herkomst_and_contact_together() -> None:
    with pytest.raises(ValueError, match="contact_herkomst"):
        CheckResult("schuld_cjib", Uitkomst.JA, "Team Schulden")
    with pytest.raises(ValueError, match="contact_herkomst"):
        CheckResult(
            "schuld_cjib",
            Uitkomst.NIET_UITGEVOERD,
            None,
            Reden.GEEN_TOESTEMMING,
            contact_herkomst=ContactHerkomst.STANDAARD,
        )
