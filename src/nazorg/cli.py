"""`nazorg`: the operators' command line.

Output is for people (Dutch where coördinatoren read it) or JSON for scripts.
No command prints a BSN; outcome values appear only in `basisdocument toon`,
which is the coördinator's own view of one published document, and in `inzage`,
the person's own copy of what is held on them (AVG art. 15). `inzage` and
`verwijder` read the BSN from stdin or a file, never from the command line.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nazorg.batch.overzicht import IntakeTelling
    from nazorg.settings import Settings
    from nazorg.store import Store
    from nazorg.wiring import Runtime


def _runtime() -> Runtime:
    from nazorg.wiring import runtime

    return runtime()


def _store() -> Store:
    return _runtime().store


def _project_settings(directory: str | None) -> Settings:
    """Settings for the project a register directory belongs to (its parent holds sql/, expectations/).

    ``DIR`` may name the register directory itself or the project directory
    containing ``register/``; without it, the configured settings are used.
    """
    from nazorg.settings import Settings, settings

    if not directory:
        return settings()
    path = Path(directory).resolve()
    project = path.parent if (path / "verwerkingsregister.yaml").is_file() else path
    return Settings.for_project(
        project,
        register_dir=path if project != path else project / "register",
        register_uri=settings().register_uri,  # the deployment's register, whichever directory is read
    )


def cmd_register_check(args: argparse.Namespace) -> int:
    from nazorg.register import RegisterError, load_policy

    config = _project_settings(args.dir)
    directory = config.register_dir
    try:
        policy = load_policy(
            directory, config.sql_dir, config.register_uri
        )  # also: every bron has an adapter that serves it
        _check_suite_matches(policy, config)
    except RegisterError as exc:
        print(f"register ONGELDIG ({directory}):\n{exc}", file=sys.stderr)
        return 1
    print(
        f"register {policy.register.register_versie} in orde: {len(policy.register.checks)} checks, "
        f"{len(policy.besluiten)} besluiten ({', '.join(sorted(policy.besluiten))})"
    )
    if args.probe:
        return _probe_lookups(policy, config)
    return 0


def cmd_register_export(args: argparse.Namespace) -> int:
    from nazorg.register import RegisterError, load_policy
    from nazorg.register_export import exporteer

    config = _project_settings(args.dir)
    try:
        tekst = exporteer(load_policy(config.register_dir, config.sql_dir, config.register_uri), args.formaat)
    except RegisterError as exc:
        print(f"register ONGELDIG ({config.register_dir}):\n{exc}", file=sys.stderr)
        return 1
    if args.uit:
        Path(args.uit).write_text(tekst, encoding="utf-8")
    else:
        sys.stdout.write(tekst)
    return 0


def _probe_lookups(policy: Any, config: Settings) -> int:
    """Run every besluit lookup against its source with an empty BSN list; report columns, never values.

    Each (connection, query) pair runs once, read-only and rolled back, after the
    same vetting the adapter does at run time (real dialect, not the pipeline DB).
    """
    from nazorg.connections import ConnectionInvalid, ConnectionMissing, get_connection
    from nazorg.sources.lookup_lint import LookupOngeldig, keur_goed, probe
    from nazorg.store import make_engine

    gebruikt: dict[tuple[str, str], list[tuple[str, str, Any]]] = {}
    for code, besluit in sorted(policy.besluiten.items()):
        for check_id, chosen in besluit.checks.items():
            if chosen.lookup is not None:
                key = (chosen.lookup.verbinding, chosen.lookup.query)
                gebruikt.setdefault(key, []).append((code, check_id, chosen.lookup))
    fouten = 0
    for (verbinding, query), waar in sorted(gebruikt.items()):
        door = ", ".join(f"{code} {check_id}" for code, check_id, _ in waar)
        kop = f"probe {query} via {verbinding} ({door})"
        try:
            engine = make_engine(get_connection(verbinding).sqlalchemy_url())
        except (ConnectionMissing, ConnectionInvalid) as exc:
            print(f"{kop}: FOUT: {exc}", file=sys.stderr)
            fouten += 1
            continue
        try:
            sql = (config.sql_dir / query).read_text(encoding="utf-8")
            problemen: list[str] = []
            for _code, check_id, lookup in waar:
                try:
                    keur_goed(check_id, lookup, sql, engine)
                except LookupOngeldig as exc:
                    problemen.append(str(exc))
            uitslag = None if problemen else probe(engine, sql)
            if uitslag is not None:
                problemen += list(uitslag.problemen)
            dialect = engine.dialect.name
        finally:
            engine.dispose()
        if problemen:
            fouten += 1
            print(f"{kop}, {dialect}: FOUT:\n" + "\n".join(f"  - {p}" for p in problemen), file=sys.stderr)
        else:
            assert uitslag is not None
            kolommen = ", ".join(f"{naam} {soort or '(type onbekend)'}" for naam, soort in uitslag.kolommen)
            print(f"{kop}, {dialect}: in orde ({kolommen})")
    return 1 if fouten else 0


def cmd_register_vastleggen(args: argparse.Namespace) -> int:
    from nazorg.register import RegisterError, vastleggen

    directory = _project_settings(args.dir).register_dir
    try:
        lock = vastleggen(directory)
    except RegisterError as exc:
        print(f"niet vastgelegd:\n{exc}", file=sys.stderr)
        return 1
    print(f"{len(lock)} checks vastgelegd in {directory}/versies.lock.json")
    return 0


def cmd_register_suite(args: argparse.Namespace) -> int:
    from nazorg.guard_suite import basisdocument_suite, suite_path, suite_text, write_suite
    from nazorg.register import RegisterError, load_besluiten, load_register

    config = _project_settings(args.dir)
    try:
        register = load_register(config.register_dir)
        suite = basisdocument_suite(register, load_besluiten(config.register_dir))
    except RegisterError as exc:
        print(f"register ONGELDIG ({config.register_dir}):\n{exc}", file=sys.stderr)
        return 1
    text = suite_text(suite)
    if not args.write:
        sys.stdout.write(text)
        return 0
    written = write_suite(config.expectations_dir, text)
    print(
        f"{suite_path(config.expectations_dir)} {'geschreven' if written else 'ongewijzigd'}: "
        f"{len(suite['expectations'])} expectations, {len(register.checks)} checks"
    )
    return 0


def _check_suite_matches(policy: Any, config: Settings) -> None:
    """The committed guard suite must be exactly the one derived from register, teams, enums and intake.

    A stale suite either blocks every document with a new check or lets an
    unknown check through; the file stays committed because it is what is reviewed.
    """
    from nazorg.guard_suite import basisdocument_suite, suite_differences, suite_path
    from nazorg.register import RegisterError

    path = suite_path(config.expectations_dir)
    try:
        committed: str | None = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        committed = None
    problems = suite_differences(basisdocument_suite(policy.register, policy.besluiten), committed)
    if problems:
        raise RegisterError(
            f"{path} wijkt af van de suite die register, teams, enums en intake voorschrijven; "
            "`nazorg register suite --write` maakt hem opnieuw:\n"
            + "\n".join(f"  - {problem}" for problem in problems)
        )


def _lees_inzending(path: Path, limit: int) -> bytes | str:
    """The file's bytes (at most ``limit + 1``), or a message why it cannot be read.

    Messages never repeat the path: a file name may carry a BSN. Only regular
    files are read (a FIFO would block, a device never ends).
    """
    import stat

    try:
        info = path.stat()
    except FileNotFoundError:
        return "bestand niet gevonden"
    except PermissionError:
        return "bestand niet leesbaar (geen toegang)"
    except OSError as exc:
        return f"bestand niet leesbaar ({exc.strerror or type(exc).__name__})"
    if stat.S_ISDIR(info.st_mode):
        return "dat is een map, geen bestand"
    if not stat.S_ISREG(info.st_mode):
        return "geen gewoon bestand"
    try:
        with path.open("rb") as handle:
            return handle.read(limit + 1)
    except PermissionError:
        return "bestand niet leesbaar (geen toegang)"
    except OSError as exc:
        return f"bestand niet leesbaar ({exc.strerror or type(exc).__name__})"


def cmd_melding_indienen(args: argparse.Namespace) -> int:
    from nazorg.inbox import dien_in
    from nazorg.intake import MAX_FILE_BYTES, beoordeel_alle, decode, nieuwe_inzending

    data = _lees_inzending(Path(args.file), MAX_FILE_BYTES)
    if isinstance(data, str):
        print(f"melding indienen: {data}", file=sys.stderr)
        return 2
    rt = _runtime()
    inzending = nieuwe_inzending()
    beoordelingen = beoordeel_alle(decode(data, inzending), rt.policy.melding_velden(), date.today())
    result = dien_in(rt.store, beoordelingen, inzending=inzending)
    counts = result.aantallen
    print(
        f"inzending {inzending}: {result.totaal} melding(en): {counts['opgeslagen']} opgeslagen, "
        f"{counts['al_aanwezig']} al aanwezig, {counts['conflict']} conflict, "
        f"{counts['quarantaine']} in quarantaine"
    )
    if result.boven_limiet:
        print(f"  {result.boven_limiet} daarvan zonder eigen quarantaineregel (quarantaine_limiet)")
    if len(data) > MAX_FILE_BYTES:
        print(
            f"melding indienen: bestand groter dan {MAX_FILE_BYTES} bytes (bestand_te_groot); splits het",
            file=sys.stderr,
        )
        return 2
    if not args.trigger:
        return 0
    from nazorg.airflow.trigger import trigger_runs
    from nazorg.inbox import run_key_voor

    # Airflow sees the run key the inbox gave each melding, never the sender's melding id
    keys = {m: k for m in dict.fromkeys(result.melding_ids) if (k := run_key_voor(rt.store, m))}
    states = trigger_runs(list(keys.values()), wait=args.wait)
    result_runs = {m: {"run_key": k, "status": states[k]} for m, k in keys.items()}
    print(json.dumps(result_runs, ensure_ascii=False, indent=2))
    return 0 if all(r["status"] in ("created", "exists", "success") for r in result_runs.values()) else 1


def cmd_laatstedagsmelding_dien_in(args: argparse.Namespace) -> int:
    """Validate and store laatstedagsmeldingen; the DAG ``laatstedagsmelding`` sends the notifications.

    Exit 0 when the file was read (refused records are in quarantine, counted
    here), 2 when it could not be read or is over the size limit.
    """
    from nazorg import laatstedag
    from nazorg.intake import MAX_FILE_BYTES, decode, nieuwe_inzending

    data = _lees_inzending(Path(args.file), MAX_FILE_BYTES)
    if isinstance(data, str):
        print(f"laatstedagsmelding dien-in: {data}", file=sys.stderr)
        return 2
    rt = _runtime()
    inzending = nieuwe_inzending()
    beoordelingen = laatstedag.beoordeel_alle(
        decode(data, inzending), rt.policy.besluiten.keys(), date.today()
    )
    result = laatstedag.dien_in(rt.store, beoordelingen, inzending=inzending)
    counts = result.aantallen
    print(
        f"inzending {inzending}: {result.totaal} laatstedagsmelding(en): {counts['opgeslagen']} opgeslagen, "
        f"{counts['al_aanwezig']} al aanwezig, {counts['conflict']} conflict, "
        f"{counts['quarantaine']} in quarantaine"
    )
    if result.boven_limiet:
        print(f"  {result.boven_limiet} daarvan zonder eigen quarantaineregel (quarantaine_limiet)")
    if len(data) > MAX_FILE_BYTES:
        print(
            f"laatstedagsmelding dien-in: bestand groter dan {MAX_FILE_BYTES} bytes "
            "(bestand_te_groot); splits het",
            file=sys.stderr,
        )
        return 2
    return 0


def _positief(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("moet 1 of meer zijn")
    return value


def _afgebroken(exc: BaseException) -> str:
    """Why a batch stopped, without a value: our own step errors carry codes, others only their type."""
    from nazorg.pipeline import StapMislukt

    return str(exc) if isinstance(exc, StapMislukt) else type(exc).__name__


def cmd_batch(args: argparse.Namespace) -> int:
    """Submit a batch file (if given) as an ordinary submission, then run the batch pipeline in-process.

    Exit 0 when the batch ran (quarantined meldingen are an outcome, not an
    error), 1 when a chunk failed or the run stopped, 2 for usage, configuration
    or a file refused as a whole. An unexpected error is reported by its type
    only: a database driver's message, for one, carries statement parameters (BSNs).
    """
    import gc
    import time

    from nazorg.batch.voortgang import Voortgang
    from nazorg.connections import ConnectionInvalid, ConnectionMissing
    from nazorg.register import RegisterError
    from nazorg.settings import SettingsError
    from nazorg.store import SchemaOutdated

    voortgang = Voortgang(sys.stderr)
    stap = "inlezen"
    try:
        intake_telling = None
        if args.meldingen is not None:
            telling = _batch_intake(args)
            if isinstance(telling, int):
                return telling
            intake_telling = telling
        rt = _runtime()
        from nazorg.batch import run_batch  # type: ignore[attr-defined]  # until the runner (helper "core") lands
        from nazorg.batch.overzicht import als_dict, als_tekst

        stap = "batch"
        # What is loaded by now (Airflow, SQLAlchemy, the register) lives as long as the process:
        # out of the collector's sight, every full collection during the chunks costs less.
        gc.freeze()
        start = time.monotonic()
        samenvatting = run_batch(
            rt,
            chunk_grootte=args.chunk_grootte,
            peildatum=args.peildatum,
            bij_start=voortgang.bij_start,
            bij_chunk=voortgang.bij_chunk,
        )
        seconden = time.monotonic() - start
    except (ConnectionMissing, ConnectionInvalid, SettingsError, SchemaOutdated, RegisterError):
        raise  # main() reports them (exit 2)
    except KeyboardInterrupt:
        voortgang.klaar()
        print(f"nazorg batch: {stap} onderbroken; claims verlopen vanzelf", file=sys.stderr)
        return 130
    except Exception as exc:
        voortgang.klaar()
        print(f"nazorg batch: {stap} afgebroken ({_afgebroken(exc)})", file=sys.stderr)
        return 1
    finally:
        voortgang.klaar()
    if args.json:
        print(json.dumps(als_dict(samenvatting, intake_telling, seconden), indent=2))
    else:
        sys.stdout.write(als_tekst(samenvatting, intake_telling, seconden))
    return 1 if samenvatting.mislukt else 0


def _batch_intake(args: argparse.Namespace) -> IntakeTelling | int:
    """Read ``--meldingen`` and submit it via the ordinary intake; an IntakeTelling, or an exit code.

    Messages never repeat the path: a file name may carry a BSN.
    """
    import time

    from nazorg import intake
    from nazorg.batch.invoer import FORMATEN, formaat_voor, lees
    from nazorg.batch.overzicht import IntakeTelling
    from nazorg.inbox import dien_in

    path = Path(args.meldingen)
    formaat = formaat_voor(path, args.formaat)
    if formaat is None:
        print(
            f"nazorg batch: bestandsformaat niet af te leiden uit de extensie; geef --formaat "
            f"({', '.join(FORMATEN)})",
            file=sys.stderr,
        )
        return 2
    data = _lees_inzending(path, intake.MAX_FILE_BYTES)
    if isinstance(data, str):
        print(f"nazorg batch: {data}", file=sys.stderr)
        return 2
    rt = _runtime()
    inzending = intake.nieuwe_inzending()
    bestand = intake.herkomst_voor(inzending)
    geweigerd_bestand: list[str] = []

    def records() -> Iterator[tuple[str, object]]:
        for herkomst, record in lees(data, formaat, inzending):
            if herkomst == bestand and isinstance(record, intake.Geweigerd):
                geweigerd_bestand.append(record.code)  # a refusal of the whole file
            yield herkomst, record

    start = time.monotonic()
    beoordelingen = intake.beoordeel_alle(records(), rt.policy.melding_velden(), date.today())
    result = dien_in(rt.store, beoordelingen, inzending=inzending)
    telling = IntakeTelling.van(result, time.monotonic() - start)
    if geweigerd_bestand:
        print(
            f"nazorg batch: bestand geweigerd ({', '.join(geweigerd_bestand)}; inzending {inzending}); "
            "zie `nazorg quarantaine lijst`. De batch is niet gestart.",
            file=sys.stderr,
        )
        return 2
    print(
        f"nazorg batch: inzending {inzending}: {telling.records} record(s), {telling.opgeslagen} opgeslagen, "
        f"{telling.al_aanwezig} al aanwezig, {telling.geweigerd} geweigerd"
        + (f" ({result.boven_limiet} zonder eigen quarantaineregel)" if result.boven_limiet else ""),
        file=sys.stderr,
    )
    return telling


def cmd_basisdocument_toon(args: argparse.Namespace) -> int:
    """The published document as JSON, or as the page a role sees (``basisdocument_html.render_html``)."""
    from nazorg.basisdocument_html.opslag import pagina

    store = _store()
    rows = store.query("outbox_get", {"melding_id": args.melding_id})
    if not rows:
        print(f"geen gepubliceerd basisdocument voor melding {args.melding_id}", file=sys.stderr)
        return 1
    document = json.loads(rows[0]["inhoud"])
    if args.format == "html":
        print(pagina(store, _runtime().policy, args.melding_id, rol=args.rol))
    else:
        print(json.dumps(document, ensure_ascii=False, indent=2))
    return 0


#: exit codes of `nazorg toestemming` per reason code (anything else refused: 2)
TOESTEMMING_EXIT = {
    "geen_melding": 3,
    "melding_niet_van_bsn": 3,
    "melding_onbekend": 3,
    "meerdere_meldingen": 4,
}
#: a BSN file or stdin holds one BSN; more is not read (and never echoed)
_BSN_MAX_BYTES = 64


def _lees_bsn(args: argparse.Namespace) -> str:
    """The BSN from ``--bsn-bestand`` or standard input, never from argv (a command line is visible)."""
    if args.bsn_bestand:
        with open(args.bsn_bestand, encoding="utf-8") as handle:
            return handle.read(_BSN_MAX_BYTES + 1)
    return sys.stdin.read(_BSN_MAX_BYTES + 1)


def cmd_toestemming(args: argparse.Namespace) -> int:
    """Record, withdraw or show consent for one melding of the person whose BSN is on stdin.

    The logic is in :mod:`nazorg.toestemming`; this prints ids, names and counts,
    never the BSN or an outcome.
    """
    from nazorg import toestemming as ts

    try:
        bsn = _lees_bsn(args)
    except OSError as exc:
        print(f"toestemming: BSN-bestand niet leesbaar ({type(exc).__name__})", file=sys.stderr)
        return 2
    rt = _runtime()
    try:
        if len(bsn) > _BSN_MAX_BYTES:
            raise ts.ToestemmingFout("bsn_ongeldig", "geen geldig BSN (9 cijfers, elfproef)")
        melding_id = ts.kies_melding(rt.store, bsn, args.melding)
        if args.cmd == "vastleggen":
            vastgelegd = ts.vastleggen(
                rt,
                melding_id,
                args.soort,
                checks=args.check or (),
                basisvoorwaarden=args.basisvoorwaarde or (),
                tekst_versie=args.tekst_versie,
                vastgelegd_door=args.door,
                geldig_tot=args.geldig_tot,
            )
            print(
                f"{args.soort} {vastgelegd.toestemming_id} vastgelegd voor melding {melding_id}: "
                f"{', '.join(vastgelegd.checks)}"
            )
        elif args.cmd == "intrekken":
            ingetrokken = ts.intrekken(rt, melding_id, args.toestemming, ingetrokken_door=args.door)
            gevolg = (
                "basisdocument geblokkeerd door de bewaking; zie quarantaine"
                if ingetrokken.geblokkeerd
                else f"opnieuw gepubliceerd als versie {ingetrokken.versie}"
                if ingetrokken.versie is not None
                else "niet gepubliceerd"
            )
            print(
                f"toestemming {args.toestemming} ingetrokken voor melding {melding_id}; "
                f"gestopt: {', '.join(ingetrokken.gestopt) or 'geen (elders nog gedekt)'}; {gevolg}"
            )
        else:
            _toon_toestemmingen(melding_id, ts.toon(rt.store, melding_id), args.format)
    except ts.ToestemmingFout as exc:
        print(f"toestemming: {exc}", file=sys.stderr)
        return TOESTEMMING_EXIT.get(exc.reden_code, 2)
    return 0


def _toon_toestemmingen(melding_id: str, records: Sequence[Any], formaat: str) -> None:
    import dataclasses

    if formaat == "json":
        print(
            json.dumps(
                {"melding_id": melding_id, "toestemmingen": [dataclasses.asdict(r) for r in records]},
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    if not records:
        print(f"melding {melding_id}: geen toestemming of overeenkomst vastgelegd")
        return
    print(f"melding {melding_id}:")
    for r in records:
        ingetrokken = (
            f"ingetrokken {r.ingetrokken_op} door {r.ingetrokken_door}" if r.ingetrokken_op else "geldig"
        )
        print(
            f"  {r.toestemming_id}  {r.soort:<12} {', '.join(r.checks)}  tekst {r.tekst_versie}; "
            f"vastgelegd {r.vastgelegd_op} door {r.vastgelegd_door}; tot {r.geldig_tot or 'onbepaald'}; "
            f"{ingetrokken}"
        )


def cmd_quarantaine_lijst(args: argparse.Namespace) -> int:
    rows = _store().query("quarantaine_list")
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("quarantaine is leeg")
        return 0
    for r in rows:
        detail = ", ".join(x for x in (r["veld"], r["expectation"]) if x)
        print(
            f"{r['geregistreerd_op']}  {r['melding_id'] or '-':<20} {r['fase']:<7} {r['reden_code']:<28} "
            f"{detail}  ({r['herkomst']})"
        )
    return 0


def cmd_rapportage(args: argparse.Namespace) -> int:
    """Write the monthly aggregate report (suppressed counts only); prints its path and counts."""
    from datetime import UTC, datetime

    from nazorg.rapportage.rapport import maak_rapport
    from nazorg.rapportage.tellingen import Maand, OngeldigeMaand

    try:
        maand = Maand.parse(args.maand) if args.maand else Maand.laatst_afgesloten(datetime.now(UTC))
    except OngeldigeMaand as exc:
        print(f"nazorg rapportage: {exc}", file=sys.stderr)
        return 2
    rt = _runtime()
    if args.gemeente and args.gemeente not in rt.policy.besluiten:
        print(f"nazorg rapportage: geen besluit voor gemeente {args.gemeente}", file=sys.stderr)
        return 2
    uit = Path(args.uit).resolve() if args.uit else rt.settings.rapportage_map()
    resultaat = maak_rapport(
        rt.store, rt.policy, maand, rt.settings.rapportage_maanden, uit, args.gemeente or None
    )
    print(
        f"rapportage {maand.label}: {resultaat.pad} ({resultaat.gemeenten} gemeente(n), "
        f"{resultaat.maanden} maanden, {resultaat.tabellen_achtergehouden} van {resultaat.tabellen} "
        f"tabellen achtergehouden, {resultaat.grafieken} grafieken)"
    )
    return 0


def cmd_bewaartermijn(args: argparse.Namespace) -> int:
    """One retention run now (or on --peildatum); counts per category, never ids."""
    from datetime import UTC, datetime

    from nazorg.bewaartermijn import voer_uit

    rt = _runtime()
    rapport = voer_uit(
        rt.store,
        rt.policy.register,
        rt.settings,
        nu=datetime.now(UTC),
        peildatum=args.peildatum,
        droog=args.dry_run,
    )
    if args.json:
        print(
            json.dumps(
                {"droog": rapport.droog, "peildatum": rapport.peildatum.isoformat(), **rapport.voor_xcom()}
            )
        )
        return 0
    kop = "proefrun (niets verwijderd)" if rapport.droog else "verwijderd"
    print(f"bewaartermijn peildatum {rapport.peildatum.isoformat()}: {kop}")
    for categorie, aantal in rapport.tellingen.items():
        print(f"  {categorie.value:<28} {aantal}")
    for opmerking in rapport.opmerkingen:
        print(f"  let op: {opmerking}")
    return 0


#: exit code of `inzage` and `verwijder` when the pipeline holds nothing on the person
NIET_GEVONDEN = 3


def _bsn_invoer(args: argparse.Namespace) -> str | None:
    """The BSN from --bsn-bestand or stdin (never argv), canonical; None after a message on stderr."""
    from nazorg.rechten import BsnOngeldig, lees_bsn

    try:
        if args.bsn_bestand:
            tekst = Path(args.bsn_bestand).read_text(encoding="utf-8")
        else:
            if sys.stdin.isatty():
                print("BSN (invoer wordt niet getoond in de opdrachtregel):", file=sys.stderr)
            tekst = sys.stdin.readline()
        return lees_bsn(tekst)
    except (OSError, UnicodeDecodeError):
        print("nazorg: BSN-bestand niet leesbaar", file=sys.stderr)
    except BsnOngeldig as exc:
        print(f"nazorg: {exc}", file=sys.stderr)
    return None


def _schrijf_privé(pad: str, tekst: str) -> None:
    """Write a document about a person to a new or existing file with mode 0600."""
    import os

    fd = os.open(pad, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode on open; this one must not
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(tekst)


def cmd_inzage(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from nazorg.rechten import als_markdown, verzamel

    bsn = _bsn_invoer(args)
    if bsn is None:
        return 2
    rt = _runtime()
    inzage = verzamel(rt.store, rt.settings, bsn)
    if not inzage.gevonden:
        print(
            "nazorg: over deze persoon is niets opgeslagen (geen meldingen, geen verwerkingen)",
            file=sys.stderr,
        )
        return NIET_GEVONDEN
    document = als_markdown(inzage, datetime.now(UTC))
    if args.uit:
        _schrijf_privé(args.uit, document)
        print(f"inzage geschreven naar {args.uit} (alleen leesbaar voor de eigenaar)", file=sys.stderr)
    else:
        sys.stdout.write(document)
    return 0


def cmd_verwijder(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from nazorg.rechten import json_dump, verwijder

    bsn = _bsn_invoer(args)
    if bsn is None:
        return 2
    rt = _runtime()
    uitslag = verwijder(rt.store, rt.settings, bsn, nu=datetime.now(UTC))
    if uitslag is None:
        print(
            "nazorg: over deze persoon is niets opgeslagen (geen meldingen, geen verwerkingen)",
            file=sys.stderr,
        )
        return NIET_GEVONDEN
    print(json_dump(uitslag.voor_json()) if args.json else uitslag.als_tekst())
    return 0


def cmd_sleutel_genereer(args: argparse.Namespace) -> int:
    """A new pseudonym key on stdout (for a secret store); nothing else is printed there."""
    from nazorg.sleutel import genereer

    print(genereer())
    return 0


def cmd_sleutel_controleer(args: argparse.Namespace) -> int:
    """Whether the configured key is accepted, and its fingerprint (``sleutel_id``), never the key."""
    from nazorg.settings import SettingsError, settings
    from nazorg.sleutel import sleutel_id

    try:
        key = settings().pseudonym_key()
    except SettingsError as exc:
        print(f"sleutel ONGELDIG: {exc}", file=sys.stderr)
        return 1
    print(f"sleutel in orde; sleutel_id {sleutel_id(key)}")
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from nazorg import migrations
    from nazorg.connections import NAZORG_DB
    from nazorg.store import engine_for

    before, after = migrations.upgrade(engine_for(NAZORG_DB))
    if before == after:
        print(f"pipeline-DB ({NAZORG_DB}) staat al op revisie {after or 'geen'}")
    else:
        print(f"pipeline-DB ({NAZORG_DB}) bijgewerkt: revisie {before or 'geen'} -> {after}")
    return 0


def cmd_db_current(args: argparse.Namespace) -> int:
    from nazorg import migrations
    from nazorg.connections import NAZORG_DB
    from nazorg.store import engine_for

    found = migrations.current(engine_for(NAZORG_DB))
    if found == migrations.HEAD:
        print(f"pipeline-DB ({NAZORG_DB}) op revisie {found} (actueel)")
        return 0
    print(
        f"pipeline-DB ({NAZORG_DB}) op revisie {found or 'geen'}; deze versie verwacht "
        f"{migrations.HEAD}: voer `nazorg db upgrade` uit"
    )
    return 1


def cmd_sim_meldingen(args: argparse.Namespace) -> int:
    from nazorg_dev.sim.meldingen import meldingen, ongeldige_meldingen

    for record in meldingen(
        args.aantal, seed=args.seed, size=args.size, offset=args.offset, prefix=args.prefix
    ):
        print(json.dumps(record))
    if args.ongeldig:
        for record in ongeldige_meldingen()[: args.ongeldig]:
            print(json.dumps(record))
    return 0


def cmd_sim_bronnen(args: argparse.Namespace) -> int:
    from nazorg.connections import NAZORG_BRONNEN
    from nazorg.store import engine_for
    from nazorg_dev.sim.bronnen import vul_bronnen, vul_toestemmingen
    from nazorg_dev.sim.population import population

    people = population(args.seed, args.size)
    counts = vul_bronnen(engine_for(NAZORG_BRONNEN), people, args.seed)
    consents = vul_toestemmingen(_store(), people)
    print(f"bronnen gevuld: {sum(counts.values())} rijen in {len(counts)} tabellen; {consents} toestemmingen")
    return 0


def cmd_sim_haal_centraal(args: argparse.Namespace) -> int:
    from nazorg_dev.sim.haal_centraal import serve_forever

    serve_forever(args.host, args.port, latency_ms=args.latency_ms, seed=args.seed, size=args.size)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from nazorg_dev.demo import run_demo

    return run_demo(aantal=args.aantal, ongeldig=args.ongeldig)


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("moet 1 of meer zijn")
    return number


def cmd_airflow(args: argparse.Namespace) -> int:
    """``up`` starts one environment (``--celery``: the CeleryExecutor one); ``down`` and
    ``status`` cover both."""
    from nazorg_dev.demo import CeleryMode, airflow_command

    if args.actie != "up" or not args.celery:
        return airflow_command(args.actie)
    mode = CeleryMode(workers=args.workers, concurrency=args.concurrency, redis_db=args.redis_db)
    return airflow_command(args.actie, mode)


def cmd_intake_token_genereer(args: argparse.Namespace) -> int:
    """Print a new token once, and the configuration entry holding only its hash."""
    from nazorg.intake_api.afzenders import (
        AFZENDER_ID,
        GEMEENTE_CODE,
        Soort,
        configuratie_regel,
        genereer_token,
    )

    if not AFZENDER_ID.match(args.afzender):
        print("intake token: afzender-id moet [a-z][a-z0-9-]{1,31} zijn", file=sys.stderr)
        return 2
    gemeenten = args.gemeente or None
    if gemeenten and not all(GEMEENTE_CODE.match(g) for g in gemeenten):
        print("intake token: --gemeente moet een code van vier cijfers zijn", file=sys.stderr)
        return 2
    soorten = [Soort(s) for s in (args.soort or [Soort.EERSTEDAGSMELDING.value])]
    token = genereer_token()
    print(f"token (eenmalig getoond; geef het aan de afzender): {token}")
    print("regel voor NAZORG_INTAKE_TOKENS(_FILE), in het JSON-object:")
    print(f"  {configuratie_regel(args.afzender, token, gemeenten, soorten)}")
    return 0


def cmd_werklijst_account_genereer(args: argparse.Namespace) -> int:
    """Print a new password once, and the configuration entry holding only its scrypt hash."""
    from nazorg.settings import SettingsError
    from nazorg.werklijst.accounts import configuratie_regel, genereer_wachtwoord

    wachtwoord = genereer_wachtwoord()
    try:
        regel = configuratie_regel(args.naam, wachtwoord, args.gemeente, args.rol)
    except SettingsError as exc:
        print(f"werklijst account: {exc}", file=sys.stderr)
        return 2
    print(f"wachtwoord (eenmalig getoond; geef het aan {args.naam}): {wachtwoord}")
    print("regel voor NAZORG_WERKLIJST_ACCOUNTS(_FILE), in het JSON-object:")
    print(f"  {regel}")
    return 0


def cmd_intake_serve(args: argparse.Namespace) -> int:
    from nazorg.intake_api.server import serve
    from nazorg.settings import settings

    serve(settings(), host=args.host, port=args.port)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from nazorg_dev.sim.population import DEFAULT_SEED, DEFAULT_SIZE

    parser = argparse.ArgumentParser(prog="nazorg", description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="group", required=True)

    melding = sub.add_parser("melding", help="eerstedagsmeldingen").add_subparsers(dest="cmd", required=True)
    p = melding.add_parser("indienen", help="valideren, opslaan en eventueel runs starten")
    p.add_argument("file", help="JSON-object, JSON-array of JSON Lines")
    p.add_argument("--trigger", action="store_true", help="start per melding een run via de Airflow REST API")
    p.add_argument("--wait", action="store_true", help="met --trigger: wacht tot de runs klaar zijn")
    p.set_defaults(func=cmd_melding_indienen)

    laatste = sub.add_parser(
        "laatstedagsmelding", help="laatstedagsmeldingen (einde detentie)"
    ).add_subparsers(dest="cmd", required=True)
    p = laatste.add_parser("dien-in", help="valideren en opslaan; de DAG laatstedagsmelding verstuurt")
    p.add_argument("file", help="JSON-object, JSON-array of JSON Lines")
    p.set_defaults(func=cmd_laatstedagsmelding_dien_in)

    p = sub.add_parser(
        "batch",
        help="verwerk alles wat klaarstaat in chunks, in dit proces (backfills, bestanden, benchmarks)",
    )
    p.add_argument(
        "--meldingen",
        metavar="FILE",
        help="dien eerst dit bestand in (JSON Lines, CSV of Parquet), zoals `melding indienen`",
    )
    p.add_argument("--formaat", choices=("json", "csv", "parquet"), help="standaard: volgens de extensie")
    p.add_argument("--chunk-grootte", type=_positief, help="meldingen per chunk (standaard: de instelling)")
    p.add_argument("--peildatum", type=date.fromisoformat, help="YYYY-MM-DD (standaard: vandaag)")
    p.add_argument("--json", action="store_true", help="samenvatting als JSON op stdout")
    p.set_defaults(func=cmd_batch)

    doc = sub.add_parser("basisdocument").add_subparsers(dest="cmd", required=True)
    p = doc.add_parser("toon", help="toon een gepubliceerd basisdocument")
    p.add_argument("melding_id")
    p.add_argument("--format", choices=("json", "html"), default="json")
    p.add_argument(
        "--rol",
        choices=("coordinator", "pi_casemanager", "regievoerder"),
        default="coordinator",
        help="html: de weergave voor deze ontvanger (register: ontvangers); standaard coordinator",
    )
    p.set_defaults(func=cmd_basisdocument_toon)

    q = sub.add_parser("quarantaine").add_subparsers(dest="cmd", required=True)
    p = q.add_parser("lijst", help="redenen en veldnamen, nooit waarden")
    p.add_argument("--format", choices=("tekst", "json"), default="tekst")
    p.set_defaults(func=cmd_quarantaine_lijst)

    _toestemming_parsers(sub)

    reg = sub.add_parser("register").add_subparsers(dest="cmd", required=True)
    p = reg.add_parser("check", help="controleer register en besluiten; exit 1 bij inconsistentie")
    p.add_argument("dir", nargs="?", help="register-map (standaard NAZORG_REGISTER_DIR of ./register)")
    p.add_argument(
        "--probe",
        action="store_true",
        help="voer elke lookup uit op zijn bron met een lege BSN-lijst (alleen-lezen); "
        "controleer kolommen en typen",
    )
    p.set_defaults(func=cmd_register_check)
    p = reg.add_parser("vastleggen", help="leg de versies vast na het verhogen van `versie`")
    p.add_argument("dir", nargs="?", help="register-map (standaard NAZORG_REGISTER_DIR of ./register)")
    p.set_defaults(func=cmd_register_vastleggen)
    p = reg.add_parser(
        "suite", help="de GX-suite van de bewaking, afgeleid uit register, teams, enums en intake"
    )
    p.add_argument("dir", nargs="?", help="register- of projectmap (standaard NAZORG_REGISTER_DIR)")
    p.add_argument("--write", action="store_true", help="schrijf naar de expectations-map i.p.v. stdout")
    p.set_defaults(func=cmd_register_suite)
    p = reg.add_parser(
        "export", help="het register als JSON (Logboek Dataverwerkingen) of Markdown (Tabel 1)"
    )
    p.add_argument("dir", nargs="?", help="register- of projectmap (standaard NAZORG_REGISTER_DIR)")
    p.add_argument("--formaat", choices=("json", "markdown"), default="json")
    p.add_argument("--uit", help="schrijf naar dit bestand i.p.v. stdout")
    p.set_defaults(func=cmd_register_export)

    p = sub.add_parser(
        "rapportage",
        help="maandrapportage per gemeente: aantallen en percentages per check, kleine aantallen onderdrukt",
    )
    p.add_argument("--maand", metavar="JJJJ-MM", help="de maand (standaard: de laatst afgesloten maand)")
    p.add_argument("--gemeente", metavar="CODE", help="alleen deze gemeente (standaard: alle)")
    p.add_argument("--uit", metavar="MAP", help="schrijf hierheen (standaard: NAZORG_RAPPORTAGE_DIR)")
    p.set_defaults(func=cmd_rapportage)

    p = sub.add_parser(
        "bewaartermijn", help="verwijder wat volgens de bewaartermijnen van het register weg moet"
    )
    p.add_argument("--dry-run", action="store_true", help="tel alleen; verwijder niets")
    p.add_argument("--peildatum", type=date.fromisoformat, help="YYYY-MM-DD (standaard: vandaag)")
    p.add_argument("--json", action="store_true", help="aantallen als JSON op stdout")
    p.set_defaults(func=cmd_bewaartermijn)
    for naam, hulp, func in (
        ("inzage", "alles wat over één persoon is opgeslagen (AVG art. 15); BSN via stdin", cmd_inzage),
        ("verwijder", "wis wat over één persoon is opgeslagen (AVG art. 17); BSN via stdin", cmd_verwijder),
    ):
        p = sub.add_parser(naam, help=hulp)
        p.add_argument("--bsn-bestand", metavar="FILE", help="lees het BSN uit dit bestand i.p.v. stdin")
        if naam == "inzage":
            p.add_argument(
                "--uit", metavar="FILE", help="schrijf naar dit bestand (modus 0600) i.p.v. stdout"
            )
        else:
            p.add_argument("--json", action="store_true", help="verslag als JSON")
        p.set_defaults(func=func)

    sleutel = sub.add_parser("sleutel", help="de pseudoniemsleutel van het verwerkingslog").add_subparsers(
        dest="cmd", required=True
    )
    p = sleutel.add_parser("genereer", help="druk een nieuwe willekeurige sleutel af (64 hex-cijfers)")
    p.set_defaults(func=cmd_sleutel_genereer)
    p = sleutel.add_parser("controleer", help="controleer de ingestelde sleutel; toon zijn sleutel_id")
    p.set_defaults(func=cmd_sleutel_controleer)

    db = sub.add_parser("db", help="schema van de pipeline-DB (nazorg_db)").add_subparsers(
        dest="cmd", required=True
    )
    p = db.add_parser("upgrade", help="breng het schema naar de versie van deze code (idempotent)")
    p.set_defaults(func=cmd_db_upgrade)
    p = db.add_parser("current", help="toon de schemarevisie; exit 1 als `db upgrade` nodig is")
    p.set_defaults(func=cmd_db_current)

    sim = sub.add_parser("sim", help="de gesimuleerde wereld").add_subparsers(dest="cmd", required=True)
    p = sim.add_parser("meldingen", help="synthetische meldingen als JSON Lines")
    p.add_argument("--aantal", type=int, default=20)
    p.add_argument("--ongeldig", type=int, default=0, help="voeg tot 4 ongeldige meldingen toe")
    p.add_argument("--offset", type=int, default=0)
    p.add_argument("--prefix", default="EDM")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument(
        "--size", type=int, default=None, help=f"populatie (standaard {DEFAULT_SIZE}, of offset + aantal)"
    )
    p.set_defaults(func=cmd_sim_meldingen)
    p = sim.add_parser(
        "bronnen",
        help="vul de gesimuleerde bronsystemen (nazorg_bronnen) en toestemmingen (meldingen in de inbox)",
    )
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--size", type=int, default=DEFAULT_SIZE)
    p.set_defaults(func=cmd_sim_bronnen)
    p = sim.add_parser("haal-centraal", help="lokale Haal Centraal-server (BRP Personen, Reisdocumenten)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5010)
    p.add_argument("--latency-ms", type=float, default=0.0, help="toegevoegde vertraging per request (ms)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--size", type=int, default=DEFAULT_SIZE)
    p.set_defaults(func=cmd_sim_haal_centraal)

    p = sub.add_parser("demo", help="de hoofdtaak op de ingebouwde standaardomgeving")
    p.add_argument("--aantal", type=int, default=20)
    p.add_argument("--ongeldig", type=int, default=4)
    p.set_defaults(func=cmd_demo)

    intake_cmd = sub.add_parser("intake", help="de intake-API voor de PI").add_subparsers(
        dest="cmd", required=True
    )
    p = intake_cmd.add_parser("serve", help="start de intake-API (uvicorn)")
    p.add_argument("--host", help="standaard NAZORG_INTAKE_HOST (127.0.0.1)")
    p.add_argument("--port", type=_positive, help="standaard NAZORG_INTAKE_PORT (8090)")
    p.set_defaults(func=cmd_intake_serve)
    token_cmd = intake_cmd.add_parser("token", help="tokens van afzenders").add_subparsers(
        dest="token_cmd", required=True
    )
    p = token_cmd.add_parser("genereer", help="druk eenmalig een nieuw token af, en de hash-regel")
    p.add_argument("afzender", help="afzender-id, bv. pi")
    p.add_argument(
        "--gemeente",
        action="append",
        help="mag alleen voor deze gemeente melden (herhaalbaar; standaard alle)",
    )
    p.add_argument(
        "--soort",
        action="append",
        choices=("eerstedagsmelding", "laatstedagsmelding"),
        help="soort melding (herhaalbaar; standaard eerstedagsmelding)",
    )
    p.set_defaults(func=cmd_intake_token_genereer)

    werklijst_cmd = sub.add_parser("werklijst", help="de werklijst van de coördinator").add_subparsers(
        dest="cmd", required=True
    )
    account_cmd = werklijst_cmd.add_parser("account", help="accounts van de werklijst").add_subparsers(
        dest="account_cmd", required=True
    )
    p = account_cmd.add_parser("genereer", help="druk eenmalig een nieuw wachtwoord af, en de hash-regel")
    p.add_argument("naam", help="accountnaam, bv. a.jansen")
    p.add_argument(
        "--gemeente", required=True, help="gemeentecode (vier cijfers) waarvan het account de documenten ziet"
    )
    p.add_argument(
        "--rol",
        required=True,
        choices=("coordinator", "pi_casemanager", "regievoerder"),
        help="rol uit de ontvangers van het register: bepaalt wat het document toont",
    )
    p.set_defaults(func=cmd_werklijst_account_genereer)

    p = sub.add_parser(
        "airflow", help="ingebouwde Airflow voor verkenning (SQLite, LocalExecutor; of --celery)"
    )
    p.add_argument("actie", choices=("up", "down", "status"))
    p.add_argument(
        "--celery",
        action="store_true",
        help="CeleryExecutor: workers via Redis; PostgreSQL 127.0.0.1:5432 voor metadata, pipeline, bronnen",
    )
    p.add_argument("--workers", type=_positive, default=2, help="aantal Celery-workers (met --celery)")
    p.add_argument(
        "--concurrency", type=_positive, default=2, help="taken tegelijk per worker (met --celery)"
    )
    p.add_argument(
        "--redis-db",
        type=int,
        default=0,
        choices=range(16),
        help="Redis-database van de broker (met --celery)",
    )
    p.set_defaults(func=cmd_airflow)
    return parser


def _toestemming_parsers(sub: Any) -> None:
    """`nazorg toestemming vastleggen | intrekken | toon`: the BSN comes from stdin or --bsn-bestand only."""
    groep = sub.add_parser(
        "toestemming", help="toestemming of overeenkomst per melding (BSN via stdin of --bsn-bestand)"
    ).add_subparsers(dest="cmd", required=True)

    def gemeenschappelijk(p: argparse.ArgumentParser) -> None:
        p.add_argument("--bsn-bestand", metavar="FILE", help="lees het BSN uit dit bestand (anders: stdin)")
        p.add_argument("--melding", metavar="ID", help="de melding, als het BSN meer open meldingen heeft")
        p.set_defaults(func=cmd_toestemming)

    # allow_abbrev=False: argparse would otherwise take `--bsn 999...` as `--bsn-bestand 999...`
    p = groep.add_parser(
        "vastleggen", help="leg een toestemming of overeenkomst vast voor een melding", allow_abbrev=False
    )
    gemeenschappelijk(p)
    p.add_argument("--soort", required=True, choices=("toestemming", "overeenkomst"))
    p.add_argument("--check", action="append", metavar="CHECK", help="een check met wanneer: toestemming")
    p.add_argument(
        "--basisvoorwaarde",
        action="append",
        metavar="AANDACHTSGEBIED",
        help="dekt de toestemmingschecks van dit aandachtsgebied",
    )
    p.add_argument("--tekst-versie", required=True, help="versie van de tekst waarmee is ingestemd")
    p.add_argument("--door", required=True, help="wie het vastlegt (gebruiker of rol)")
    p.add_argument("--geldig-tot", type=date.fromisoformat, help="YYYY-MM-DD (standaard: onbepaald)")
    p = groep.add_parser(
        "intrekken", help="trek een toestemming in; de checks stoppen meteen", allow_abbrev=False
    )
    gemeenschappelijk(p)
    p.add_argument("--toestemming", required=True, metavar="ID", help="het id uit `toestemming toon`")
    p.add_argument("--door", required=True, help="wie het intrekt (gebruiker of rol)")
    p = groep.add_parser(
        "toon", help="de toestemmingen van een melding (nooit uitkomsten)", allow_abbrev=False
    )
    gemeenschappelijk(p)
    p.add_argument("--format", choices=("tekst", "json"), default="tekst")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a configuration problem is a message and exit code 2, not a traceback.

    These errors carry names (a connection id, a variable, a file) and never a value.
    """
    from nazorg.connections import ConnectionInvalid, ConnectionMissing
    from nazorg.rechten import BeleidOngeldig
    from nazorg.register import RegisterError
    from nazorg.settings import SettingsError
    from nazorg.store import SchemaOutdated

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (
        ConnectionMissing,
        ConnectionInvalid,
        SettingsError,
        SchemaOutdated,
        RegisterError,
        BeleidOngeldig,
    ) as exc:
        print(f"nazorg: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
