"""The /exchange routes: who may read the status; cosignatures authenticate themselves."""

from __future__ import annotations

from datetime import timedelta

from tests.exchange.conftest import Pair

from truce.exchange.checkpoint import cosign
from truce.exchange.note import generate_signer_key, parse_note


def test_status_is_for_admin_and_secretariat_only(pair: Pair) -> None:
    a = pair.a
    _, admin = a.service.add_user("ops", "admin")
    _, observer = a.service.add_user("eye", "observer")
    assert a.client.get("/exchange/status").status_code == 401
    assert (
        a.client.get(
            "/exchange/status", headers={"Authorization": f"Bearer {observer}"}
        ).status_code
        == 403
    )
    r = a.client.get("/exchange/status", headers={"Authorization": f"Bearer {admin}"})
    assert r.status_code == 200 and r.json()["origin"] == "amman"


def test_a_cosignature_by_an_unknown_key_is_refused_and_alerted(pair: Pair) -> None:
    a = pair.a
    pair.clock.advance(timedelta(hours=2))
    a.issue()
    text = parse_note(a.client.get("/exchange/checkpoint").text).text
    stranger = generate_signer_key("hmeimim")  # the peer's name, not its key
    body = text + "\n" + cosign(text, stranger, 1_500_000_000).line()
    r = a.client.post("/exchange/cosignatures", content=body.encode())
    assert r.status_code == 403
    assert [x["kind"] for x in a.ex.status()["alerts"]] == ["unknown_key"]
    assert "— hmeimim" not in a.client.get("/exchange/checkpoint").text


def test_a_cosignature_over_a_checkpoint_that_is_not_ours_is_refused(pair: Pair) -> None:
    a, b = pair.a, pair.b
    pair.clock.advance(timedelta(hours=2))
    a.issue()
    b.issue()
    other = parse_note(b.client.get("/exchange/checkpoint").text).text
    body = other + "\n" + cosign(other, b.ex.signer, 1_500_000_000).line()  # type: ignore[arg-type]
    assert a.client.post("/exchange/cosignatures", content=body.encode()).status_code == 400
