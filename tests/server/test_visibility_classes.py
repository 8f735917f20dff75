"""Each visibility class sees an evaluation made only from the reports it may see
(`truce.service.scopes`): nothing derived from another submitter's unpublished
reports — key, corroboration, grade, position, party, violation — reaches it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.server.conftest import WAIT_MS, TestClient
from tests.server.data import AGREEMENT, BASE_ROWS, to_csv

from truce.api import Settings, create_app
from truce.store.users import SYSTEM_USER

URL = f"/api/agreements/{AGREEMENT}/evaluation"
ITEMS = f"/ogc/collections/{AGREEMENT}-incidents/items"
AIRSTRIKE = BASE_ROWS[3]  # amman:a-2, the Syrian Air Force, a cease_attacks violation
# What the probing agency reports: the same place and time, nothing else.
PROBE = {
    "report_id": "p-1",
    "source": "humanitarian",
    "observed_at": AIRSTRIKE["observed_at"],
    "lat": AIRSTRIKE["lat"],
    "lon": AIRSTRIKE["lon"],
    "event_type": "airstrike",
}


def _post(client: TestClient, headers: dict[str, str], rows: list[dict[str, Any]]) -> None:
    r = client.post(
        "/api/reports", content=to_csv(rows), headers={**headers, "Content-Type": "text/csv"}
    )
    assert r.status_code == 200 and r.json()["accepted"] == len(rows), r.text


def _derived(view: dict[str, Any]) -> dict[str, Any]:
    """What an evaluation derives from reports (not when it was computed)."""
    return {k: view[k] for k in ("incidents", "violations")}


@pytest.fixture
def lone_probe_view(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The agency's view in a store where nobody else reported anything."""
    app = create_app(
        Settings(database_url=f"sqlite:///{tmp_path / 'lone.sqlite'}", refresh_wait_ms=WAIT_MS)
    )
    service = app.state.service
    _, token = service.add_user("humanitarian", "humanitarian")
    h = {"Authorization": f"Bearer {token}"}
    with TestClient(app) as c:
        _post(c, h, [PROBE])
        yield c.get(URL, headers=h).json()
    service.engine.dispose()


def test_a_probe_report_learns_nothing_about_a_centres_unpublished_airstrike(
    client, tokens, lone_probe_view
):
    _post(client, tokens.headers("amman"), [AIRSTRIKE])
    _post(client, tokens.headers("humanitarian"), [PROBE])
    admin = client.get(URL, headers=tokens.headers("admin")).json()
    merged = [i for i in admin["incidents"] if "humanitarian:p-1" in i["report_ids"]]
    assert merged and "amman:a-2" in merged[0]["report_ids"]  # one incident to the secretariat

    seen = client.get(URL, headers=tokens.headers("humanitarian")).json()
    text = json.dumps(_derived(seen))
    for secret in ("amman", "a-2", "Syrian Air Force"):
        assert secret not in text
    # Exactly what it would see had the centre reported nothing: no key, party,
    # violation or grade comes from the centre's report.
    assert _derived(seen) == _derived(lone_probe_view)
    [probe] = seen["incidents"]
    assert probe["key"] == "humanitarian:p-1" and probe["sources"] == ["humanitarian"]


def test_a_centre_sees_its_own_incident_without_another_centres_unpublished_report(client, tokens):
    _post(client, tokens.headers("amman"), [BASE_ROWS[0]])  # amman:a-1, a shelling at 04:10
    _post(client, tokens.headers("hmeimim"), [BASE_ROWS[1]])  # hmeimim:h-7, the same at 04:30
    admin = client.get(URL, headers=tokens.headers("admin")).json()
    [both] = admin["incidents"]
    assert both["key"] == "amman:a-1" and len(both["report_ids"]) == 2
    seen = client.get(URL, headers=tokens.headers("hmeimim")).json()
    [own] = seen["incidents"]
    # Its key is its own report (not amman's id), its grade and reports only its own.
    assert own["key"] == "hmeimim:h-7" and own["report_ids"] == ["hmeimim:h-7"]
    assert own["grade"] != both["grade"]
    assert "amman" not in json.dumps(_derived(seen))


def test_the_published_view_keeps_the_key_and_everything_of_a_published_incident(
    client, tokens, service
):
    service.ingest_reports(to_csv(BASE_ROWS).encode(), format="csv", user=SYSTEM_USER)
    r = client.post(
        f"{URL.removesuffix('/evaluation')}/incidents/amman:a-1/publish",
        headers=tokens.headers("secretariat"),
    )
    assert r.status_code == 200, r.text
    admin = client.get(URL, headers=tokens.headers("admin")).json()
    observer = client.get(URL, headers=tokens.headers("observer")).json()
    [published] = observer["incidents"]
    full = next(i for i in admin["incidents"] if i["key"] == "amman:a-1")
    # Same key, reports, grade, position, parties; its violation is not published (yet).
    assert {**published, "violations": full["violations"]} == full
    assert published["violations"] == [] and observer["violations"] == []
    text = json.dumps(_derived(observer))
    assert "h-8" not in text and "a-2" not in text  # the unpublished incidents


def test_a_published_violation_is_what_the_observer_sees_under_the_same_key(client, tokens):
    _post(client, tokens.headers("admin"), BASE_ROWS)
    admin = client.get(URL, headers=tokens.headers("admin")).json()
    v = next(v for v in admin["violations"] if v["incident_key"] == "amman:a-2")
    h = tokens.headers("secretariat")
    for action in ("confirm", "publish"):
        r = client.post(f"/api/violations/{v['key']}/review", json={"action": action}, headers=h)
        assert r.status_code == 200, r.text
    observer = client.get(URL, headers=tokens.headers("observer")).json()
    [seen] = observer["violations"]
    assert seen["key"] == v["key"] and seen["review"] == "confirmed" and seen["published"]
    assert [i["key"] for i in observer["incidents"]] == ["amman:a-2"]
    detail = client.get(f"/api/violations/{v['key']}", headers=tokens.headers("observer"))
    assert detail.status_code == 200 and detail.json()["current"] is True


@pytest.mark.parametrize("who", ["admin", "amman", "humanitarian", "observer"])
def test_a_summary_without_incidents_shows_the_rest_of_the_view_unchanged(
    client, tokens, service, who
):
    """The dashboard is made from a view without incidents (copying a million of them
    was most of its cost): every other member equals the full view's."""
    from truce.service import views

    admin = tokens.headers("admin")
    _post(client, tokens.headers("amman"), [r for r in BASE_ROWS if r["source"] == "amman"])
    _post(client, tokens.headers("hmeimim"), [r for r in BASE_ROWS if r["source"] == "hmeimim"])
    _post(client, tokens.headers("humanitarian"), [PROBE])
    publish = f"{URL.removesuffix('/evaluation')}/incidents/amman:a-1/publish"
    assert client.post(publish, headers=admin).status_code == 200
    user = service.authenticate(getattr(tokens, who))
    full = views.evaluation(service.evaluations, AGREEMENT, user)
    summary = views.evaluation(service.evaluations, AGREEMENT, user, incidents=False)
    assert full["incidents"] and "incidents" not in summary
    assert summary == {k: v for k, v in full.items() if k != "incidents"}


# Seen by no observer: Hmeimim's report at amman:a-1's place, an hour before it.
EARLIER = dict(BASE_ROWS[1], report_id="h-0", observed_at="2016-09-13T04:00:00+03:00")


def _published_a1(client: TestClient, tokens: Any) -> None:
    """Amman's report a-1 stored, and its incident published."""
    _post(client, tokens.headers("amman"), [BASE_ROWS[0]])
    r = client.post(
        f"/api/agreements/{AGREEMENT}/incidents/amman:a-1/publish", headers=tokens.headers("admin")
    )
    assert r.status_code == 200, r.text


def _seen(client: TestClient, tokens: Any, who: str) -> dict[str, Any]:
    """What `who` is shown of the evaluation, and at which reports version."""
    view = client.get(URL, headers=tokens.headers(who))
    assert view.status_code == 200
    return {**_derived(view.json()), "version": view.headers["Truce-Reports-Version"]}


def _from_scratch(service: Any, tokens: Any, who: str) -> dict[str, Any]:
    """What `who` is shown by a service that computes its class's evaluation now."""
    from truce.service import Service

    fresh = Service(service.engine, service.agreements)
    try:
        return _derived(fresh.evaluation(AGREEMENT, service.authenticate(getattr(tokens, who))))
    finally:
        fresh.evaluations.close()


def test_a_class_keeps_its_evaluation_while_only_reports_it_does_not_see_arrive(
    app, client, tokens, service
):
    """Reports are stored unpublished: a class that does not see them keeps its
    evaluation (the same computation, found to hold at the new reports version), its
    OGC index too; what it shows is what a computation from scratch shows. Its own
    reports, a publication or a sign-up change make it again."""
    from truce.service.scopes import PUBLISHED, scope_for

    _post(client, tokens.headers("amman"), [BASE_ROWS[0], BASE_ROWS[3]])
    _post(client, tokens.headers("hmeimim"), [BASE_ROWS[1]])
    r = client.post(
        f"/api/agreements/{AGREEMENT}/incidents/amman:a-2/publish", headers=tokens.headers("admin")
    )
    assert r.status_code == 200, r.text
    amman = service.authenticate(tokens.amman)
    evals = service.evaluations

    def seen(who: str) -> dict[str, Any]:
        return _seen(client, tokens, who)

    def from_scratch(who: str) -> dict[str, Any]:
        return _from_scratch(service, tokens, who)

    first = seen("observer")
    published = evals.latest(AGREEMENT, PUBLISHED)
    mine = (seen("amman"), evals.latest(AGREEMENT, scope_for(amman)))
    pages = client.get(ITEMS, headers=tokens.headers("observer")).json()["numberMatched"]
    builds = app.state.ogc.index.builds

    _post(client, tokens.headers("hmeimim"), [dict(BASE_ROWS[2], report_id="h-9")])
    again = seen("observer")
    kept = evals.latest(AGREEMENT, PUBLISHED)
    assert kept is not None and kept.same(published) and kept is not published
    assert kept.reports_version > published.reports_version == kept.computed_version
    assert int(again.pop("version")) == kept.reports_version
    assert again == {k: first[k] for k in again} == from_scratch("observer")
    assert client.get(ITEMS, headers=tokens.headers("observer")).json()["numberMatched"] == pages
    assert app.state.ogc.index.builds == builds  # the class's index carried on too
    assert evals.latest(AGREEMENT, scope_for(amman)) is not None
    seen("amman")
    assert evals.latest(AGREEMENT, scope_for(amman)).same(mine[1])

    _post(client, tokens.headers("amman"), [dict(BASE_ROWS[0], report_id="a-9")])
    theirs = seen("amman")
    assert not evals.latest(AGREEMENT, scope_for(amman)).same(mine[1])  # its own report
    assert "amman:a-9" in json.dumps(theirs) and theirs.pop("version")
    assert theirs == from_scratch("amman")
    seen("observer")
    assert evals.latest(AGREEMENT, PUBLISHED).same(published)

    r = client.post(
        f"/api/agreements/{AGREEMENT}/incidents/amman:a-1/publish", headers=tokens.headers("admin")
    )
    assert r.status_code == 200, r.text
    after = seen("observer")
    assert not evals.latest(AGREEMENT, PUBLISHED).same(published)  # a publication
    assert after.pop("version") and after == from_scratch("observer")
    assert {i["key"] for i in after["incidents"]} == {"amman:a-1", "amman:a-2"}


def test_whether_a_class_s_reports_changed_is_told_from_the_reports_added_since(service, tokens):
    """`unchanged_for`: true only while nothing but reports the class does not see was
    added; a publication, a sign-up change (any other version bump), a report of its
    own or a report that went missing all say "changed"."""
    from sqlalchemy import delete

    from truce.service.scopes import PUBLISHED, scope_for
    from truce.store import reports as report_store
    from truce.store.engine import read_transaction, write_transaction
    from truce.store.schema import reports

    amman, hmeimim = (service.authenticate(getattr(tokens, n)) for n in ("amman", "hmeimim"))

    def basis() -> report_store.Basis:
        with read_transaction(service.engine) as conn:
            return report_store.basis(conn)

    def unchanged(before: report_store.Basis, scope: Any) -> bool:
        with read_transaction(service.engine) as conn:
            return report_store.unchanged_for(conn, before, report_store.basis(conn), scope.where())

    service.ingest_reports(to_csv([BASE_ROWS[0]]).encode(), format="csv", user=amman)
    before = basis()
    service.ingest_reports(to_csv([BASE_ROWS[1]]).encode(), format="csv", user=hmeimim)
    assert unchanged(before, PUBLISHED) and unchanged(before, scope_for(amman))
    assert not unchanged(before, scope_for(hmeimim))  # its own report
    with write_transaction(service.engine) as conn:
        report_store.mark_published(conn, ["amman:a-1"])  # an older report published
        report_store.bump_version(conn)
    assert not unchanged(before, PUBLISHED) and not unchanged(before, scope_for(amman))
    again = basis()
    assert unchanged(again, PUBLISHED)
    with write_transaction(service.engine) as conn:
        conn.execute(delete(reports).where(reports.c.report_id == "a-1"))
    assert not unchanged(again, PUBLISHED)  # fewer reports than before


def test_a_kept_class_evaluation_follows_the_review_key_of_the_full_incident(
    client, tokens, service
):
    """A report the observer does not see, observed earlier at the same place, becomes
    the earliest of the full incident that holds a published report: the observer's
    incident is reviewed under that full incident's key from then on, kept evaluation
    or not (here: no longer published under it)."""
    from truce.service.scopes import PUBLISHED

    _published_a1(client, tokens)
    first = _seen(client, tokens, "observer")
    assert [i["key"] for i in first["incidents"]] == ["amman:a-1"]
    made = service.evaluations.latest(AGREEMENT, PUBLISHED)
    _post(client, tokens.headers("hmeimim"), [EARLIER])
    admin = client.get(URL, headers=tokens.headers("admin")).json()
    [holder] = [i for i in admin["incidents"] if "amman:a-1" in i["report_ids"]]
    assert holder["key"] == "hmeimim:h-0"
    after = _seen(client, tokens, "observer")
    kept = service.evaluations.latest(AGREEMENT, PUBLISHED)
    assert kept is not None and made is not None
    assert kept.computed_at == made.computed_at and not kept.same(made)  # relinked, not made
    assert after.pop("version") and after == _from_scratch(service, tokens, "observer")
    assert after["incidents"] == []


def test_a_relink_after_a_patch_looks_again_only_at_the_incidents_patched(client, tokens, service):
    """The full evaluation is brought up to date by a patch: the incidents before its
    first change are the same, in their places. A class's review keys linked to the
    evaluation patched keep what they were linked to there (here: the observer's
    incident reviewed under another report's key), and only the incidents from the
    patch's first change on are looked at again."""
    from truce.service.scopes import PUBLISHED

    _published_a1(client, tokens)
    _seen(client, tokens, "observer")
    _post(client, tokens.headers("hmeimim"), [EARLIER])  # re-keys a-1's full incident
    assert _seen(client, tokens, "observer")["incidents"] == []
    made = service.evaluations.latest(AGREEMENT, PUBLISHED)
    linked_to = service.evaluations.latest(AGREEMENT)
    assert made is not None and linked_to is not None
    _post(client, tokens.headers("hmeimim"), [BASE_ROWS[2]])  # a later incident, elsewhere
    after = _seen(client, tokens, "observer")
    full = service.evaluations.latest(AGREEMENT)
    assert full is not None and full.same_before(linked_to.computation) == 1  # a patch
    kept = service.evaluations.latest(AGREEMENT, PUBLISHED)
    assert kept is not None and kept.computed_at == made.computed_at  # not made again
    assert after.pop("version") and after == _from_scratch(service, tokens, "observer")
    assert after["incidents"] == []  # still reviewed under hmeimim:h-0


def test_a_class_refreshed_in_the_background_is_linked_to_the_current_full_evaluation(
    client, tokens, service
):
    """A server's refresher brings the full evaluation up to date before a class's:
    a report stored through another process, unseen by the observer, re-keys the full
    incident holding its published report, and the class refreshed on its own (no
    reader asked for the full one) follows it."""
    import time

    from truce.service import Service
    from truce.service.scopes import PUBLISHED

    _published_a1(client, tokens)
    server = Service(service.engine, service.agreements, refresh_wait_s=0)
    try:
        observer = server.authenticate(tokens.observer)
        assert [i["key"] for i in server.evaluation(AGREEMENT, observer)["incidents"]] == [
            "amman:a-1"
        ]
        _post(client, tokens.headers("hmeimim"), [EARLIER])  # through another service
        version = server.evaluations.latest(AGREEMENT, PUBLISHED).reports_version + 1
        server.evaluations.request(AGREEMENT, PUBLISHED)
        deadline = time.monotonic() + 60
        while server.evaluations.latest(AGREEMENT, PUBLISHED).reports_version < version:
            assert time.monotonic() < deadline, "the class was not refreshed"
            time.sleep(0.05)
        assert server.evaluation(AGREEMENT, observer)["incidents"] == []
        assert _derived(server.evaluation(AGREEMENT, observer)) == _from_scratch(
            service, tokens, "observer"
        )
    finally:
        server.evaluations.close()


def test_a_class_linked_to_a_stale_full_evaluation_is_not_counted_current(client, tokens, service):
    """A server computes an observer's class in a reader's thread (its first view) just
    after another process stored a report that re-keys the full incident holding the
    observer's published report, while this server still holds the full evaluation
    from before it. The class's review keys are linked to that: it is served as stale,
    and once both are refreshed it is what a computation from scratch shows."""
    import time

    from truce.service import Service
    from truce.service.scopes import PUBLISHED

    _published_a1(client, tokens)
    server = Service(service.engine, service.agreements, refresh_wait_s=0)
    try:
        admin, observer = (server.authenticate(getattr(tokens, n)) for n in ("admin", "observer"))
        server.evaluation(AGREEMENT, admin)
        before = server.evaluations.latest(AGREEMENT)  # the full evaluation, held
        _post(client, tokens.headers("hmeimim"), [EARLIER])  # through another process
        server.evaluation(AGREEMENT, observer)  # the class's first computation
        reading = server.evaluations.current(AGREEMENT, PUBLISHED)
        assert before is not None and reading.stale
        assert reading.snapshot.reports_version == before.reports_version
        deadline = time.monotonic() + 60
        while server.evaluations.current(AGREEMENT, PUBLISHED).stale:
            assert time.monotonic() < deadline, "the class was not brought up to date"
            time.sleep(0.05)
        seen = server.evaluation(AGREEMENT, observer)
        assert seen["incidents"] == []  # reviewed under hmeimim:h-0 now, not published
        assert _derived(seen) == _from_scratch(service, tokens, "observer")
    finally:
        server.evaluations.close()


def test_a_centre_and_an_agency_of_one_name_are_different_classes():
    """A class's evaluation is kept under its scope's name: a user made again under the
    same name with another role must not be handed the old role's evaluation (a centre
    also sees the reports under its source name)."""
    from datetime import UTC, datetime

    from truce.service.scopes import scope_for
    from truce.store.users import User

    now = datetime.now(UTC)
    centre, agency = (
        scope_for(User(1, "amman", role, None, now)) for role in ("centre", "humanitarian")
    )
    assert centre is not None and agency is not None
    assert centre.or_source and not agency.or_source
    assert centre.name != agency.name


def test_a_class_after_publications_is_computed_from_its_last_evaluation(client, tokens, service):
    """After each publication (earlier reports the class now sees) and each report of its
    own, a class's evaluation is computed from its last one (only what the reports it
    gained can reach is evaluated again, the incidents before that kept as the worker
    holds them), and shows exactly what a computation from scratch shows."""
    import random

    from tests.server.data import many_rows

    from truce.service.scopes import PUBLISHED, scope_for

    rng = random.Random(13)
    amman = service.authenticate(tokens.amman)
    _post(client, tokens.headers("amman"), many_rows(160, source="amman"))
    _post(client, tokens.headers("hmeimim"), many_rows(80, source="hmeimim", start=500))
    admin = tokens.headers("admin")
    published: set[str] = set()
    continued = {"published": 0, "source:amman": 0}
    for step in range(6):
        keys = [i["key"] for i in client.get(URL, headers=admin).json()["incidents"]]
        for key in rng.sample(sorted(set(keys) - published), 4):
            r = client.post(f"/api/agreements/{AGREEMENT}/incidents/{key}/publish", headers=admin)
            assert r.status_code == 200, r.text
            published.add(key)
        if step % 2:  # the centre's own reports, later than everything so far
            _post(
                client, tokens.headers("amman"), many_rows(5, source="amman", start=1000 + step * 5)
            )
        for who, scope in (("observer", PUBLISHED), ("amman", scope_for(amman))):
            seen = _seen(client, tokens, who)
            assert seen.pop("version") and seen == _from_scratch(service, tokens, who), (step, who)
            last = service.evaluations.shared.classes.last[(AGREEMENT, scope.name)]
            if step:
                continued[scope.name] += bool(last["kept"])
                assert last["incremental"], (step, who)
    assert continued["published"] >= 3 and continued["source:amman"] >= 3, continued
