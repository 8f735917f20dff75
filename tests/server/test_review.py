"""Review workflow: transitions, 409s, history, stable keys, concurrency, publishing."""

from __future__ import annotations

import threading

import pytest
from tests.server.data import AGREEMENT, BASE_ROWS, to_csv

from truce.store.users import SYSTEM_USER

GOV_SHELLING = f"{AGREEMENT}:r-cease:amman:a-1"
# Hmeimim sees the same shelling keyed by its own report (amman's report id is not
# shown to it); its reviews are kept under the full evaluation's key all the same.
SEEN_BY = {"hmeimim": f"{AGREEMENT}:r-cease:hmeimim:h-7"}


@pytest.fixture
def loaded(client, tokens):
    r = client.post(
        "/api/reports",
        content=to_csv(BASE_ROWS),
        headers={**tokens.headers("admin"), "Content-Type": "text/csv"},
    )
    assert r.json()["accepted"] == 4
    return client


def review(client, tokens, who, action, comment=None, key=GOV_SHELLING):
    if key == GOV_SHELLING:
        key = SEEN_BY.get(who, key)
    return client.post(
        f"/api/violations/{key}/review",
        json={"action": action, "comment": comment},
        headers=tokens.headers(who),
    )


def test_alleged_disputed_confirmed_with_full_history(loaded, tokens):
    r = review(loaded, tokens, "hmeimim", "dispute", "our forces did not fire")
    assert r.status_code == 200, r.text
    assert r.json()["review"] == "disputed"
    r = review(loaded, tokens, "secretariat", "confirm", "two independent sources")
    assert r.json()["review"] == "confirmed"
    history = r.json()["history"]
    assert [(h["by"], h["action"], h["from"], h["to"]) for h in history] == [
        ("hmeimim", "dispute", "alleged", "disputed"),
        ("secretariat", "confirm", "disputed", "confirmed"),
    ]
    assert history[0]["comment"] == "our forces did not fire" and history[0]["at"]
    got = loaded.get(f"/api/violations/{GOV_SHELLING}", headers=tokens.headers("admin")).json()
    assert got["review"] == "confirmed" and got["history"] == history


@pytest.mark.parametrize(
    ("steps", "illegal"),
    [
        ([("secretariat", "confirm")], ("secretariat", "dispute")),
        ([("secretariat", "confirm")], ("admin", "dismiss")),
        ([("secretariat", "dismiss")], ("secretariat", "confirm")),
        ([("hmeimim", "dispute")], ("amman", "dispute")),
        ([("secretariat", "publish")], ("admin", "publish")),
    ],
)
def test_illegal_transitions_are_409_and_change_nothing(loaded, tokens, steps, illegal):
    for who, action in steps:
        assert review(loaded, tokens, who, action).status_code == 200
    before = loaded.get(f"/api/violations/{GOV_SHELLING}", headers=tokens.headers("admin")).json()
    r = review(loaded, tokens, *illegal)
    assert r.status_code == 409
    assert "cannot" in r.json()["detail"] or "already" in r.json()["detail"]
    after = loaded.get(f"/api/violations/{GOV_SHELLING}", headers=tokens.headers("admin")).json()
    assert after["history"] == before["history"] and after["review"] == before["review"]


@pytest.mark.parametrize(
    ("who", "action"),
    [
        ("hmeimim", "confirm"),
        ("amman", "dismiss"),
        ("hmeimim", "publish"),
        ("humanitarian", "comment"),
        ("observer", "dispute"),
    ],
)
def test_roles_outside_their_actions_get_403(loaded, tokens, who, action):
    assert review(loaded, tokens, who, action, "x").status_code == 403


def test_bad_review_bodies_are_refused(loaded, tokens):
    assert review(loaded, tokens, "admin", "approve").status_code == 422
    assert review(loaded, tokens, "admin", "comment").status_code == 400  # a comment needs text
    r = loaded.post(
        f"/api/violations/{GOV_SHELLING}/review",
        content="{oops",
        headers={**tokens.headers("admin"), "Content-Type": "application/json"},
    )
    assert r.status_code == 400 and isinstance(r.json()["detail"], str)
    assert (
        review(
            loaded, tokens, "admin", "confirm", key=f"{AGREEMENT}:r-cease:amman:none"
        ).status_code
        == 404
    )
    assert review(loaded, tokens, "admin", "confirm", key="garbage").status_code == 404


def test_review_state_survives_re_evaluation_when_new_reports_arrive(loaded, tokens, service):
    review(loaded, tokens, "secretariat", "confirm", "seen")
    # A third source on the same shelling joins the incident; its earliest report stays a-1.
    later = {
        **BASE_ROWS[0],
        "report_id": "s-1",
        "source": "sarc",
        "observed_at": "2016-09-13T05:00:00+03:00",
    }
    loaded.post(
        "/api/reports",
        content=to_csv([later]),
        headers={**tokens.headers("admin"), "Content-Type": "text/csv"},
    )
    ev = loaded.get(
        f"/api/agreements/{AGREEMENT}/evaluation", headers=tokens.headers("admin")
    ).json()
    v = next(v for v in ev["violations"] if v["key"] == GOV_SHELLING)
    assert v["review"] == "confirmed"
    inc = next(i for i in ev["incidents"] if i["key"] == "amman:a-1")
    assert "sarc:s-1" in inc["report_ids"]


def test_a_violation_that_no_longer_appears_keeps_its_history(loaded, tokens, service):
    review(loaded, tokens, "secretariat", "comment", "looking into it")
    # An earlier report of the same shelling becomes the incident's anchor: the old key vanishes.
    earlier = {
        **BASE_ROWS[0],
        "report_id": "e-0",
        "source": "sarc",
        "observed_at": "2016-09-13T04:00:00+03:00",
    }
    loaded.post(
        "/api/reports",
        content=to_csv([earlier]),
        headers={**tokens.headers("admin"), "Content-Type": "text/csv"},
    )
    ev = loaded.get(
        f"/api/agreements/{AGREEMENT}/evaluation", headers=tokens.headers("admin")
    ).json()
    assert GOV_SHELLING not in {v["key"] for v in ev["violations"]}
    old = loaded.get(f"/api/violations/{GOV_SHELLING}", headers=tokens.headers("admin"))
    assert old.status_code == 200
    assert old.json()["current"] is False
    assert [h["comment"] for h in old.json()["history"]] == ["looking into it"]


def test_concurrent_reviews_of_one_violation_lose_no_event(loaded, tokens, service):
    n = 8
    barrier = threading.Barrier(n)
    statuses: list[int] = []

    def comment(i: int) -> None:
        barrier.wait()
        statuses.append(
            review(
                loaded, tokens, "secretariat" if i % 2 else "hmeimim", "comment", f"c{i}"
            ).status_code
        )

    threads = [threading.Thread(target=comment, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * n
    history = loaded.get(f"/api/violations/{GOV_SHELLING}", headers=tokens.headers("admin")).json()[
        "history"
    ]
    assert sorted(h["comment"] for h in history) == sorted(f"c{i}" for i in range(n))


def test_concurrent_confirm_and_dismiss_one_wins_the_other_gets_409(loaded, tokens):
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def act(action: str) -> None:
        barrier.wait()
        statuses.append(review(loaded, tokens, "secretariat", action).status_code)

    threads = [threading.Thread(target=act, args=(a,)) for a in ("confirm", "dismiss")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 409]
    history = loaded.get(f"/api/violations/{GOV_SHELLING}", headers=tokens.headers("admin")).json()[
        "history"
    ]
    assert len(history) == 1


def test_reviews_through_two_service_objects_both_land(db_url, service, tokens):
    from truce.service import AgreementRegistry, Service
    from truce.store.engine import make_engine

    service.ingest_reports(to_csv(BASE_ROWS).encode(), format="csv", user=SYSTEM_USER)
    other = Service(make_engine(db_url), AgreementRegistry.load())
    barrier = threading.Barrier(2)

    def act(svc: Service, text: str) -> None:
        barrier.wait()
        svc.review(GOV_SHELLING, "comment", text, SYSTEM_USER)

    threads = [
        threading.Thread(target=act, args=(s, t)) for s, t in ((service, "one"), (other, "two"))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.engine.dispose()
    assert sorted(
        h["comment"] for h in service.violation(GOV_SHELLING, SYSTEM_USER)["history"]
    ) == ["one", "two"]
