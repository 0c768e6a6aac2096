"""Every setting of the library, read from the environment in this one module.

Why one module: a setting read in five places is five chances to disagree about
its default, and a test that changes one has to know all five. Everything else
asks :func:`settings` (or takes a :class:`Settings`), never ``os.environ``.
Connections are the exception by design: they follow Airflow's own mechanism
(``AIRFLOW_CONN_<ID>`` or Airflow's store, see :mod:`nazorg.connections`).

The project directory holds the policy and query files (``register/``, ``sql/``,
``expectations/``). From a source checkout it is the checkout; an installed
deployment names it with ``NAZORG_PROJECT_DIR`` (the Docker image: ``/opt/nazorg``).
Each of the three can also be pointed elsewhere on its own.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

#: The source checkout this module lives in (``src/nazorg/settings.py`` -> the root).
SOURCE_ROOT = Path(__file__).resolve().parents[2]

PSEUDONYM_KEY_ENV = "NAZORG_PSEUDONIEM_SLEUTEL"
PSEUDONYM_KEY_FILE_ENV = "NAZORG_PSEUDONIEM_SLEUTEL_BESTAND"

#: Defaults of the source limits (see the fields of :class:`Settings` and the README table).
DEFAULT_SOURCE_DEADLINE_S = 30.0
DEFAULT_CHECK_TASK_DEADLINE_S = 120.0
DEFAULT_BRP_PERSONEN_MAX_BYTES = 1 << 20  # 1 MiB
DEFAULT_REISDOCUMENTEN_MAX_BYTES = 256 << 10  # 256 KiB
DEFAULT_SQL_MAX_ROWS_PER_BSN = 10
#: Defaults of the batch path (``nazorg.batch``, ``dags/intake_batch.py``; README table).
DEFAULT_BATCH_CHUNK_GROOTTE = 1000
DEFAULT_BATCH_SCHEDULE = "@hourly"
DEFAULT_BATCH_MAX_POGINGEN = 3
DEFAULT_BATCH_BACKOFF_S = 300.0
DEFAULT_BATCH_CLAIM_S = 3600.0
#: Defaults of the laatstedagsmelding DAG and its notifications (``nazorg.laatstedag``; README table).
DEFAULT_LAATSTEDAG_SCHEDULE = "*/15 * * * *"
DEFAULT_NOTIFIER = "bestand"
NOTIFIERS = frozenset({"bestand", "smtp"})
DEFAULT_SMTP_CONN_ID = "nazorg_smtp"
DEFAULT_NOTIFICATIE_MAX_POGINGEN = 3
_CONN_ID = re.compile(r"^[A-Za-z0-9_.-]{1,250}$")
#: Airflow's schedule presets a batch schedule may name (besides a cron expression and ``none``)
SCHEDULE_PRESETS = frozenset({"@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly"})
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*/,?#LW-]+$")


def check_schedule(value: str, name: str = "NAZORG_BATCH_SCHEDULE") -> str | None:
    """The batch DAG's schedule: a preset, a five-field cron expression, or ``none`` (trigger only).

    Checked here, not first by Airflow: an invalid schedule would otherwise be
    an import error of the DAG file, found only in the dag-processor's log.
    """
    text = value.strip()
    if text.lower() == "none":
        return None
    if text in SCHEDULE_PRESETS:
        return text
    fields = text.split()
    if len(fields) != 5 or not all(_CRON_FIELD.fullmatch(f) for f in fields):
        raise SettingsError(
            f"{name} moet een preset ({', '.join(sorted(SCHEDULE_PRESETS))}), een cron-expressie "
            "van vijf velden of none zijn",
            setting=name,
        )
    try:
        from croniter import croniter  # installed with Airflow; without it the field check stands
    except ImportError:
        return " ".join(fields)
    if not croniter.is_valid(" ".join(fields)):
        raise SettingsError(f"{name} is geen geldige cron-expressie", setting=name)
    return " ".join(fields)


#: Defaults of the intake API (``nazorg.intake_api``; README table).
DEFAULT_INTAKE_HOST = "127.0.0.1"
DEFAULT_INTAKE_PORT = 8090
DEFAULT_INTAKE_MAX_BODY_BYTES = 8192  # nazorg.intake.MAX_RAW_RECORD_BYTES: one melding, raw
MAX_INTAKE_MAX_BODY_BYTES = 65536
DEFAULT_INTAKE_RATE_PER_S = 1.0
DEFAULT_INTAKE_BURST = 20
DEFAULT_INTAKE_TRIGGER_WAIT_S = 2.0
DEFAULT_INTAKE_TRIGGER_BACKOFF_S = 5.0
DEFAULT_INTAKE_TRIGGER_BACKOFF_MAX_S = 300.0
DEFAULT_INTAKE_TRIGGER_ATTEMPTS = 10
INTAKE_TOKENS_ENV = "NAZORG_INTAKE_TOKENS"
INTAKE_TOKENS_FILE_ENV = "NAZORG_INTAKE_TOKENS_FILE"
#: The coördinator's werklijst (``nazorg.werklijst``; README table).
WERKLIJST_ACCOUNTS_ENV = "NAZORG_WERKLIJST_ACCOUNTS"
WERKLIJST_ACCOUNTS_FILE_ENV = "NAZORG_WERKLIJST_ACCOUNTS_FILE"
WERKLIJST_SESSIE_SLEUTEL_ENV = "NAZORG_WERKLIJST_SESSIE_SLEUTEL"
DEFAULT_WERKLIJST_SESSIE_DUUR_S = 8 * 3600  # one working day
DEFAULT_WERKLIJST_NIEUW_UREN = 72  # a document published on Friday is still new on Monday morning

#: Defaults of retention (``nazorg.bewaartermijn``, ``dags/bewaartermijn.py``; README table).
#: The processing log is the accountability record (Logboek Dataverwerkingen): kept
#: longer than any outcome it accounts for, so a question about a processing can be
#: answered after the outcome itself is gone.
DEFAULT_VERWERKINGSLOG_BEWAARTERMIJN = "P5Y"
DEFAULT_QUARANTAINE_BEWAARTERMIJN = "P1Y"
#: the longest a detention is assumed to last when no laatstedagsmelding ever arrives
#: and the melding has no verwachte_einddatum (the retention clock's fallback start)
DEFAULT_BEWAARTERMIJN_MAX_DETENTIE = "P2Y"
DEFAULT_BEWAARTERMIJN_SCHEDULE = "@daily"
DEFAULT_REISDOCUMENTEN_CONCURRENCY = 16
#: months of trend the aggregate report shows (``nazorg.rapportage``; README table)
DEFAULT_RAPPORTAGE_MAANDEN = 12
MAX_REISDOCUMENTEN_CONCURRENCY = 128  # each is a thread and a connection

#: Where the verwerkingsregister's entries live as URIs: a processing-log record's
#: ``processing_activity_id`` is ``<this><check_id>/v<versie>`` (Logboek Dataverwerkingen:
#: ``dpl.core.processing_activity_id`` is a URI into the register). ``.example`` is reserved
#: (RFC 2606): the default can never point at somebody else's server; a deployment sets its own.
DEFAULT_REGISTER_URI = "https://register.nazorg.example/verwerkingsactiviteiten/"
#: What the BRP API gateway's ``x-gebruiker`` says when no person acts: this system.
DEFAULT_BRP_GEBRUIKER = "nazorg-intake"
_REGISTER_URI = re.compile(
    r"^(https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?/"
    r"|urn:[a-z0-9][a-z0-9-]{0,31}:[A-Za-z0-9._~%!$&'()*+,;=:@/-]*:)$"
)
#: a system or user name for ``x-gebruiker``: no spaces, no run of 8+ digits (never a BSN)
_GEBRUIKER = re.compile(r"^(?!.*[0-9]{8})[A-Za-z][A-Za-z0-9._@-]{1,63}$")


def check_register_uri(value: str, name: str = "NAZORG_REGISTER_URI") -> str:
    """An absolute http(s) URI ending in ``/`` or a ``urn:`` ending in ``:``; id and version follow."""
    if len(value) > 160 or not _REGISTER_URI.fullmatch(value):
        raise SettingsError(
            f"{name} moet een http(s)-URI zijn die op / eindigt of een urn: die op : eindigt "
            "(hoogstens 160 tekens)",
            setting=name,
        )
    return value


def check_gebruiker(value: str, name: str = "NAZORG_BRP_GEBRUIKER") -> str:
    """The acting system's name for the BRP gateway's protocol: a name, never personal data."""
    if not _GEBRUIKER.fullmatch(value):
        raise SettingsError(
            f"{name} moet een systeem- of gebruikersnaam zijn (letter, dan 1-63 letters, cijfers of ._@-, "
            "geen reeks van 8+ cijfers)",
            setting=name,
        )
    return value


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names the variable, never its value."""

    def __init__(self, message: str, *, setting: str | None = None) -> None:
        super().__init__(message)
        #: the variable at fault (a name, never its value), for the quarantine's ``veld``
        self.setting = setting


def _default_project_dir() -> Path:
    return SOURCE_ROOT if (SOURCE_ROOT / "register").is_dir() else Path.cwd()


@dataclass(frozen=True, kw_only=True)
class Settings:
    """The library's configuration; build it with :meth:`from_env` or :meth:`for_project`."""

    project_dir: Path
    register_dir: Path
    sql_dir: Path
    expectations_dir: Path
    outbox_dir: Path
    #: where the batch writes each published chunk as Parquet (default ``var/parquet`` of the project)
    parquet_dir: Path
    #: the secret behind the processing log's pseudonyms (read lazily: see :meth:`pseudonym_key`)
    pseudonym_key_raw: str | None = field(default=None, repr=False)
    pseudonym_key_file: Path | None = None
    airflow_url: str | None = None
    airflow_user: str | None = None
    airflow_password: str | None = field(default=None, repr=False)
    airflow_credentials_file: Path | None = None
    warm_guard: bool = True
    # -- limits on the sources: a slow or hostile source ends in onbekend, never in a stuck task
    #: the most one check waits for one source, all in (connect, query, every retry and
    #: backoff, the whole response); past it the check is onbekend with bron_timeout
    source_deadline_s: float = DEFAULT_SOURCE_DEADLINE_S
    #: the most all source questions of one check task take together; checks still to
    #: ask a source after it are onbekend with bron_timeout (the DAG's timeouts derive from it)
    check_task_deadline_s: float = DEFAULT_CHECK_TASK_DEADLINE_S
    #: largest BRP Personen response body read; a larger one is refused (bron_fout)
    brp_personen_max_bytes: int = DEFAULT_BRP_PERSONEN_MAX_BYTES
    #: largest Reisdocumenten response body read; a larger one is refused (bron_fout)
    reisdocumenten_max_bytes: int = DEFAULT_REISDOCUMENTEN_MAX_BYTES
    #: rows a SQL lookup may return per requested BSN; more is a shape error (the melding blocks)
    sql_max_rows_per_bsn: int = DEFAULT_SQL_MAX_ROWS_PER_BSN
    # -- the batch path (nazorg.batch, dags/intake_batch.py)
    #: meldingen per chunk (one mapped task each); enlarged when a batch would exceed the chunk cap
    batch_chunk_grootte: int = DEFAULT_BATCH_CHUNK_GROOTTE
    #: the batch DAG's schedule (checked: a preset, cron, or None for trigger-only)
    batch_schedule: str | None = DEFAULT_BATCH_SCHEDULE
    #: how often a check is asked at most when its source keeps failing (the first run counts)
    batch_max_pogingen: int = DEFAULT_BATCH_MAX_POGINGEN
    #: the wait before the first retry of an onbekend; after attempt n it is backoff * 2**(n-1)
    batch_backoff_s: float = DEFAULT_BATCH_BACKOFF_S
    #: the lease of a batch chunk's claim on its meldingen; a claim past it may be taken over
    batch_claim_s: float = DEFAULT_BATCH_CLAIM_S
    #: Reisdocumenten requests in flight at once (one BSN each), on as many kept-alive
    #: connections; a 429 with Retry-After slows them down
    reisdocumenten_concurrency: int = DEFAULT_REISDOCUMENTEN_CONCURRENCY
    # -- the intake API (nazorg.intake_api): senders, limits, the trigger's retry schedule
    #: the senders and their token hashes as JSON text (see nazorg.intake_api.afzenders)
    intake_tokens_raw: str | None = field(default=None, repr=False)
    #: a file holding that JSON (used when intake_tokens_raw is unset)
    intake_tokens_file: Path | None = None
    intake_host: str = DEFAULT_INTAKE_HOST
    intake_port: int = DEFAULT_INTAKE_PORT
    #: the largest request body read; a longer one is refused with 413 while reading
    intake_max_body_bytes: int = DEFAULT_INTAKE_MAX_BODY_BYTES
    #: per sender: requests per second refilled into its bucket, and the bucket's size
    intake_rate_per_s: float = DEFAULT_INTAKE_RATE_PER_S
    intake_burst: int = DEFAULT_INTAKE_BURST
    #: how long a request waits for its trigger before answering "uitgesteld"
    intake_trigger_wait_s: float = DEFAULT_INTAKE_TRIGGER_WAIT_S
    #: a failed trigger is retried after backoff * 2**n seconds, at most backoff_max, attempts in all
    intake_trigger_backoff_s: float = DEFAULT_INTAKE_TRIGGER_BACKOFF_S
    intake_trigger_backoff_max_s: float = DEFAULT_INTAKE_TRIGGER_BACKOFF_MAX_S
    intake_trigger_attempts: int = DEFAULT_INTAKE_TRIGGER_ATTEMPTS
    # -- the coördinator's werklijst (nazorg.werklijst, /werklijst on the intake service)
    #: the accounts (scrypt hashes, gemeente, rol) as JSON text; unset (and no file): no werklijst
    werklijst_accounts_raw: str | None = field(default=None, repr=False)
    #: a file holding that JSON (used when werklijst_accounts_raw is unset)
    werklijst_accounts_file: Path | None = None
    #: the key the session cookie is signed with (at least 32 characters); required with accounts
    werklijst_sessie_sleutel: str | None = field(default=None, repr=False)
    #: how long a session lasts after login, in seconds
    werklijst_sessie_duur_s: int = DEFAULT_WERKLIJST_SESSIE_DUUR_S
    #: the session cookie is Secure (sent over HTTPS only); off only for plain-HTTP localhost
    werklijst_cookie_secure: bool = True
    #: a document published less than this many hours ago is "nieuw" on the werklijst
    werklijst_nieuw_uren: int = DEFAULT_WERKLIJST_NIEUW_UREN
    # -- the monthly aggregate report (nazorg.rapportage, dags/rapportage.py)
    #: where reports are written (None: ``var/rapportage`` of the project, see :meth:`rapportage_map`)
    rapportage_dir: Path | None = None
    #: months the report's trends cover, ending with the report's month
    rapportage_maanden: int = DEFAULT_RAPPORTAGE_MAANDEN

    def rapportage_map(self) -> Path:
        """The directory aggregate reports go to."""
        return self.rapportage_dir or self.project_dir / "var" / "rapportage"

    # -- the laatstedagsmelding DAG and its notifications (nazorg.laatstedag, nazorg.notificatie)
    #: the laatstedagsmelding DAG's schedule (checked like batch_schedule; None: trigger only)
    laatstedag_schedule: str | None = DEFAULT_LAATSTEDAG_SCHEDULE
    #: how notifications go out: ``bestand`` (owner-only files, the embedded default) or ``smtp``
    notifier: str = DEFAULT_NOTIFIER
    #: the Airflow connection (type smtp) the SMTP notifier sends through
    smtp_conn_id: str = DEFAULT_SMTP_CONN_ID
    #: where the file notifier writes (None: ``var/notificaties`` of the project)
    notificatie_dir_raw: Path | None = None
    #: sends tried at most per team and melding before the notification is given up (quarantined)
    notificatie_max_pogingen: int = DEFAULT_NOTIFICATIE_MAX_POGINGEN

    @property
    def notificatie_dir(self) -> Path:
        """The file notifier's directory (default ``var/notificaties`` of the project)."""
        return self.notificatie_dir_raw or self.project_dir / "var" / "notificaties"

    # -- accountability (Logboek Dataverwerkingen, BRP protocollering)
    #: base of ``processing_activity_id``: ``<register_uri><check_id>/v<versie>``
    register_uri: str = DEFAULT_REGISTER_URI
    #: the acting system (or user) the BRP API gateway protocols as ``x-gebruiker``
    brp_gebruiker: str = DEFAULT_BRP_GEBRUIKER
    #: OTLP/HTTP traces endpoint for one span per check per person; None: no export at all
    otel_endpoint: str | None = None
    # -- retention (nazorg.bewaartermijn, dags/bewaartermijn.py)
    #: how long a processing-log record is kept after its end_time (ISO 8601 duration)
    verwerkingslog_bewaartermijn: str = DEFAULT_VERWERKINGSLOG_BEWAARTERMIJN
    #: how long a quarantine row is kept after it was registered (ISO 8601 duration)
    quarantaine_bewaartermijn: str = DEFAULT_QUARANTAINE_BEWAARTERMIJN
    #: fallback start of a laatstedagsmelding-based term: datum_binnenkomst plus this,
    #: when no laatstedagsmelding arrived and the melding has no verwachte_einddatum
    bewaartermijn_max_detentie: str = DEFAULT_BEWAARTERMIJN_MAX_DETENTIE
    #: the retention DAG only counts what is due and deletes nothing
    bewaartermijn_dry_run: bool = False
    #: the retention DAG's schedule (a preset, cron, or None for trigger-only)
    bewaartermijn_schedule: str | None = DEFAULT_BEWAARTERMIJN_SCHEDULE

    def __post_init__(self) -> None:
        for name in (
            "source_deadline_s",
            "check_task_deadline_s",
            "batch_backoff_s",
            "batch_claim_s",
            "intake_rate_per_s",
            "intake_trigger_wait_s",
            "intake_trigger_backoff_s",
            "intake_trigger_backoff_max_s",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise SettingsError(f"{name} moet een positief getal zijn")
        for name in (
            "brp_personen_max_bytes",
            "reisdocumenten_max_bytes",
            "sql_max_rows_per_bsn",
            "batch_chunk_grootte",
            "batch_max_pogingen",
            "reisdocumenten_concurrency",
            "intake_port",
            "intake_max_body_bytes",
            "intake_burst",
            "intake_trigger_attempts",
            "rapportage_maanden",
            "notificatie_max_pogingen",
            "werklijst_sessie_duur_s",
            "werklijst_nieuw_uren",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SettingsError(f"{name} moet een positief geheel getal zijn")
        if self.batch_schedule is not None:
            check_schedule(self.batch_schedule, "batch_schedule")
        if self.laatstedag_schedule is not None:
            check_schedule(self.laatstedag_schedule, "laatstedag_schedule")
        if self.notifier not in NOTIFIERS:
            raise SettingsError(
                f"notifier moet een van {', '.join(sorted(NOTIFIERS))} zijn", setting="notifier"
            )
        if not _CONN_ID.fullmatch(self.smtp_conn_id):
            raise SettingsError("smtp_conn_id is geen geldige connection-id", setting="smtp_conn_id")
        if self.bewaartermijn_schedule is not None:
            check_schedule(self.bewaartermijn_schedule, "bewaartermijn_schedule")
        from nazorg.duur import is_duur

        for name in (
            "verwerkingslog_bewaartermijn",
            "quarantaine_bewaartermijn",
            "bewaartermijn_max_detentie",
        ):
            if not is_duur(getattr(self, name)):
                raise SettingsError(f"{name} moet een ISO 8601-duur zijn (bijv. P1Y)", setting=name)
        if self.reisdocumenten_concurrency > MAX_REISDOCUMENTEN_CONCURRENCY:
            grens = MAX_REISDOCUMENTEN_CONCURRENCY
            raise SettingsError(f"reisdocumenten_concurrency mag hoogstens {grens} zijn")
        if self.intake_max_body_bytes > MAX_INTAKE_MAX_BODY_BYTES:
            raise SettingsError(f"intake_max_body_bytes mag hoogstens {MAX_INTAKE_MAX_BODY_BYTES} zijn")
        if self.intake_port > 65535:
            raise SettingsError("intake_port moet een poortnummer zijn")
        check_register_uri(self.register_uri, "register_uri")
        check_gebruiker(self.brp_gebruiker, "brp_gebruiker")
        if self.otel_endpoint is not None and not re.fullmatch(r"https?://\S+", self.otel_endpoint):
            raise SettingsError("otel_endpoint moet een http(s)-URL zijn", setting="otel_endpoint")

    @classmethod
    def for_project(cls, project_dir: Path, **overrides: object) -> Settings:
        """Settings whose register, SQL and expectations all come from ``project_dir``."""
        project = Path(project_dir).resolve()
        base = cls(
            project_dir=project,
            register_dir=project / "register",
            sql_dir=project / "sql",
            expectations_dir=project / "expectations",
            outbox_dir=project / "var" / "outbox",
            parquet_dir=project / "var" / "parquet",
        )
        return replace(base, **overrides)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def path(name: str, default: Path) -> Path:
            value = env.get(name)
            return Path(value).expanduser().resolve() if value else default

        def optional(name: str) -> str | None:
            return env.get(name) or None

        def number(name: str, default: float) -> float:
            value = optional(name)
            try:
                parsed = default if value is None else float(value)
            except ValueError:
                raise SettingsError(f"{name} moet een getal zijn") from None
            if not parsed > 0 or parsed == float("inf"):
                raise SettingsError(f"{name} moet een positief getal zijn")
            return parsed

        def count(name: str, default: int) -> int:
            value = optional(name)
            try:
                parsed = default if value is None else int(value)
            except ValueError:
                raise SettingsError(f"{name} moet een geheel getal zijn") from None
            if parsed < 1:
                raise SettingsError(f"{name} moet een positief geheel getal zijn")
            return parsed

        def duur(name: str, default: str) -> str:
            from nazorg.duur import is_duur

            value = (optional(name) or default).strip()
            if not is_duur(value):
                raise SettingsError(f"{name} moet een ISO 8601-duur zijn (bijv. P1Y)", setting=name)
            return value

        def vlag(name: str) -> bool:
            value = (optional(name) or "false").strip().lower()
            if value not in ("1", "0", "true", "false"):
                raise SettingsError(f"{name} moet true of false zijn", setting=name)
            return value in ("1", "true")

        project = path("NAZORG_PROJECT_DIR", _default_project_dir())
        credentials = optional("NAZORG_AIRFLOW_CREDENTIALS")
        key_file = optional(PSEUDONYM_KEY_FILE_ENV)
        return cls(
            project_dir=project,
            register_dir=path("NAZORG_REGISTER_DIR", project / "register"),
            sql_dir=path("NAZORG_SQL_DIR", project / "sql"),
            expectations_dir=path("NAZORG_EXPECTATIONS_DIR", project / "expectations"),
            outbox_dir=path("NAZORG_OUTBOX_DIR", project / "var" / "outbox"),
            pseudonym_key_raw=optional(PSEUDONYM_KEY_ENV),
            pseudonym_key_file=Path(key_file) if key_file else None,
            airflow_url=optional("NAZORG_AIRFLOW_URL"),
            airflow_user=optional("NAZORG_AIRFLOW_USER"),
            airflow_password=optional("NAZORG_AIRFLOW_PASSWORD"),
            airflow_credentials_file=Path(credentials) if credentials else None,
            warm_guard=env.get("NAZORG_WARM_GUARD", "1") != "0",
            source_deadline_s=number("NAZORG_SOURCE_DEADLINE_S", DEFAULT_SOURCE_DEADLINE_S),
            check_task_deadline_s=number("NAZORG_CHECK_TASK_DEADLINE_S", DEFAULT_CHECK_TASK_DEADLINE_S),
            brp_personen_max_bytes=count("NAZORG_BRP_PERSONEN_MAX_BYTES", DEFAULT_BRP_PERSONEN_MAX_BYTES),
            reisdocumenten_max_bytes=count(
                "NAZORG_REISDOCUMENTEN_MAX_BYTES", DEFAULT_REISDOCUMENTEN_MAX_BYTES
            ),
            sql_max_rows_per_bsn=count("NAZORG_SQL_MAX_ROWS_PER_BSN", DEFAULT_SQL_MAX_ROWS_PER_BSN),
            batch_chunk_grootte=count("NAZORG_BATCH_CHUNK_GROOTTE", DEFAULT_BATCH_CHUNK_GROOTTE),
            batch_schedule=check_schedule(env.get("NAZORG_BATCH_SCHEDULE") or DEFAULT_BATCH_SCHEDULE),
            batch_max_pogingen=count("NAZORG_BATCH_MAX_POGINGEN", DEFAULT_BATCH_MAX_POGINGEN),
            batch_backoff_s=number("NAZORG_BATCH_BACKOFF_S", DEFAULT_BATCH_BACKOFF_S),
            batch_claim_s=number("NAZORG_BATCH_CLAIM_S", DEFAULT_BATCH_CLAIM_S),
            parquet_dir=path("NAZORG_PARQUET_DIR", project / "var" / "parquet"),
            reisdocumenten_concurrency=count(
                "NAZORG_REISDOCUMENTEN_CONCURRENCY", DEFAULT_REISDOCUMENTEN_CONCURRENCY
            ),
            intake_tokens_raw=optional(INTAKE_TOKENS_ENV),
            intake_tokens_file=path(INTAKE_TOKENS_FILE_ENV, Path())
            if optional(INTAKE_TOKENS_FILE_ENV)
            else None,
            intake_host=optional("NAZORG_INTAKE_HOST") or DEFAULT_INTAKE_HOST,
            intake_port=count("NAZORG_INTAKE_PORT", DEFAULT_INTAKE_PORT),
            intake_max_body_bytes=count("NAZORG_INTAKE_MAX_BODY_BYTES", DEFAULT_INTAKE_MAX_BODY_BYTES),
            intake_rate_per_s=number("NAZORG_INTAKE_RATE_PER_S", DEFAULT_INTAKE_RATE_PER_S),
            intake_burst=count("NAZORG_INTAKE_BURST", DEFAULT_INTAKE_BURST),
            intake_trigger_wait_s=number("NAZORG_INTAKE_TRIGGER_WAIT_S", DEFAULT_INTAKE_TRIGGER_WAIT_S),
            intake_trigger_backoff_s=number(
                "NAZORG_INTAKE_TRIGGER_BACKOFF_S", DEFAULT_INTAKE_TRIGGER_BACKOFF_S
            ),
            intake_trigger_backoff_max_s=number(
                "NAZORG_INTAKE_TRIGGER_BACKOFF_MAX_S", DEFAULT_INTAKE_TRIGGER_BACKOFF_MAX_S
            ),
            intake_trigger_attempts=count("NAZORG_INTAKE_TRIGGER_ATTEMPTS", DEFAULT_INTAKE_TRIGGER_ATTEMPTS),
            werklijst_accounts_raw=optional(WERKLIJST_ACCOUNTS_ENV),
            werklijst_accounts_file=path(WERKLIJST_ACCOUNTS_FILE_ENV, Path())
            if optional(WERKLIJST_ACCOUNTS_FILE_ENV)
            else None,
            werklijst_sessie_sleutel=optional(WERKLIJST_SESSIE_SLEUTEL_ENV),
            werklijst_sessie_duur_s=count("NAZORG_WERKLIJST_SESSIE_DUUR_S", DEFAULT_WERKLIJST_SESSIE_DUUR_S),
            werklijst_cookie_secure=(optional("NAZORG_WERKLIJST_COOKIE_SECURE") or "true").strip().lower()
            != "false",
            werklijst_nieuw_uren=count("NAZORG_WERKLIJST_NIEUW_UREN", DEFAULT_WERKLIJST_NIEUW_UREN),
            rapportage_dir=path("NAZORG_RAPPORTAGE_DIR", project / "var" / "rapportage"),
            rapportage_maanden=count("NAZORG_RAPPORTAGE_MAANDEN", DEFAULT_RAPPORTAGE_MAANDEN),
            laatstedag_schedule=check_schedule(
                env.get("NAZORG_LAATSTEDAG_SCHEDULE") or DEFAULT_LAATSTEDAG_SCHEDULE,
                "NAZORG_LAATSTEDAG_SCHEDULE",
            ),
            notifier=_keuze(env, "NAZORG_NOTIFIER", NOTIFIERS, DEFAULT_NOTIFIER),
            smtp_conn_id=_conn_id(env, "NAZORG_SMTP_CONN_ID", DEFAULT_SMTP_CONN_ID),
            notificatie_dir_raw=path("NAZORG_NOTIFICATIE_DIR", project / "var" / "notificaties"),
            notificatie_max_pogingen=count(
                "NAZORG_NOTIFICATIE_MAX_POGINGEN", DEFAULT_NOTIFICATIE_MAX_POGINGEN
            ),
            register_uri=check_register_uri(env.get("NAZORG_REGISTER_URI") or DEFAULT_REGISTER_URI),
            brp_gebruiker=check_gebruiker(env.get("NAZORG_BRP_GEBRUIKER") or DEFAULT_BRP_GEBRUIKER),
            otel_endpoint=otel_endpoint(optional("NAZORG_OTEL_ENDPOINT")),
            verwerkingslog_bewaartermijn=duur(
                "NAZORG_VERWERKINGSLOG_BEWAARTERMIJN", DEFAULT_VERWERKINGSLOG_BEWAARTERMIJN
            ),
            quarantaine_bewaartermijn=duur(
                "NAZORG_QUARANTAINE_BEWAARTERMIJN", DEFAULT_QUARANTAINE_BEWAARTERMIJN
            ),
            bewaartermijn_max_detentie=duur(
                "NAZORG_BEWAARTERMIJN_MAX_DETENTIE", DEFAULT_BEWAARTERMIJN_MAX_DETENTIE
            ),
            bewaartermijn_dry_run=vlag("NAZORG_BEWAARTERMIJN_DRY_RUN"),
            bewaartermijn_schedule=check_schedule(
                env.get("NAZORG_BEWAARTERMIJN_SCHEDULE") or DEFAULT_BEWAARTERMIJN_SCHEDULE,
                "NAZORG_BEWAARTERMIJN_SCHEDULE",
            ),
        )

    def pseudonym_key(self) -> bytes:
        """The HMAC key; a missing or weak key is refused rather than used.

        Without a strong key a pseudonym is reversed by enumerating the valid
        BSNs; :mod:`nazorg.sleutel` says what strong means (at least 32 bytes,
        at least 128 estimated bits). The key bytes are the text as configured.
        """
        from nazorg.sleutel import beoordeel

        raw = self.pseudonym_key_raw
        if raw is None and self.pseudonym_key_file is not None:
            try:
                raw = self.pseudonym_key_file.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError):
                raise SettingsError(
                    f"{PSEUDONYM_KEY_FILE_ENV}: bestand niet leesbaar", setting=PSEUDONYM_KEY_FILE_ENV
                ) from None
        name = PSEUDONYM_KEY_ENV if self.pseudonym_key_raw is not None else PSEUDONYM_KEY_FILE_ENV
        if raw is None:
            raise SettingsError(
                f"{PSEUDONYM_KEY_ENV} (of {PSEUDONYM_KEY_FILE_ENV}) ontbreekt: "
                "maak een sleutel met `nazorg sleutel genereer`",
                setting=PSEUDONYM_KEY_ENV,
            )
        why = beoordeel(raw)
        if why is not None:
            raise SettingsError(
                f"{name}: sleutel geweigerd, {why}; maak een sleutel met `nazorg sleutel genereer`",
                setting=name,
            )
        return raw.encode()


def _keuze(env: Mapping[str, str], name: str, allowed: frozenset[str], default: str) -> str:
    """A value from a closed list; anything else is refused with the variable's name, never its value."""
    value = (env.get(name) or default).strip().lower()
    if value not in allowed:
        raise SettingsError(f"{name} moet een van {', '.join(sorted(allowed))} zijn", setting=name)
    return value


def _conn_id(env: Mapping[str, str], name: str, default: str) -> str:
    value = (env.get(name) or default).strip()
    if not _CONN_ID.fullmatch(value):
        raise SettingsError(f"{name} is geen geldige connection-id", setting=name)
    return value


def otel_endpoint(value: str | None, name: str = "NAZORG_OTEL_ENDPOINT") -> str | None:
    """The OTLP/HTTP traces URL (e.g. ``http://collector:4318/v1/traces``); unset or empty: off."""
    if value is None or not value.strip():
        return None
    if not re.fullmatch(r"https?://\S+", value.strip()):
        raise SettingsError(f"{name} moet een http(s)-URL zijn", setting=name)
    return value.strip()


@cache
def settings() -> Settings:
    """The process's settings, read once from the environment."""
    return Settings.from_env()


def reload_settings() -> Settings:
    """Forget the cached settings (tests and commands that change the environment)."""
    settings.cache_clear()
    return settings()
