"""`truce keys ...`, `truce peers ...`, `truce bulletin ...`, `truce exchange ...` (SPEC §7).

Thin: parse, call `truce.exchange`, print. The database is `--db` or
TRUCE_DATABASE_URL / TRUCE_DB_PATH; the key is TRUCE_KEY, else the file
TRUCE_KEY_FILE, else `truce.key` beside the SQLite database.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from truce.cli.exits import fail, problems_found

err = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="database URL (default: TRUCE_DATABASE_URL, else sqlite at TRUCE_DB_PATH)"
    ),
]
KeyFileOption = Annotated[
    Path | None,
    typer.Option(
        "--key-file",
        envvar="TRUCE_KEY_FILE",
        help="private key file (default: truce.key beside the SQLite database)",
    ),
]
AgreementFiles = Annotated[
    list[Path] | None,
    typer.Option("--agreement-file", help="an agreement file besides the built-in library"),
]


def _key_path(db: str | None, key_file: Path | None) -> Path:
    from truce.exchange.keys import default_key_path
    from truce.store.engine import database_url_from_env

    return key_file or default_key_path(db or database_url_from_env())


def _exchange(
    db: str | None,
    key_file: Path | None,
    agreement_files: list[Path] | None = None,
    *,
    need_key: bool = False,
):  # type: ignore[no-untyped-def]
    from truce.exchange.issuing import interval_from_env
    from truce.exchange.keys import KeyError_, load_signer
    from truce.exchange.service import Exchange
    from truce.service import AgreementRegistry
    from truce.store.engine import database_url_from_env, make_engine
    from truce.store.migrate import upgrade

    engine = make_engine(db or database_url_from_env())
    upgrade(engine)
    try:
        signer = load_signer(_key_path(db, key_file))
    except KeyError_ as exc:
        if need_key:
            raise fail(str(exc)) from None
        signer = None
    registry = AgreementRegistry.load(tuple(agreement_files or ()))
    return Exchange(
        engine,
        lambda agreement_id: registry.get(agreement_id).agreement,
        signer=signer,
        interval=interval_from_env(),
    )


keys_app = typer.Typer(help="This centre's Ed25519 signing key.", no_args_is_help=True)


@keys_app.command("init")
def keys_init(
    name: Annotated[str, typer.Option(help="the centre's name: the origin of its log")],
    db: DbOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """Write a new private key (mode 0600); print the verifier key as the last line."""
    from truce.exchange.keys import KeyError_, init_key

    path = _key_path(db, key_file)
    try:
        signer = init_key(name, path)
    except KeyError_ as exc:
        raise fail(str(exc)) from None
    err.print(f"private key written to {path} (mode 0600); give peers this verifier key:")
    print(signer.verifier)


@keys_app.command("rotate")
def keys_rotate(db: DbOption = None, key_file: KeyFileOption = None) -> None:
    """Replace the key by a new one of the same name; the old one stays known for verification."""
    from truce.exchange import log
    from truce.exchange.keys import KeyError_, load_signer, rotate_key
    from truce.store.engine import write_transaction

    ex = _exchange(db, key_file, need_key=True)
    path = _key_path(db, key_file)
    try:
        old, new = rotate_key(path)
    except KeyError_ as exc:
        raise fail(str(exc)) from None
    with write_transaction(ex.engine) as conn:
        log.record_key(conn, old, ex.clock())
        log.record_key(conn, new, ex.clock())
    assert load_signer(path) == new
    err.print(f"retired {old.verifier}; peers must add the new key with `truce peers add`:")
    print(new.verifier)


@keys_app.command("show")
def keys_show(db: DbOption = None, key_file: KeyFileOption = None) -> None:
    """Print this centre's verifier key (public)."""
    ex = _exchange(db, key_file, need_key=True)
    print(ex.signer.verifier)


peers_app = typer.Typer(help="The other centres this one exchanges with.", no_args_is_help=True)


@peers_app.command("add")
def peers_add(
    name: str,
    url: str,
    key: Annotated[str, typer.Option("--key", help="the peer's verifier key NAME+hex8+base64")],
    db: DbOption = None,
) -> None:
    """Add a peer, or a new key of a known peer (old keys stay valid for old checkpoints)."""
    from truce.exchange.service import ExchangeError

    ex = _exchange(db, None)
    try:
        verifier = ex.add_peer(name, url, key)
    except ExchangeError as exc:
        raise fail(str(exc)) from None
    print(f"peer {name} at {url} with key {verifier}")


@peers_app.command("list")
def peers_list(db: DbOption = None) -> None:
    for p in _exchange(db, None).peers():
        print(f"{p['name']}\t{p['url']}\t{' '.join(p['keys'])}")


bulletin_app = typer.Typer(help="This centre's bulletins.", no_args_is_help=True)


@bulletin_app.command("issue")
def bulletin_issue(
    agreement: Annotated[str, typer.Option(help="agreement id")],
    to: Annotated[
        str | None, typer.Option(help="close the period at this time (default: now)")
    ] = None,
    db: DbOption = None,
    key_file: KeyFileOption = None,
    agreement_file: AgreementFiles = None,
) -> None:
    """Close the current period: a bulletin of everything accepted since the previous one."""
    from truce.errors import TruceError
    from truce.exchange.service import ExchangeError

    ex = _exchange(db, key_file, agreement_file, need_key=True)
    try:
        period_to = datetime.fromisoformat(to) if to else None
        if period_to is not None and period_to.tzinfo is None:
            raise ExchangeError(f"--to {to!r} needs an offset (e.g. +03:00 or Z)")
        issued = ex.issue(agreement, period_to=period_to)
    except (ExchangeError, TruceError, ValueError) as exc:
        raise fail(str(exc)) from None
    state = "issued" if issued.created else "already issued"
    print(
        f"bulletin {issued.seq} {state}: {issued.period_from.isoformat()} .. "
        f"{issued.period_to.isoformat()}, {issued.reports} reports"
    )


@bulletin_app.command("show")
def bulletin_show(
    seq: int,
    output: Annotated[str, typer.Option("--format", help="json, html or pdf")] = "json",
    peer: Annotated[str | None, typer.Option(help="a peer's bulletin (as held here)")] = None,
    out: Annotated[
        Path | None, typer.Option("--output", "-o", help="write to this file (default: stdout)")
    ] = None,
    db: DbOption = None,
) -> None:
    """Print bulletin SEQ: its canonical bytes (json) or a readable report (html, pdf)."""
    from truce.errors import TruceError
    from truce.exchange.render import to_html, to_pdf

    if output not in ("json", "html", "pdf"):
        raise fail(f"--format {output!r}: json, html or pdf")
    ex = _exchange(db, None)
    try:
        if output == "json":
            data = ex.bulletin(seq) if peer is None else _peer_bytes(ex, peer, seq)
        else:
            bulletin, previous = ex.bulletin_pair(seq, peer=peer)
            html = to_html(bulletin, previous)
            data = html.encode() if output == "html" else to_pdf(html)
    except TruceError as exc:  # the exchange's refusals, and no PDF renderer
        raise fail(str(exc)) from None
    if out is not None:
        out.write_bytes(data)
        err.print(f"bulletin {seq} written to {out}")
    elif output == "pdf" and sys.stdout.isatty():
        raise fail("a PDF is binary: give --output FILE")
    else:
        sys.stdout.buffer.write(data + (b"\n" if output == "json" else b""))


def _peer_bytes(ex, peer: str, seq: int) -> bytes:  # type: ignore[no-untyped-def]
    from truce.exchange.canonical import canonical_json_fast

    bulletin, _ = ex.bulletin_pair(seq, peer=peer)
    return canonical_json_fast(bulletin)  # the same bytes: bulletins are stored canonical


exchange_app = typer.Typer(
    help="Witnessing peers: pull, verify, cosign; alerts.", no_args_is_help=True
)


@exchange_app.command("pull")
def exchange_pull(
    peer: Annotated[str | None, typer.Option(help="only this peer (default: all)")] = None,
    db: DbOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """Fetch and verify new bulletins, import their reports, cosign. Exit 1 on any alert."""
    from truce.exchange.pull import pull

    ex = _exchange(db, key_file, need_key=True)
    names = [peer] if peer else [p["name"] for p in ex.peers()]
    if not names:
        raise fail("no peers: add one with `truce peers add NAME URL --key KEY`")
    alerted = False
    for name in names:
        try:
            r = pull(ex, name)
        except ValueError as exc:
            raise fail(str(exc)) from None
        print(
            f"{name}: size {r.size}, {r.new_bulletins} new bulletins, {r.imported_reports} reports "
            f"imported, {'cosigned' if r.cosigned else 'not cosigned'}"
        )
        for a in r.alerts:
            alerted = True
            err.print(f"[bold red]ALERT[/] {name}: {a}", highlight=False)
    if alerted:
        raise problems_found()


@exchange_app.command("status")
def exchange_status(
    db: DbOption = None,
    key_file: KeyFileOption = None,
    output: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """Per peer: last size seen, last cosigned, gaps; open alerts. Exit 1 on any alert."""
    ex = _exchange(db, key_file)
    status = ex.status()
    if output == "json":
        print(json.dumps(status, indent=2))
    else:
        print(f"this centre: {status['origin'] or '(no key)'}, log size {status['log_size']}")
        for name, size in sorted(status["cosigned_by"].items()):
            print(f"  cosigned by {name} up to {size}")
        for p in status["peers"]:
            gaps = ",".join(map(str, p["gaps"])) or "none"
            print(
                f"peer {p['name']}: size seen {p['size_seen']}, held {p['bulletins_held']}, "
                f"cosigned {p['cosigned_size']}, gaps {gaps}"
            )
        for a in status["alerts"]:
            who = a["peer"] or "this centre"
            print(f"ALERT #{a['id']} [{a['kind']}] {who}: {a['detail']} ({a['at']})")
    if status["alerts"]:
        raise problems_found()


@exchange_app.command("clear")
def exchange_clear(
    ids: Annotated[list[int], typer.Argument(help="alert ids (from `truce exchange status`)")],
    by: Annotated[str, typer.Option("--by", help="who acknowledges them")] = "cli",
    db: DbOption = None,
) -> None:
    """Acknowledge alerts once they are understood (they stay stored, marked cleared)."""
    from truce.exchange import alerts
    from truce.store.engine import write_transaction

    ex = _exchange(db, None)
    with write_transaction(ex.engine) as conn:
        n = alerts.clear(conn, now=ex.clock(), by=by, ids=ids)
    print(f"cleared {n} alert(s)")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
    app.add_typer(peers_app, name="peers")
    app.add_typer(bulletin_app, name="bulletin")
    app.add_typer(exchange_app, name="exchange")
