"""The stored evaluation as rows (issue #13 item 1): a refresh writes only the incidents
and violations that changed, and a process holding an earlier evaluation brings it up
to date from those rows alone; either way it equals the evaluation computed afresh."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select
from tests.server.data import AGREEMENT, BASE_ROWS, many_rows, to_csv

from truce.service import AgreementRegistry, Service
from truce.service.compute import compute
from truce.store import evaluation_rows
from truce.store.engine import make_engine, read_transaction
from truce.store.migrate import upgrade
from truce.store.schema import derived, evaluation_incidents, evaluation_violations
from truce.store.users import SYSTEM_USER

pytestmark = pytest.mark.timeout(300)


def _service(
    url: str, clock: Callable[[], datetime] | None = None, *, compute_process: bool = False
) -> Service:
    extra: dict[str, Any] = {} if clock is None else {"clock": clock}
    service = Service(
        make_engine(url),
        AgreementRegistry.load(),
        refresh_wait_s=None,
        compute_process=compute_process,
        **extra,
    )
    upgrade(service.engine)
    return service


def _close(*services: Service) -> None:
    for service in services:
        service.evaluations.close()
        service.engine.dispose()


def _ingest(service: Service, rows: list[dict]) -> None:
    service.ingest_reports(to_csv(rows).encode(), format="csv", user=SYSTEM_USER)


def _rows(rng: random.Random) -> list[dict]:
    """Reports close enough in space and time to merge and split as others arrive."""
    rows = many_rows(60, source="bulk") + many_rows(40, source="other", start=5)
    for row in rows:
        row["lat"] = 36.0 + rng.choice([0.0, 0.004, 0.01, 0.05])
        row["lon"] = 37.0 + rng.choice([0.0, 0.004, 0.01, 0.05])
    return rows + BASE_ROWS


def _counting_full_loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    full_load = evaluation_rows.load_violations  # how a whole load begins

    def counted(conn, agreement_id):  # type: ignore[no-untyped-def]
        calls.append(agreement_id)
        return full_load(conn, agreement_id)

    monkeypatch.setattr(evaluation_rows, "load_violations", counted)
    return calls


@pytest.mark.parametrize("seed", range(4))
def test_patched_and_loaded_evaluations_equal_a_fresh_computation(db_url, seed, monkeypatch):
    """Random ingest orders and batch sizes: after each batch, the computing process's
    evaluation (incremental: from its previous one and the new reports), one computed
    from scratch, a second process's copy brought up to date from the changed rows,
    and one loaded whole from the rows are the same evaluation."""
    rng = random.Random(seed)
    rows = _rows(rng)
    rng.shuffle(rows)
    # Last, two live reports after all the others, a batch each (one per worker): the
    # last batch keeps every earlier incident.
    live = [f"2016-09-21T0{h}:00:00+03:00" for h in (8, 9)]
    rows += [dict(BASE_ROWS[3], report_id=f"live-{i}", observed_at=t) for i, t in enumerate(live)]
    # Two computing processes taking turns, as two server workers do: each starts from
    # its own previous evaluation, with the other's rows stored in between.
    computing, reader = [_service(db_url), _service(db_url)], _service(db_url)
    full_loads = _counting_full_loads(monkeypatch)
    try:
        start = batches = 0
        while start < len(rows):
            worker = computing[batches % 2]
            batches += 1
            left = len(rows) - 2 - start  # before the two live reports
            size = min(rng.choice([1, 2, 5, 17, 40]), left) if left > 0 else 1
            _ingest(worker, rows[start : start + size])
            start += size
            fresh = worker.snapshot(AGREEMENT)
            assert fresh.generation == batches
            last = worker.evaluations.shared.computer.last[AGREEMENT]
            scratch = compute(worker.engine, worker.agreements.get(AGREEMENT), fresh.as_of)
            assert fresh.data == scratch.data
            patched = reader.snapshot(AGREEMENT)
            assert patched.generation == fresh.generation
            assert patched.data == fresh.data
            loader = _service(db_url)
            try:
                assert loader.snapshot(AGREEMENT).data == fresh.data
            finally:
                _close(loader)
        # Each computing service (after its first store) and the reader (at its first
        # read) loaded the rows whole once; every later batch they patched in. Each
        # fresh loader loaded them whole once.
        assert len(full_loads) == 3 + batches
        assert sum(w.computations for w in computing) == batches
        # The last computation started from the worker's evaluation two batches old and
        # kept the incidents before the live reports across the other worker's store.
        assert last["incremental"] and last["kept"] > 0 and batches > 2
    finally:
        _close(*computing, reader)


@pytest.mark.parametrize("seed", range(3))
def test_one_worker_refreshing_in_time_order_stores_a_fresh_computation(db_url, seed):
    """Batches arriving in time order to one process, which keeps its own rows: the
    incidents it makes again as they were are not written again, and the stored
    evaluation is still the one computed from scratch, for the reader too."""
    rng = random.Random(seed)
    rows = sorted(_rows(rng), key=lambda row: str(row["observed_at"]))
    worker, reader = _service(db_url), _service(db_url)
    try:
        start, kept_more = 0, 0
        while start < len(rows):
            size = rng.choice([1, 3, 8, 20])
            _ingest(worker, rows[start : start + size])
            start += size
            fresh = worker.snapshot(AGREEMENT)
            scratch = compute(worker.engine, worker.agreements.get(AGREEMENT), fresh.as_of)
            assert fresh.data == scratch.data
            assert reader.snapshot(AGREEMENT).data == fresh.data
            computer = worker.evaluations.shared.computer
            made = computer.held[AGREEMENT].evaluation.extra.get("incremental", {})
            kept_more += computer.last[AGREEMENT]["kept"] > made.get("reused", 0)
        assert kept_more > 0
    finally:
        _close(worker, reader)


def test_a_refresh_that_rewrote_most_rows_is_read_whole_not_patched(db_url, monkeypatch):
    """A report dated before most incidents moves every later one, so nearly every row
    is written again: a process holding the previous evaluation reads the new one whole
    (streamed) rather than holding every changed row's text at once to patch it in.
    A refresh that rewrote a few rows is still patched in."""
    from truce.store import derived

    monkeypatch.setattr(derived, "PATCH_MAX_ROWS", 10)
    monkeypatch.setattr(derived, "PATCH_MAX_SHARE", 0.25)
    patches: list[int] = []
    patch = evaluation_rows.patch

    def counted(items, changes, count):  # type: ignore[no-untyped-def]
        patches.append(len(changes))
        return patch(items, changes, count)

    monkeypatch.setattr(evaluation_rows, "patch", counted)
    computing, reader = _service(db_url), _service(db_url)
    try:
        _ingest(computing, many_rows(200))
        computing.snapshot(AGREEMENT)
        reader.snapshot(AGREEMENT)  # loaded whole: its first
        full_loads = _counting_full_loads(monkeypatch)
        late = dict(BASE_ROWS[3], report_id="late-1", observed_at="2016-09-20T01:00:00+03:00")
        _ingest(computing, [late])
        assert reader.snapshot(AGREEMENT).data == computing.snapshot(AGREEMENT).data
        # Both processes patched in the rows written (incidents, violations).
        assert (len(full_loads), len(patches)) == (0, 4)
        early = dict(BASE_ROWS[0], report_id="early-1", observed_at="2016-09-01T01:00:00+03:00")
        _ingest(computing, [early])
        fresh = computing.snapshot(AGREEMENT)
        with read_transaction(computing.engine) as conn:
            moved = evaluation_rows.rows_since(conn, AGREEMENT, fresh.generation - 1)
        assert moved > 0.25 * len(fresh.data["incidents"])
        assert reader.snapshot(AGREEMENT).data == fresh.data
        assert (len(full_loads), len(patches)) == (2, 4)  # both read it whole
    finally:
        _close(computing, reader)


def test_a_report_late_in_time_rewrites_only_what_it_changed(db_url):
    service = _service(db_url)
    try:
        _ingest(service, many_rows(300))
        before = service.snapshot(AGREEMENT)
        n_incidents = len(before.data["incidents"])
        assert n_incidents > 100
        # After every other report (the latest is 19 Sep 23:59), as live reports are.
        late = dict(BASE_ROWS[3], report_id="late-1", observed_at="2016-09-20T01:00:00+03:00")
        _ingest(service, [late])
        after = service.snapshot(AGREEMENT)
        assert len(after.data["incidents"]) == n_incidents + 1
        with read_transaction(service.engine) as conn:
            written = {
                table.name: conn.execute(
                    select(func.count()).where(
                        table.c.agreement_id == AGREEMENT,
                        table.c.generation == after.generation,
                    )
                ).scalar()
                for table in (evaluation_incidents, evaluation_violations)
            }
        # The new incident alone (past the cessation's 48 h: no violation); nothing moved.
        assert written == {"evaluation_incidents": 1, "evaluation_violations": 0}
        # The incidents consolidated again as they were were not even encoded again.
        last = service.evaluations.shared.computer.last[AGREEMENT]
        assert last["kept"] == n_incidents
    finally:
        _close(service)


def test_a_merged_incident_leaves_a_tombstone_that_readers_apply(db_url):
    computing, reader = _service(db_url), _service(db_url)
    try:
        # An incident's key is its earliest report: an earlier report of the same shelling
        # takes the key over, and the old key's row becomes a tombstone.
        later = dict(BASE_ROWS[0], report_id="x-2", observed_at="2016-09-13T05:00:00+03:00")
        _ingest(computing, [later])
        first = computing.snapshot(AGREEMENT)
        assert [i["key"] for i in first.data["incidents"]] == ["amman:x-2"]
        reader.snapshot(AGREEMENT)
        earlier = dict(BASE_ROWS[0], report_id="x-1", observed_at="2016-09-13T04:00:00+03:00")
        _ingest(computing, [earlier])
        second = computing.snapshot(AGREEMENT)
        assert [i["key"] for i in second.data["incidents"]] == ["amman:x-1"]
        with read_transaction(computing.engine) as conn:
            gone = conn.execute(
                select(evaluation_incidents.c.pos, evaluation_incidents.c.doc).where(
                    evaluation_incidents.c.key == "amman:x-2"
                )
            ).one()
            generation = conn.execute(select(derived.c.generation)).scalar()
        assert tuple(gone) == (None, None)
        patched = reader.snapshot(AGREEMENT)
        assert patched.generation == generation
        assert patched.data == second.data
    finally:
        _close(computing, reader)


def test_a_child_process_computes_and_stores_what_a_thread_would(db_url):
    """`truce serve` computes in a child process (`compute_process`): the worker only
    reads back the rows the child wrote, and they are the evaluation a thread computes."""
    service = Service(
        make_engine(db_url), AgreementRegistry.load(), refresh_wait_s=None, compute_process=True
    )
    upgrade(service.engine)
    try:
        _ingest(service, BASE_ROWS + many_rows(50))
        served = service.snapshot(AGREEMENT)
        assert service.computations == 1 and served.generation == 1
        entry = service.agreements.get(AGREEMENT)
        in_thread = service.evaluations._compute(entry, served.as_of)
        assert served.data["incidents"] == in_thread.data["incidents"]
        assert served.data["violations"] == in_thread.data["violations"]
        _ingest(
            service, [dict(BASE_ROWS[3], report_id="a-9", observed_at="2016-09-14T18:00:00+03:00")]
        )
        again = service.snapshot(AGREEMENT)
        assert again.generation == 2
        # The child kept its reports and evaluation: it read one new report and kept the
        # incidents before the new one's reach as stored.
        last = service.evaluations.shared.child.last
        assert last["incremental"] and last["new_reports"] == 1 and last["kept"] > 0
        assert len(again.data["violations"]) == len(served.data["violations"]) + 1
    finally:
        _close(service)


def _gated_incident_reads(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Whole loads from now on read their incidents only once the event returned is set."""
    gate = threading.Event()
    read_incidents = evaluation_rows.load_incidents

    def slow(conn, agreement_id, violations):  # type: ignore[no-untyped-def]
        assert gate.wait(60)
        return read_incidents(conn, agreement_id, violations)

    monkeypatch.setattr(evaluation_rows, "load_incidents", slow)
    return gate


def _stored_then_gated(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[Service, Service, threading.Event]:
    """A service that stored the evaluation of 50 reports, another over the same store,
    and whole loads' incident reads held from now on until the event is set."""
    computing, reader = _service(db_url), _service(db_url)
    _ingest(computing, many_rows(50))
    computing.snapshot(AGREEMENT)
    return computing, reader, _gated_incident_reads(monkeypatch)


def test_a_whole_load_answers_before_its_incidents_are_read(db_url, monkeypatch):
    """After a restart the stored evaluation is read violations first: what needs no
    incident (the dashboard) is answered while the incidents are still being read."""
    from truce.service import views
    from truce.store.deferred import Deferred
    from truce.store.users import SYSTEM_USER

    computing, restarted = _service(db_url), _service(db_url)
    gate = threading.Event()
    try:
        _ingest(computing, BASE_ROWS)
        stored = computing.snapshot(AGREEMENT)
        gate = _gated_incident_reads(monkeypatch)
        loaded = restarted.snapshot(AGREEMENT)  # returns although the incidents wait
        incidents = loaded.data["incidents"]
        assert isinstance(incidents, Deferred) and not incidents.ready
        assert loaded.data["violations"] == stored.data["violations"]
        summary = views.evaluation(restarted.evaluations, AGREEMENT, SYSTEM_USER, incidents=False)
        assert len(summary["violations"]) == 3 and not incidents.ready
        gate.set()
        assert incidents == stored.data["incidents"] and incidents.ready
        assert loaded.data == stored.data
    finally:
        gate.set()
        _close(computing, restarted)


def test_incidents_still_being_read_stay_packed_when_patched(db_url, monkeypatch):
    """A refresh that comes while a whole load is still reading the incidents (the
    first after a start) waits for them and patches them packed, rather than decoding
    each into a dict through the `Deferred` (at 1M: 16 s and 2.4 GB a worker)."""
    from truce.store import derived
    from truce.store.deferred import Deferred
    from truce.store.packed import PackedIncidents

    computing, reader, gate = _stored_then_gated(db_url, monkeypatch)
    try:
        first = derived.load(reader.engine, AGREEMENT)
        assert first is not None and isinstance(first.data["incidents"], Deferred)
        late = dict(BASE_ROWS[3], report_id="late", observed_at="2016-09-21T09:00:00+03:00")
        _ingest(computing, [late])
        fresh = computing.snapshot(AGREEMENT)
        threading.Timer(0.5, gate.set).start()  # the patch below starts while they wait
        patched = derived.load(reader.engine, AGREEMENT, reuse=first)
        assert patched is not None and patched.generation == fresh.generation
        assert isinstance(patched.data["incidents"], PackedIncidents)
        assert patched.data == fresh.data
    finally:
        gate.set()
        _close(computing, reader)


def test_a_whole_load_waits_for_the_whole_load_still_reading_before_it(db_url, monkeypatch):
    """The store's evaluation made again (whole) while a start's whole load still reads
    the incidents: the next whole load begins once that one is done, not beside it
    (two at once held a million rows' text twice and shared the GIL)."""
    from truce.store import derived
    from truce.store.deferred import Deferred

    computing, reader, gate = _stored_then_gated(db_url, monkeypatch)
    try:
        reading: list[str] = []
        gated = evaluation_rows.load_incidents

        def counted(conn, agreement_id, violations):  # type: ignore[no-untyped-def]
            reading.append(threading.current_thread().name)
            return gated(conn, agreement_id, violations)

        monkeypatch.setattr(evaluation_rows, "load_incidents", counted)
        first = derived.load(reader.engine, AGREEMENT)
        assert first is not None and isinstance(first.data["incidents"], Deferred)
        _ingest(computing, many_rows(5, start=900))
        fresh = computing.snapshot(AGREEMENT)  # patched in its own process
        monkeypatch.setattr(derived, "PATCH_MAX_ROWS", 0)  # any change: read whole
        monkeypatch.setattr(derived, "PATCH_MAX_SHARE", 0.0)
        got: list[Any] = []
        second = threading.Thread(
            target=lambda: got.append(derived.load(reader.engine, AGREEMENT, reuse=first))
        )
        second.start()
        time.sleep(0.5)
        assert len(reading) == 1 and second.is_alive()  # waiting, not reading beside it
        gate.set()
        second.join(30)
        assert len(reading) == 2 and got and got[0] is not None
        assert got[0].generation == fresh.generation and got[0].data == fresh.data
    finally:
        gate.set()
        _close(computing, reader)


def test_a_failed_deferred_read_fails_its_readers_clearly():
    from truce.store.deferred import Deferred

    items = Deferred()

    def broken() -> list:
        raise OSError("disk gone")

    with pytest.raises(OSError):
        items.fill(broken)
    with pytest.raises(RuntimeError, match="reading the stored incidents failed"):
        len(items)


def test_an_index_built_on_the_previous_one_equals_one_built_afresh(db_url):
    """The OGC index of a patched evaluation reuses the previous index for the incidents
    that are the same objects; it is the index a build from scratch gives."""
    from truce.api.ogc.agreement_index import AgreementIndex
    from truce.store.deferred import resolved
    from truce.store.packed import PackedIncidents

    computing, reader = _service(db_url), _service(db_url)
    try:
        _ingest(computing, many_rows(200))
        computing.snapshot(AGREEMENT)
        first = reader.snapshot(AGREEMENT)
        old = AgreementIndex.build(AGREEMENT, 1, None, first.data)
        later = [
            dict(BASE_ROWS[3], report_id=f"late-{i}", observed_at=f"2016-09-2{i}T01:00:00+03:00")
            for i in range(3)
        ]
        _ingest(computing, later + many_rows(5, source="other", start=40))
        computing.snapshot(AGREEMENT)
        second = reader.snapshot(AGREEMENT)  # patched: most incidents the same rows
        before, after = resolved(first.data["incidents"]), resolved(second.data["incidents"])
        assert isinstance(after, PackedIncidents)
        shared = int(after.same_docs(before).sum())
        assert 0 < shared < len(after)
        reused = AgreementIndex.build(AGREEMENT, 2, None, second.data, previous=old)
        fresh = AgreementIndex.build(AGREEMENT, 2, None, second.data)
        for name in ("lon", "lat", "t_ns", "order", "key"):
            assert (getattr(reused.incidents, name) == getattr(fresh.incidents, name)).all()
        assert reused.incident_keys == fresh.incident_keys
    finally:
        _close(computing, reader)


def test_the_worker_that_made_the_evaluation_refreshes_it_for_the_others(db_url):
    """Two server workers: reports ingested through the one that did not make the stored
    evaluation are evaluated by the one that did (it noticed them by itself, and the
    other let it take the lease first), from the evaluation its compute process holds."""

    def worker() -> Service:
        service = Service(
            make_engine(db_url), AgreementRegistry.load(), refresh_wait_s=None, compute_process=True
        )
        upgrade(service.engine)
        return service

    maker, other = worker(), worker()
    try:
        _ingest(maker, many_rows(40))
        made = maker.snapshot(AGREEMENT)
        assert other.snapshot(AGREEMENT).data == made.data  # loaded, not computed
        late = dict(BASE_ROWS[3], report_id="late-1", observed_at="2016-09-21T09:00:00+03:00")
        _ingest(other, [late])
        refreshed = other.snapshot(AGREEMENT)  # waits until it reflects the report
        assert len(refreshed.data["incidents"]) == len(made.data["incidents"]) + 1
        assert (maker.computations, other.computations) == (2, 0)
        last = maker.evaluations.shared.child.last
        assert last["incremental"] and last["kept"] > 0
    finally:
        _close(maker, other)


def test_a_class_is_computed_from_its_last_evaluation_in_the_computing_process(db_url):
    """A server worker's visibility class, after a publication, is computed by its
    computing process from the class's last evaluation (sent as the incidents from
    the first that may differ on), and shows what a computation from scratch shows."""
    from truce.service.scopes import PUBLISHED

    now = datetime.now(UTC).replace(microsecond=0)
    worker = _service(db_url, lambda: now, compute_process=True)
    scratch = _service(db_url, lambda: now)
    try:
        _ingest(worker, many_rows(120))
        admin, _ = worker.add_user("class-admin", "admin")
        observer, _ = worker.add_user("class-observer", "observer")
        keys = [i["key"] for i in worker.evaluation(AGREEMENT, admin)["incidents"]]
        for step, key in enumerate(keys[5:45:8]):
            worker.publish_incident(AGREEMENT, key, admin)
            seen = worker.evaluation(AGREEMENT, observer)
            scratch.evaluations.own._scoped.clear()  # its class made now, from scratch
            assert seen["incidents"] and seen == scratch.evaluation(AGREEMENT, observer), step
        assert worker.evaluations.shared.classes_continued >= 3
        assert worker.evaluations.latest(AGREEMENT, PUBLISHED).serial
    finally:
        _close(worker, scratch)


def test_a_process_holding_packed_incidents_answers_like_the_one_that_computed(db_url):
    """The process that computed holds the incidents as dicts; another loads them packed
    (`truce.store.packed`). Every view answers alike in both: the whole evaluation, one
    incident, one violation, an OGC page, and after a publication and a review."""
    from truce.api.ogc.agreement_index import AgreementIndex
    from truce.store.deferred import resolved
    from truce.store.packed import PackedIncidents

    # One instant for both: a visibility class's evaluation is made at the clock's `now`,
    # and two calls a second apart would differ in `as_of` alone.
    now = datetime.now(UTC).replace(microsecond=0)
    computing, reader = _service(db_url, lambda: now), _service(db_url, lambda: now)
    try:
        _ingest(computing, _rows(random.Random(7)))
        computing.snapshot(AGREEMENT)
        held = resolved(reader.snapshot(AGREEMENT).data["incidents"])
        assert isinstance(held, PackedIncidents)
        admin, _ = computing.add_user("packed-admin", "admin")
        observer, _ = computing.add_user("packed-observer", "observer")
        whole = computing.evaluation(AGREEMENT, admin)
        inc = whole["incidents"][len(whole["incidents"]) // 2]
        vio = whole["violations"][-1]
        computing.publish_incident(AGREEMENT, inc["key"], admin)
        computing.review(vio["key"], "confirm", "seen on imagery", admin)
        for user in (admin, observer):
            assert reader.evaluation(AGREEMENT, user) == computing.evaluation(AGREEMENT, user)
        assert reader.incident(AGREEMENT, inc["key"], admin) == computing.incident(
            AGREEMENT, inc["key"], admin
        )
        assert reader.violation(vio["key"], admin) == computing.violation(vio["key"], admin)
        snaps = [s.snapshot(AGREEMENT) for s in (computing, reader)]
        pages = []
        for service, snap in zip((computing, reader), snaps, strict=True):
            idx = AgreementIndex.build(AGREEMENT, 1, None, snap.data, snapshot=snap)
            view = idx._make_view(service.visibility(AGREEMENT, admin))
            pages.append(idx.incidents_json(view, np.arange(min(40, len(idx.incident_keys)))))
        assert pages[0] == pages[1]
    finally:
        _close(computing, reader)


def test_a_class_evaluation_comes_packed_from_a_child_and_shows_what_dicts_showed(db_url):
    """A visibility class's evaluation (issue #13 item 3) and an `as_of` one are computed
    in the worker's second computing process and held packed, their review keys given on
    decoding. Each viewer sees what the same evaluation, made as dicts in a thread as
    before, showed: after publications and a review, for an observer and for a centre
    one of whose incidents is keyed by another centre's earlier report."""
    from truce.api.ogc.agreement_index import AgreementIndex
    from truce.service import views
    from truce.service.scopes import scope_for
    from truce.store.deferred import resolved
    from truce.store.packed import PackedIncidents

    now = datetime.now(UTC).replace(microsecond=0)
    child = _service(db_url, lambda: now, compute_process=True)
    dicts = _service(db_url, lambda: now)

    def as_dicts(entry, as_of, scope):  # type: ignore[no-untyped-def]
        where = None if scope is None else scope.where()
        return compute(dicts.engine, entry, as_of, lambda: now, where=where)

    dicts.evaluations.own.compute = as_dicts
    dicts.evaluations.own.compute_class = lambda entry, as_of, scope, base: as_dicts(
        entry, as_of, scope
    )
    try:
        _ingest(child, _rows(random.Random(11)))
        admin, _ = child.add_user("class-admin", "admin")
        observer, _ = child.add_user("class-observer", "observer")
        centre, _ = child.add_user("hmeimim", "centre", "gov")
        whole = child.evaluation(AGREEMENT, admin)
        for inc in whole["incidents"][1::3]:
            if "amman:a-1" not in inc["report_ids"]:  # left for hmeimim's own view
                child.publish_incident(AGREEMENT, inc["key"], admin)
        child.review(whole["violations"][-1]["key"], "confirm", "seen on imagery", admin)
        child.review(whole["violations"][0]["key"], "publish", None, admin)
        for user in (observer, centre):
            seen = child.evaluation(AGREEMENT, user)
            assert seen["incidents"] and seen == dicts.evaluation(AGREEMENT, user)
            summaries = [
                views.evaluation(s.evaluations, AGREEMENT, user, incidents=False)
                for s in (child, dicts)
            ]
            assert summaries[0]["violations"] and summaries[0] == summaries[1]
            pages = []
            for service in (child, dicts):  # what OGC shows: masks made without decoding
                snap = service.evaluations.latest(AGREEMENT, scope_for(user))
                idx = AgreementIndex.build(AGREEMENT, 1, None, snap.data, snapshot=snap)
                view = idx._make_view(service.visibility(AGREEMENT, user))
                pages.append(idx.incidents_json(view, np.arange(len(idx.incident_keys))))
            assert pages[0] == pages[1]
            held = resolved(child.evaluations.latest(AGREEMENT, scope_for(user)).data["incidents"])
            assert isinstance(held, PackedIncidents) and held.review_keys is not None
        own = child.evaluations.latest(AGREEMENT, scope_for(centre))
        assert resolved(own.data["incidents"]).review_keys == {"hmeimim:h-7": "amman:a-1"}
        assert any(
            i["key"] == "hmeimim:h-7" for i in child.evaluation(AGREEMENT, centre)["incidents"]
        )
        at = datetime(2016, 9, 14, 12, tzinfo=UTC)
        for user in (admin, observer, centre):
            assert child.evaluation(AGREEMENT, user, as_of=at) == dicts.evaluation(
                AGREEMENT, user, as_of=at
            )
        assert child.evaluations.shared.own_child is not None  # computed there, not here
    finally:
        _close(child, dicts)
