"""`dien_in` stores a batch set-based, with the observable result of storing record by record.

The reference below is the per-record algorithm `dien_in` used before it became
set-based (one SELECT and one INSERT per melding), kept here on purpose: for
random mixes of valid, invalid, repeated and conflicting records, submitted in
batches of varying size and under a varying quarantine cap, both must give the
same `Inzendingsresultaat` and leave the same inbox and quarantine rows (run keys
and timestamps aside). Two submissions of the same melding ids racing each other
must store each melding once and report it stored exactly once.

Every test runs on SQLite (unit) and on PostgreSQL (integration).
"""

from __future__ import annotations

import string
import threading
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from itertools import islice
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nazorg import inbox, migrations
from nazorg.inbox import Inzendingsresultaat, dien_in, sla_op
from nazorg.intake import Beoordeling, Resultaat, beoordeel_alle, herkomst_voor, nieuwe_inzending
from nazorg.models import Fase, MeldingStatus
from nazorg.run_key import is_run_key, nieuwe_run_key
from nazorg.store import Store, dispose_engines, make_engine, now
from nazorg_dev.sim.population import synthetic_bsns
from tests.conftest import postgres_database

TODAY = date(2026, 11, 29)
GEMEENTEN = {"9901", "9902"}
BSNS = list(islice(synthetic_bsns(), 20))
INRICHTINGEN = ["PI Zuidkust", "PI Noorderveld", "PI Oostergouw"]
INBOX_KOLOMMEN = (
    "melding_id",
    "bsn",
    "gemeente_code",
    "inrichting",
    "datum_binnenkomst",
    "verwachte_einddatum",
    "reclassering_betrokken",
    "inhoud_hash",
    "status",
)
QUARANTAINE_KOLOMMEN = ("melding_id", "herkomst", "fase", "reden_code", "veld", "expectation")


def _store(url: str) -> Store:
    engine = make_engine(url)
    migrations.upgrade(engine)
    return Store(engine)


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("sqlite", marks=pytest.mark.unit),
        pytest.param("postgres", marks=pytest.mark.integration),
    ],
)
def stores(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Store, Store]]:
    """Two pipeline DBs of one dialect: one for the reference, one for `dien_in`."""
    if request.param == "sqlite":
        tmp: Path = tmp_path_factory.mktemp("inbox_batch")
        pair = (_store(f"sqlite:///{tmp / 'referentie.db'}"), _store(f"sqlite:///{tmp / 'batch.db'}"))
        yield pair
        for store in pair:
            store.engine.dispose()
        dispose_engines()
        return
    with postgres_database() as ref_url, postgres_database() as new_url:
        pair = (_store(ref_url), _store(new_url))
        yield pair
        for store in pair:
            store.engine.dispose()


# --- the per-record reference -------------------------------------------------------------------


def referentie_dien_in(
    store: Store, beoordelingen: Iterable[Beoordeling], *, inzending: str, max_rijen: int
) -> Inzendingsresultaat:
    """Record by record, in input order: look the id up, insert or compare, quarantine under a cap."""
    over, vol, boven = max_rijen, False, 0

    def past(rijen: int) -> bool:
        nonlocal over, vol, boven
        if not vol and rijen <= over:
            over -= rijen
            return True
        vol = True
        boven += 1
        return False

    def rij(melding_id: str | None, herkomst: str, reden_code: str, veld: str | None) -> dict[str, Any]:
        return {
            "quarantaine_id": uuid.uuid4().hex,
            "melding_id": melding_id,
            "herkomst": herkomst,
            "fase": Fase.INTAKE.value,
            "reden_code": reden_code,
            "veld": veld,
            "expectation": None,
            "nu": now(),
        }

    aantallen: Counter[Resultaat] = Counter()
    ids: list[str] = []
    with store.transaction() as conn:
        for b in beoordelingen:
            if b.melding is None:
                rows = [rij(b.melding_id, b.herkomst, a.reden_code, a.veld) for a in b.afwijzingen]
                if rows and past(len(rows)):
                    store.execute("quarantaine_insert", rows, conn=conn)
                aantallen["quarantaine"] += 1
                continue
            m = b.melding
            ids.append(m.melding_id)
            digest = m.inhoud_hash()
            existing = store.query("inbox_hash", {"melding_id": m.melding_id}, conn=conn)
            if not existing:
                row = {
                    **m.model_dump(mode="json"),
                    "run_key": nieuwe_run_key(),
                    "inhoud_hash": digest,
                    "status": MeldingStatus.ONTVANGEN.value,
                    "nu": now(),
                }
                store.execute("inbox_insert", row, conn=conn)
                aantallen["opgeslagen"] += 1
            elif existing[0]["inhoud_hash"] == digest:
                aantallen["al_aanwezig"] += 1
            else:
                if past(1):
                    store.execute(
                        "quarantaine_insert",
                        rij(m.melding_id, b.herkomst, "melding_id_conflict", "melding_id"),
                        conn=conn,
                    )
                aantallen["conflict"] += 1
    if boven:
        store.execute(
            "quarantaine_insert",
            rij(None, herkomst_voor(inzending), "quarantaine_limiet", f"<aantal:{boven}>"),
        )
    return Inzendingsresultaat(inzending, aantallen, tuple(ids), boven)


# --- what the tables hold ----------------------------------------------------------------------


def _inbox(store: Store, namespace: str) -> list[tuple[Any, ...]]:
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT * FROM inbox").mappings().all()
    mine = [r for r in rows if str(r["melding_id"]).startswith(namespace)]
    assert all(is_run_key(r["run_key"]) for r in mine)
    return sorted(tuple(r[k] for k in INBOX_KOLOMMEN) for r in mine)


def _run_keys(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        return [str(r[0]) for r in conn.exec_driver_sql("SELECT run_key FROM inbox")]


def _quarantaine(store: Store, inzendingen: Iterable[str]) -> list[tuple[Any, ...]]:
    prefixes = tuple(herkomst_voor(i) for i in inzendingen)
    rows = [
        r
        for r in store.query("quarantaine_list")
        if any(r["herkomst"] == p or str(r["herkomst"]).startswith(p + ":") for p in prefixes)
    ]
    return sorted(tuple("" if r[k] is None else r[k] for k in QUARANTAINE_KOLOMMEN) for r in rows)


# --- random submissions ------------------------------------------------------------------------


@st.composite
def records(draw: st.DrawFn) -> list[object]:
    """Records over a few melding ids, so ids repeat: same content, other content, or invalid."""
    ids = draw(st.lists(st.text(string.ascii_uppercase, min_size=3, max_size=5), min_size=1, max_size=5))
    varianten = st.builds(
        lambda bsn, gemeente, inrichting, dagen, reclassering: {
            "bsn": bsn,
            "gemeente_code": gemeente,
            "inrichting": inrichting,
            "datum_binnenkomst": (TODAY - timedelta(days=dagen)).isoformat(),
            **({"reclassering_betrokken": reclassering} if reclassering else {}),
        },
        st.sampled_from(BSNS[:3]),
        st.sampled_from(sorted(GEMEENTEN)),
        st.sampled_from(INRICHTINGEN[:2]),
        st.integers(0, 1),
        st.sampled_from([None, "ja"]),
    )
    valid = st.builds(lambda i, v: {"melding_id": i, **v}, st.sampled_from(ids), varianten)
    invalid = st.one_of(
        st.builds(lambda i, v: {"melding_id": i, **v, "bsn": "999000000"}, st.sampled_from(ids), varianten),
        st.builds(
            lambda i, v: {"melding_id": i, **v, "gemeente_code": "0000"}, st.sampled_from(ids), varianten
        ),
        st.builds(lambda i: {"melding_id": i}, st.sampled_from(ids)),  # four fields missing: four rows
        st.builds(lambda i, v: {"melding_id": i + "12345678", **v}, st.sampled_from(ids), varianten),
        st.sampled_from([[1], "x", 0, None]),
    )
    return draw(st.lists(st.one_of(valid, valid, invalid), max_size=25))


def _namespaced(raw: list[object], namespace: str) -> list[object]:
    return [
        {**r, "melding_id": namespace + str(r["melding_id"])}
        if isinstance(r, dict) and "melding_id" in r
        else r
        for r in raw
    ]


def _judge(raw: list[object], inzending: str) -> list[Beoordeling]:
    numbered = [(herkomst_voor(inzending, n), r) for n, r in enumerate(raw, start=1)]
    return list(beoordeel_alle(numbered, GEMEENTEN, TODAY))


EQUIVALENCE = settings(
    max_examples=120,
    deadline=None,
    database=None,  # no .hypothesis/ directory in the worktree
    suppress_health_check=[HealthCheck.too_slow],
)


@EQUIVALENCE
@given(
    earlier=records(),
    now_=records(),
    batch=st.sampled_from([1, 2, 3, 7, inbox.BATCH]),
    max_rijen=st.integers(0, 12),
)
def test_dien_in_matches_the_per_record_reference(
    stores: tuple[Store, Store], earlier: list[object], now_: list[object], batch: int, max_rijen: int
) -> None:
    ref, new = stores
    namespace = "T" + uuid.uuid4().hex[:12].translate(str.maketrans("0123456789", "GHIJKLMNOP")) + "-"
    inzendingen = [nieuwe_inzending(), nieuwe_inzending()]  # an earlier submission, then this one
    with mock.patch.object(inbox, "BATCH", batch):
        for inzending, raw in zip(inzendingen, [earlier, now_], strict=True):
            judged = _judge(_namespaced(raw, namespace), inzending)
            expected = referentie_dien_in(ref, judged, inzending=inzending, max_rijen=max_rijen)
            got = dien_in(new, judged, inzending=inzending, max_rijen=max_rijen)
            assert got == expected
    assert _inbox(new, namespace) == _inbox(ref, namespace)
    assert _quarantaine(new, inzendingen) == _quarantaine(ref, inzendingen)
    keys = _run_keys(new)
    assert len(keys) == len(set(keys))


def test_sla_op_stores_one_record_like_a_batch_of_one(stores: tuple[Store, Store]) -> None:
    _, store = stores
    inzending = nieuwe_inzending()
    melding_id = "SLAOP-" + uuid.uuid4().hex[:6].translate(str.maketrans("0123456789", "GHIJKLMNOP"))
    record = {
        "melding_id": melding_id,
        "bsn": BSNS[0],
        "gemeente_code": "9901",
        "inrichting": "PI Zuidkust",
        "datum_binnenkomst": TODAY.isoformat(),
    }
    first, same, other, invalid = _judge(
        [record, record, {**record, "inrichting": "PI Noorderveld"}, {**record, "bsn": "999000000"}],
        inzending,
    )
    assert [sla_op(store, b) for b in (first, same, other, invalid)] == [
        "opgeslagen",
        "al_aanwezig",
        "conflict",
        "quarantaine",
    ]
    assert Counter(r[3] for r in _quarantaine(store, [inzending])) == {
        "melding_id_conflict": 1,
        "bsn_elfproef": 1,
    }


def test_a_row_deleted_between_insert_and_read_back_is_a_conflict_in_quarantine(
    stores: tuple[Store, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Retention deletes a tombstone after its term (erasure a melding): it may go just then.

    The insert finds the old row and does nothing; the row is deleted before the
    read-back. That record is a conflict in quarantine (the id was taken when it was
    inserted), the rest of the submission is stored, nothing is silently dropped.
    """
    from sqlalchemy import text

    _, store = stores
    suffix = uuid.uuid4().hex[:6].translate(str.maketrans("0123456789", "GHIJKLMNOP"))
    weg, nieuw = f"WEG-{suffix}", f"NIEUW-{suffix}"
    record = {"bsn": BSNS[0], "gemeente_code": "9901", "inrichting": "PI Zuidkust"}
    record["datum_binnenkomst"] = TODAY.isoformat()
    first = nieuwe_inzending()
    assert dien_in(store, _judge([{**record, "melding_id": weg}], first), inzending=first).aantallen == {
        "opgeslagen": 1
    }
    echte = inbox._opgeslagen

    def verdwijnt(store_: Store, melding_ids: list[str], conn: Any) -> dict[str, tuple[str, str]]:
        conn.execute(text("DELETE FROM inbox WHERE melding_id = :m"), {"m": weg})  # retention, just now
        return echte(store_, melding_ids, conn)

    monkeypatch.setattr(inbox, "_opgeslagen", verdwijnt)
    second = nieuwe_inzending()
    judged = _judge([{**record, "melding_id": weg}, {**record, "melding_id": nieuw}], second)
    result = dien_in(store, judged, inzending=second)
    assert result.aantallen == {"conflict": 1, "opgeslagen": 1}
    assert [(r[0], r[3]) for r in _quarantaine(store, [second])] == [(weg, "melding_id_conflict")]
    assert inbox.run_key_voor(store, nieuw) is not None


# --- two submissions racing --------------------------------------------------------------------


def _race(store: Store, a: list[Beoordeling], b: list[Beoordeling], ids: tuple[str, str]) -> list[Any]:
    start = threading.Barrier(2)
    out: list[Any] = [None, None]

    def submit(slot: int, judged: list[Beoordeling], inzending: str) -> None:
        start.wait()
        try:
            out[slot] = dien_in(store, judged, inzending=inzending)
        except Exception as exc:  # reported by the assertion below, type only
            out[slot] = exc

    threads = [
        threading.Thread(target=submit, args=(0, a, ids[0])),
        threading.Thread(target=submit, args=(1, b, ids[1])),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return out


@pytest.mark.parametrize("ronde", range(4))
def test_two_concurrent_submissions_store_each_melding_once(stores: tuple[Store, Store], ronde: int) -> None:
    """Same ids from two submissions at once: one stores each, the other sees it (or its conflict).

    The second submission goes in reverse order, so without a fixed lock order the
    two transactions would take the ids' index locks crosswise (a deadlock on
    PostgreSQL); half the ids carry other content in the second submission.
    """
    _, store = stores
    n = inbox.BATCH + 150  # more than one batch per submission
    namespace = "R" + uuid.uuid4().hex[:10].translate(str.maketrans("0123456789", "GHIJKLMNOP")) + "-"
    base = [
        {
            "melding_id": f"{namespace}{i:05d}",
            "bsn": BSNS[i % len(BSNS)],
            "gemeente_code": "9901",
            "inrichting": "PI Zuidkust",
            "datum_binnenkomst": TODAY.isoformat(),
        }
        for i in range(n)
    ]
    other = [{**r, "inrichting": "PI Noorderveld"} if i % 2 else r for i, r in enumerate(base)]
    inzendingen = (nieuwe_inzending(), nieuwe_inzending())
    a = _judge(base, inzendingen[0])
    b = _judge(list(reversed(other)), inzendingen[1])
    ra, rb = _race(store, a, b, inzendingen)
    assert isinstance(ra, Inzendingsresultaat), type(ra).__name__
    assert isinstance(rb, Inzendingsresultaat), type(rb).__name__

    n_conflicting = n // 2
    assert ra.aantallen["opgeslagen"] + rb.aantallen["opgeslagen"] == n
    assert ra.aantallen["al_aanwezig"] + rb.aantallen["al_aanwezig"] == n - n_conflicting
    assert ra.aantallen["conflict"] + rb.aantallen["conflict"] == n_conflicting
    assert ra.totaal == rb.totaal == n

    stored = {row[0]: row for row in _inbox(store, namespace)}
    assert len(stored) == n
    hash_a = {b_.melding.melding_id: b_.melding.inhoud_hash() for b_ in a if b_.melding}
    hash_b = {b_.melding.melding_id: b_.melding.inhoud_hash() for b_ in b if b_.melding}
    # every stored melding is one of the two versions; a submission reporting a conflict
    # for an id lost it to the other's version, and quarantined exactly those ids
    kept_a = {i for i, row in stored.items() if row[7] == hash_a[i]}
    kept_b = {i for i, row in stored.items() if row[7] == hash_b[i]}
    assert kept_a | kept_b == set(stored)
    conflicts = _quarantaine(store, inzendingen)
    from_a = {r[0] for r in conflicts if r[1].startswith(herkomst_voor(inzendingen[0]) + ":")}
    from_b = {r[0] for r in conflicts if r[1].startswith(herkomst_voor(inzendingen[1]) + ":")}
    assert {r[3] for r in conflicts} == {"melding_id_conflict"}
    assert from_a == kept_b - kept_a
    assert from_b == kept_a - kept_b
    assert len(from_a) == ra.aantallen["conflict"] and len(from_b) == rb.aantallen["conflict"]
    keys = _run_keys(store)
    assert len(keys) == len(set(keys))


# --- run keys for a batch ----------------------------------------------------------------------


@pytest.mark.unit
def test_batch_run_keys_follow_the_run_key_rule_with_every_letter_equally_likely() -> None:
    """Each byte value 0..233 is one letter, 9 per letter; 234..255 would favour a..v and are dropped."""
    every_byte = bytes(range(256))
    with mock.patch.object(inbox.secrets, "token_bytes", lambda n: (every_byte * (n // 256 + 1))[:n]):
        keys = inbox._run_keys(39)  # 39 keys x 24 letters = 936 = 4 x 234 letters
    assert all(is_run_key(k) for k in keys)
    letters = Counter("".join(k.removeprefix("r-") for k in keys))
    assert letters == Counter({c: 4 * 9 for c in string.ascii_lowercase})
    fresh = inbox._run_keys(2000)
    assert len(set(fresh)) == 2000 and all(is_run_key(k) for k in fresh)
    assert inbox._run_keys(0) == []
