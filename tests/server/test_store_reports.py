"""The bulk insert path of the store (binary COPY on PostgreSQL, executemany on SQLite):
values round-trip, partly stored batches, rows the store cannot take, and the COPY encoder."""

from __future__ import annotations

import struct
from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import func, select, text
from tests.server.data import many_rows, to_csv

from truce.domain.model import ATTACK, MUTUAL, NO_CODE, ReportTable
from truce.store import audit, pgcopy
from truce.store import reports as report_store
from truce.store.engine import write_transaction
from truce.store.schema import audit_log, reports
from truce.store.users import SYSTEM_USER

RECEIVED = datetime(2026, 11, 22, 10, 0, 0, 123456, tzinfo=UTC)


def _table() -> ReportTable:
    """Every kind of value a column can hold: NULLs, NaN, codes, non-ASCII text."""
    obj = lambda *v: np.array(v, dtype=object)  # noqa: E731
    return ReportTable(
        source=obj("amman", "hmeimim", "ngo"),
        report_id=obj("a-1", "h-7", "n-ü"),
        observed_at=np.array(
            ["2016-09-13T01:10:00.123456", "1999-12-31T23:59:59", "2016-09-14T07:00:00"],
            dtype="datetime64[ns]",
        ),
        lon=np.array([37.13, -0.5, 180.0]),
        lat=np.array([36.25, 0.0, -90.0]),
        precision_m=np.array([np.nan, 250.0, 0.0]),
        event_type=np.array([1, 0, 9], dtype=np.int8),
        weapon=np.array([NO_CODE, 2, 8], dtype=np.int8),
        actor=obj("SAA", "", "الجيش العربي السوري"),
        side=obj("", "gov", ""),
        target=obj("", "", "Jabhat Fateh al-Sham"),
        count=np.array([np.nan, 3.0, 12.0]),
        fatalities=np.array([0.0, np.nan, 2.0]),
        reliability=obj("B", "", "F"),
        credibility=np.array([2, 0, 6], dtype=np.int8),
        place=obj("", "Castello road", "Aleppo — east"),
        notes=obj('tab\there, newline\nthere, quote " and \\ backslash', "", "x" * 5000),
        line=np.array([2, 3, 4], dtype=np.int64),
        observed_to=np.array(
            ["2016-09-13T21:00:00", "NaT", "2016-09-14T07:00:00.000001"], dtype="datetime64[ns]"
        ),
        direction=np.array([MUTUAL, ATTACK, ATTACK], dtype=np.int8),
        fatalities_low=np.array([0.0, np.nan, 1.0]),
        fatalities_high=np.array([4.0, np.nan, 2.0]),
        source_url=obj("https://example.org/a?b=1&c=ü", "", ""),
        dataset=obj("ucdp-ged", "", ""),
        original=obj('{"id": "a-1", "notes": "ü \\"x\\""}', "", ""),
    )


def _insert_without_spec4_columns(engine, n: int = 3) -> None:
    """Rows as a database before migration 0004 holds them (its columns only)."""
    with write_transaction(engine) as conn:
        conn.execute(
            reports.insert(),
            [
                {
                    "source": "old",
                    "report_id": f"o-{i}",
                    "observed_at": RECEIVED,
                    "lon": 37.0,
                    "lat": 36.0,
                    "event_type": "shelling",
                    "submitted_by": "x",
                    "published": False,
                    "received_at": RECEIVED,
                }
                for i in range(n)
            ],
        )


def _count(engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(reports)).scalar_one())


def test_every_kind_of_value_is_stored_and_loaded_back_unchanged(service):
    table = _table()
    with write_transaction(service.engine) as conn:
        outcome = report_store.insert_reports(
            conn, table, submitted_by="tester", received_at=RECEIVED
        )
    assert outcome.new.tolist() == [True, True, True]
    with service.engine.connect() as conn:
        loaded, submitted_by = report_store.load_all(conn)
        stored = {
            (r["source"], r["report_id"]): r
            for r in report_store.fetch_by_keys(conn, ["amman:a-1", "hmeimim:h-7", "ngo:n-ü"])
        }
    assert submitted_by.tolist() == ["tester"] * 3
    texts = ("source", "report_id", "actor", "side", "target", "reliability", "place", "notes")
    for name in (*texts, "source_url", "dataset", "original"):
        assert getattr(loaded, name).tolist() == getattr(table, name).tolist(), name
    for name in ("event_type", "weapon", "credibility", "observed_at", "direction"):
        assert np.array_equal(getattr(loaded, name), getattr(table, name)), name
    numbers = ("lon", "lat", "precision_m", "count", "fatalities")
    for name in (*numbers, "fatalities_low", "fatalities_high", "observed_to"):
        assert np.array_equal(getattr(loaded, name), getattr(table, name), equal_nan=True), name
    first = stored[("amman", "a-1")]
    assert first["observed_at"].replace(tzinfo=first["observed_at"].tzinfo or UTC) == datetime(
        2016, 9, 13, 1, 10, 0, 123456, tzinfo=UTC
    )
    assert first["received_at"].replace(tzinfo=first["received_at"].tzinfo or UTC) == RECEIVED
    assert first["weapon"] is None and first["side"] is None and first["credibility"] == 2
    assert first["location_precision_m"] is None and first["published"] is False
    assert stored[("hmeimim", "h-7")]["credibility"] is None
    assert stored[("hmeimim", "h-7")]["weapon"] == "artillery"
    assert stored[("ngo", "n-ü")]["credibility"] == 6


def test_a_batch_with_some_keys_stored_already_stores_only_the_others(service):
    svc = service
    svc.ingest_reports(to_csv(many_rows(10)).encode(), format="csv", user=SYSTEM_USER)
    # rows 5..14: 5..9 are stored, 10..14 are new, interleaved with a stored one in between
    rows = many_rows(10, start=5)
    rows.insert(3, many_rows(1, start=0)[0])
    result = svc.ingest_reports(to_csv(rows).encode(), format="csv", user=SYSTEM_USER)
    assert (result.accepted, result.duplicate) == (5, 6)
    status = {r["key"]: r["status"] for r in result.results}
    assert [r["line"] for r in result.results] == list(range(2, 13))
    assert all(status[f"bulk:b-{i}"] == "duplicate" for i in (0, 5, 6, 7, 8, 9))
    assert all(status[f"bulk:b-{i}"] == "accepted" for i in range(10, 15))
    assert _count(svc.engine) == 15
    with svc.engine.connect() as conn:
        last = conn.execute(select(audit_log.c.payload).order_by(audit_log.c.seq.desc())).first()
    assert '"accepted":5' in last[0]
    assert audit.verify(svc.engine).ok


def test_a_value_holding_nul_is_rejected_with_its_line_and_the_rest_go_in(service):
    rows = many_rows(3)
    rows[1]["notes"] = "before\x00after"
    data = to_csv(rows, [*rows[0].keys(), "notes"]).encode()
    result = service.ingest_reports(data, format="csv", user=SYSTEM_USER)
    assert result.accepted == 2
    assert [(r["line"], r["field"]) for r in result.rejected] == [(3, "notes")]
    assert "NUL" in result.rejected[0]["reason"]
    assert [r["status"] for r in result.results] == ["accepted", "rejected", "accepted"]
    assert _count(service.engine) == 2


def test_an_empty_batch_stores_nothing_and_writes_no_audit_entry(service):
    table = _table().take(np.array([], dtype=np.int64))
    with write_transaction(service.engine) as conn:
        outcome = report_store.insert_reports(conn, table, submitted_by="x", received_at=RECEIVED)
    assert outcome.count == 0 and _count(service.engine) == 0


# --- the binary COPY encoder, without a server -------------------------------------------


def _parse_rows(body: bytes, nfields: int) -> list[list[bytes | None]]:
    rows, at = [], 0
    while at < len(body):
        (count,) = struct.unpack_from(">h", body, at)
        assert count == nfields
        at += 2
        row: list[bytes | None] = []
        for _ in range(count):
            (size,) = struct.unpack_from(">i", body, at)
            at += 4
            if size == -1:
                row.append(None)
            else:
                row.append(body[at : at + size])
                at += size
        rows.append(row)
    return rows


def test_binary_copy_rows_follow_the_postgresql_layout():
    fields = [
        pgcopy.text_field(np.array(["ab", "", "ü"], dtype=object)),
        pgcopy.float8_field(np.array([1.5, np.nan, -2.0])),
        pgcopy.int2_field(np.array([3, 0, -1]), np.array([False, True, False])),
        pgcopy.bool_field(np.array([True, False, True])),
        pgcopy.timestamptz_field(
            np.array(["2000-01-01T00:00:01", "1999-12-31T23:59:59.999999", "2016-09-13"], "M8[ns]")
        ),
    ]
    rows = _parse_rows(pgcopy.encode_rows(fields), 5)
    assert rows[0] == [
        b"ab",
        struct.pack(">d", 1.5),
        struct.pack(">h", 3),
        b"\x01",
        struct.pack(">q", 1_000_000),
    ]
    assert rows[1] == [None, None, None, b"\x00", struct.pack(">q", -1)]
    assert rows[2][0] == "ü".encode() and rows[2][2] == struct.pack(">h", -1)
    assert struct.unpack(">q", rows[2][4])[0] == (
        int(np.datetime64("2016-09-13", "us").astype(np.int64)) - pgcopy.PG_EPOCH_US
    )


def test_binary_copy_refuses_text_holding_nul_and_names_the_row():
    try:
        pgcopy.text_field(np.array(["fine", "also fine", "not\x00fine"], dtype=object))
    except pgcopy.NulInText as exc:
        assert exc.row == 2
    else:
        raise AssertionError("NUL was accepted")


def test_binary_copy_rows_are_the_same_encoded_whole_or_in_slices():
    fields = [
        pgcopy.text_field(np.array(["B", "B", "B", "B"], dtype=object)),  # uniform text
        pgcopy.text_field(np.array(["", "", "", ""], dtype=object)),  # all NULL
        pgcopy.float8_field(np.array([1.0, 2.0, 3.0, 4.0])),  # uniform fixed
        pgcopy.text_field(np.array(["x", "", "yyy", "ü"], dtype=object)),
        pgcopy.float8_field(np.array([np.nan, 2.0, np.nan, 4.0])),
    ]
    assert [f.uniform for f in fields] == [True, True, True, False, False]
    whole = pgcopy.encode_rows(fields)
    sliced = b"".join(
        pgcopy.encode_rows([f.rows(a, b) for f in fields]) for a, b in ((0, 1), (1, 3), (3, 4))
    )
    assert whole == sliced
    rows = _parse_rows(whole, 5)
    assert [r[0] for r in rows] == [b"B"] * 4 and [r[1] for r in rows] == [None] * 4
    assert [r[3] for r in rows] == [b"x", None, b"yyy", "ü".encode()]
    assert rows[2][4] is None and rows[3][4] == struct.pack(">d", 4.0)


# --- migration 0002 ------------------------------------------------------------------------


def _downgrade(engine, revision: str) -> None:
    from alembic import command

    from truce.store.migrate import alembic_config

    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def _index_names(engine) -> set[str]:
    import warnings

    from sqlalchemy import inspect
    from sqlalchemy.exc import SAWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # PostGIS geometry has no SQLAlchemy type
        return {ix["name"] for ix in inspect(engine).get_indexes("reports")}


def _key_collations(engine) -> set[str | None]:
    from sqlalchemy import text

    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT collation_name FROM information_schema.columns WHERE table_name = "
                "'reports' AND table_schema = current_schema() "
                "AND column_name IN ('source', 'report_id', 'submitted_by')"
            )
        )
        return {r[0] for r in rows}


def test_migration_0002_keeps_stored_reports_and_can_be_undone(db_url):
    from truce.store.engine import make_engine
    from truce.store.migrate import current_revision, upgrade

    engine = make_engine(db_url)
    try:
        upgrade(engine, "0001")
        _insert_without_spec4_columns(engine)
        upgrade(engine, "0002")
        assert current_revision(engine) == "0002"
        assert "ix_reports_observed_at" not in _index_names(engine)
        postgres = engine.dialect.name == "postgresql"
        if postgres:
            assert _key_collations(engine) == {"C"}
        _downgrade(engine, "0001")
        assert "ix_reports_observed_at" in _index_names(engine)
        if postgres:
            assert _key_collations(engine) == {None}
        assert _count(engine) == 3
    finally:
        engine.dispose()


def test_migration_0004_adds_the_spec4_columns_as_not_stated_and_can_be_undone(db_url):
    from truce.store.engine import make_engine
    from truce.store.migrate import current_revision, upgrade

    engine = make_engine(db_url)
    try:
        upgrade(engine, "0003")
        _insert_without_spec4_columns(engine)
        upgrade(engine, "0004")
        assert current_revision(engine) == "0004"
        with engine.connect() as conn:
            loaded = report_store.load_all(conn)[0]
        assert len(loaded) == 3
        assert np.isnat(loaded.observed_to).all() and (loaded.direction == ATTACK).all()
        assert np.isnan(loaded.fatalities_low).all() and set(loaded.original) == {""}
        with write_transaction(engine) as conn:
            report_store.insert_reports(conn, _table(), submitted_by="x", received_at=RECEIVED)
        _downgrade(engine, "0003")
        assert _count(engine) == 6
        with engine.connect() as conn:
            columns = set(conn.exec_driver_sql("SELECT * FROM reports").keys())
        assert "observed_to" not in columns and "original" not in columns
    finally:
        engine.dispose()


def test_reports_read_a_block_at_a_time_load_as_one_table_in_insertion_order(service, monkeypatch):
    table = _table()
    with write_transaction(service.engine) as conn:
        report_store.insert_reports(conn, table, submitted_by="tester", received_at=RECEIVED)
    monkeypatch.setattr(report_store, "LOAD_ROWS", 2)  # blocks of 2 and 1
    with service.engine.connect() as conn:
        loaded, submitted_by = report_store.load_all(conn)
    assert submitted_by.tolist() == ["tester"] * 3
    assert loaded.report_id.tolist() == ["a-1", "h-7", "n-ü"]
    assert loaded.original.tolist() == table.original.tolist()
    assert np.array_equal(loaded.observed_to, table.observed_to, equal_nan=True)
    assert np.array_equal(loaded.fatalities, table.fatalities, equal_nan=True)


def test_a_value_longer_than_its_column_is_rejected_with_its_line_on_both_backends(service):
    rows = many_rows(3)
    rows[0]["report_id"] = "r" * 201
    rows[2]["side"] = "s" * 101
    data = to_csv(rows, [*rows[1].keys(), "side"]).encode()
    result = service.ingest_reports(data, format="csv", user=SYSTEM_USER)
    assert result.accepted == 1
    assert [(r["line"], r["field"]) for r in result.rejected] == [(2, "report_id"), (4, "side")]
    assert "201 characters" in result.rejected[0]["reason"]
    assert _count(service.engine) == 1


def test_stored_rows_says_which_keys_are_stored_in_one_query(service):
    table = _table()
    with write_transaction(service.engine) as conn:
        report_store.insert_reports(
            conn, table.take(np.array([0, 2])), submitted_by="x", received_at=RECEIVED
        )
    with service.engine.connect() as conn:
        assert report_store.stored_rows(conn, table).tolist() == [True, False, True]
        assert report_store.stored_rows(conn, table.take(np.array([1]))).tolist() == [False]


def test_two_services_ingesting_overlapping_batches_store_each_report_once(db_url, service):
    """Separate engines (as two processes) race on batches that share half their keys."""
    import threading

    from truce.service import AgreementRegistry, Service
    from truce.store.engine import make_engine

    other = Service(make_engine(db_url), AgreementRegistry([]))
    batches = [to_csv(many_rows(3000)).encode(), to_csv(many_rows(3000, start=1500)).encode()]
    results = []

    def run(svc, data):
        results.append(svc.ingest_reports(data, format="csv", user=SYSTEM_USER))

    threads = [
        threading.Thread(target=run, args=pair)
        for pair in zip((service, other), batches, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.engine.dispose()
    assert sum(r.accepted for r in results) == 4500
    assert sum(r.duplicate for r in results) == 1500
    accepted = [x["key"] for r in results for x in r.results if x["status"] == "accepted"]
    assert len(accepted) == len(set(accepted)) == 4500
    assert _count(service.engine) == 4500
    assert audit.verify(service.engine).ok


def _kept_count(engine) -> int:
    with engine.connect() as conn:
        return report_store.report_count(conn)


def test_the_number_of_reports_is_kept_as_reports_come_and_go(service):
    """`report_count` is what `count(*)` says after each way rows arrive or leave: a
    COPY, a COPY refused for a stored key and made again for the others, deletes,
    and (PostgreSQL) a TRUNCATE."""
    from sqlalchemy import delete

    svc = service
    assert _kept_count(svc.engine) == _count(svc.engine) == 0
    svc.ingest_reports(to_csv(many_rows(10)).encode(), format="csv", user=SYSTEM_USER)
    assert _kept_count(svc.engine) == _count(svc.engine) == 10
    rows = many_rows(10, start=5)  # 5..9 stored: the first COPY fails, its count undone
    svc.ingest_reports(to_csv(rows).encode(), format="csv", user=SYSTEM_USER)
    assert _kept_count(svc.engine) == _count(svc.engine) == 15
    with write_transaction(svc.engine) as conn:
        conn.execute(delete(reports).where(reports.c.report_id.in_(["b-1", "b-2", "b-3"])))
    assert _kept_count(svc.engine) == _count(svc.engine) == 12
    with write_transaction(svc.engine) as conn:
        conn.execute(delete(reports).where(reports.c.report_id == "none such"))
    assert _kept_count(svc.engine) == 12
    if svc.engine.dialect.name == "postgresql":
        with write_transaction(svc.engine) as conn:
            conn.execute(text("TRUNCATE reports CASCADE"))
        assert _kept_count(svc.engine) == _count(svc.engine) == 0


def test_without_the_kept_number_the_reports_are_counted(service):
    """A store whose number of reports is not kept (PostgreSQL before 0011's row is
    made) is counted rather than failing every refresh."""
    _insert_without_spec4_columns(service.engine, 4)
    with write_transaction(service.engine) as conn:
        conn.execute(text("DELETE FROM state WHERE key = 'reports_count'"))
    assert _kept_count(service.engine) == _count(service.engine) == 4


def test_migration_0011_waits_for_reports_being_stored_and_counts_them(db_url):
    """A transaction storing reports when the upgrade starts commits before the count
    is made: counted then, or by the triggers, never left out for good."""
    import threading
    import time

    from truce.store.engine import make_engine
    from truce.store.migrate import upgrade

    if not db_url.startswith("postgresql"):
        pytest.skip("the count is kept by PostgreSQL's triggers only")
    engine = make_engine(db_url)
    try:
        upgrade(engine, "0010")
        _insert_without_spec4_columns(engine)
        writer = engine.connect()
        writer.begin()
        writer.execute(
            text(
                "INSERT INTO reports (source, report_id, observed_at, lon, lat, event_type,"
                " submitted_by, published, received_at) VALUES ('late', 'l-1', :t, 37, 36,"
                " 'shelling', 'x', false, :t), ('late', 'l-2', :t, 37, 36, 'shelling', 'x',"
                " false, :t)"
            ),
            {"t": RECEIVED},
        )
        failed: list[BaseException] = []

        def migrate() -> None:
            try:
                upgrade(engine, "0011")
            except BaseException as exc:  # seen by the test's thread
                failed.append(exc)

        upgrading = threading.Thread(target=migrate)
        upgrading.start()
        waiting = text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            " AND query LIKE 'LOCK TABLE reports%'"
        )
        deadline = time.monotonic() + 30
        with engine.connect() as probe:
            while upgrading.is_alive() and time.monotonic() < deadline:
                if probe.execute(waiting).scalar_one():
                    break  # the upgrade waits for the writer
                time.sleep(0.05)
        writer.commit()
        writer.close()
        upgrading.join(30)
        assert not failed and not upgrading.is_alive()
        assert _kept_count(engine) == _count(engine) == 5
    finally:
        engine.dispose()


def test_migration_0011_counts_the_reports_stored_before_it_and_can_be_undone(db_url):
    from truce.store.engine import make_engine
    from truce.store.migrate import upgrade

    engine = make_engine(db_url)
    try:
        upgrade(engine, "0010")
        _insert_without_spec4_columns(engine)
        upgrade(engine, "0011")
        assert _kept_count(engine) == _count(engine) == 3
        _downgrade(engine, "0010")
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                left = conn.execute(text("SELECT key FROM state WHERE key = 'reports_count'"))
                assert left.first() is None
                gone = (
                    "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'reports'::regclass"
                    " AND tgname LIKE 'reports_counted%'"
                )
                assert conn.execute(text(gone)).scalar_one() == 0
        upgrade(engine, "0011")
        assert _kept_count(engine) == 3
    finally:
        engine.dispose()
