"""Exports (docs/exports.md): every format read back with the tool its users would
use gives the rows of the evaluation, and each user's export holds only what the
evaluation shows them."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import hxl
import pyarrow.parquet as pq
import pyogrio
import pytest
import shapely
from tests.server.data import AGREEMENT, AS_OF, BASE_ROWS, many_rows, to_csv
from typer.testing import CliRunner

from truce.cli import app
from truce.cli.export import ExportFormatName
from truce.errors import BadInput, NotFound
from truce.formats.exports import FORMATS, export_format
from truce.formats.exports.geoparquet import geo_metadata
from truce.service import Service, views
from truce.service.exports import export_table, save, source_table
from truce.store.key_column import KeySet
from truce.store.migrate import upgrade
from truce.store.packed import INCIDENT_FIELDS, PackedIncidents, incident_doc
from truce.store.users import SYSTEM_USER, User

AS_OF_T = datetime.fromisoformat(AS_OF)
OBSERVER = User(id=0, name="obs", role="observer", party=None, created_at=AS_OF_T)


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('exports') / 'truce.sqlite'}"


@pytest.fixture(scope="module")
def service(db_url: str) -> Iterator[Service]:
    svc = Service.from_url(db_url)
    upgrade(svc.engine)
    svc.ingest_reports(to_csv(BASE_ROWS + many_rows(60)).encode(), format="csv", user=SYSTEM_USER)
    # One published violation (which publishes its incident): all an observer may see.
    svc.review(f"{AGREEMENT}:r-cease:amman:a-2", "publish", None, SYSTEM_USER)
    yield svc
    svc.engine.dispose()


def _export(service: Service, what: str, fmt: str, user: User = SYSTEM_USER) -> bytes:
    return b"".join(service.export(AGREEMENT, what, fmt, user, as_of=AS_OF_T).chunks)


def _utc(local: str | None) -> str | None:
    if local is None:
        return None
    return datetime.fromisoformat(local).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def expected(service: Service, what: str, user: User = SYSTEM_USER) -> list[dict[str, Any]]:
    """The columns every format must carry, taken from the user's evaluation."""
    view = service.evaluation(AGREEMENT, user, as_of=AS_OF_T)
    if what == "incidents":
        return [
            {
                "key": i["key"],
                "observed_at": _utc(i["observed_at"]),
                "lon": i["lon"],
                "lat": i["lat"],
                "party": i["party"],
                "event_type": i["event_type"],
                "corroboration": i["corroboration"],
                "grade": i["grade"],
                "report_ids": i["report_ids"],
                "published": i["published"],
            }
            for i in view["incidents"]
        ]
    place = {i["key"]: i for i in view["incidents"]}
    return [
        {
            "key": v["key"],
            "incident_key": v["incident_key"],
            "observed_at": _utc(v["at"]),
            "lon": place[v["incident_key"]]["lon"],
            "lat": place[v["incident_key"]]["lat"],
            "rule": v["rule"],
            "party": v["party"],
            "certainty": v["certainty"],
            "review": v["review"],
            "published": v["published"],
        }
        for v in view["violations"]
    ]


# --- readers: each format as its users would read it, back to plain values --------------


def _from_features(features: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for f in features:
        assert f["type"] == "Feature"
        assert f["id"] == f["properties"]["key"]
        assert f["geometry"] == {
            "type": "Point",
            "coordinates": [f["properties"]["lon"], f["properties"]["lat"]],
        }
        rows.append(f["properties"])
    return rows


def read_geojson(data: bytes, tmp: Path) -> list[dict[str, Any]]:
    doc = json.loads(data)
    assert doc["type"] == "FeatureCollection"
    assert "crs" not in doc  # RFC 7946: WGS84, said by nothing
    return _from_features(doc["features"])


def read_ndjson(data: bytes, tmp: Path) -> list[dict[str, Any]]:
    lines = data.decode().splitlines()
    return _from_features([json.loads(line) for line in lines])


def _typed_csv(rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        out.append(
            {
                **r,
                "lon": float(r["lon"]),
                "lat": float(r["lat"]),
                "published": {"true": True, "false": False}[r["published"]],
                **({"corroboration": int(r["corroboration"])} if "corroboration" in r else {}),
                **({"report_ids": r["report_ids"].split(";")} if "report_ids" in r else {}),
            }
        )
    return out


def read_csv(data: bytes, tmp: Path) -> list[dict[str, Any]]:
    return _typed_csv(list(csv.DictReader(io.StringIO(data.decode()))))


def read_hxl(data: bytes, tmp: Path) -> list[dict[str, Any]]:
    dataset = hxl.data(io.BytesIO(data))
    names = next(csv.reader(io.StringIO(data.decode())))
    tags = [c.display_tag for c in dataset.columns]
    assert len(tags) == len(names) and all(t.startswith("#") for t in tags)
    return _typed_csv([dict(zip(names, row.values, strict=True)) for row in dataset])


def read_gpkg(data: bytes, tmp: Path) -> list[dict[str, Any]]:
    path = tmp / "export.gpkg"
    path.write_bytes(data)
    info = pyogrio.read_info(path)
    assert info["crs"] == "EPSG:4326" and info["geometry_type"] == "Point"
    df = pyogrio.read_dataframe(path)
    rows = []
    for rec, geom in zip(df.drop(columns="geometry").to_dict("records"), df.geometry, strict=True):
        assert (geom.x, geom.y) == (rec["lon"], rec["lat"])
        rec["observed_at"] = rec["observed_at"].strftime("%Y-%m-%dT%H:%M:%SZ")
        if "report_ids" in rec:
            rec["report_ids"] = rec["report_ids"].split(";")
        rows.append(rec)
    return rows


def read_parquet(data: bytes, tmp: Path) -> list[dict[str, Any]]:
    # The GDAL in pyogrio's wheels has no Parquet driver: pyarrow reads the file and
    # shapely decodes the WKB; where GDAL has the driver, it must agree.
    path = tmp / "export.parquet"
    path.write_bytes(data)
    table = pq.read_table(path)
    assert json.loads(table.schema.metadata[b"geo"]) == geo_metadata()
    if "Parquet" in pyogrio.list_drivers():
        meta, gdal = pyogrio.read_arrow(path)
        assert meta["crs"] == "EPSG:4326" and gdal["key"].to_pylist() == table["key"].to_pylist()
    rows = []
    for rec in table.to_pylist():
        point = shapely.from_wkb(rec.pop("geometry"))
        assert (point.x, point.y) == (rec["lon"], rec["lat"])
        rec["observed_at"] = rec["observed_at"].strftime("%Y-%m-%dT%H:%M:%SZ")
        rows.append(rec)
    return rows


READERS = {
    "geojson": read_geojson,
    "ndjson": read_ndjson,
    "csv": read_csv,
    "hxl": read_hxl,
    "gpkg": read_gpkg,
    "parquet": read_parquet,
}


def test_every_format_has_a_reader_and_a_cli_choice() -> None:
    assert set(READERS) == set(FORMATS) == {f.value for f in ExportFormatName}


@pytest.mark.parametrize("what", ["incidents", "violations"])
@pytest.mark.parametrize("fmt", sorted(READERS))
def test_export_read_back_gives_the_rows_of_the_evaluation(
    service: Service, tmp_path: Path, fmt: str, what: str
) -> None:
    want = expected(service, what)
    assert len(want) >= (20 if what == "incidents" else 3)
    got = READERS[fmt](_export(service, what, fmt), tmp_path)
    assert [{k: row[k] for k in want[0]} for row in got] == want


@pytest.mark.parametrize("fmt", sorted(READERS))
def test_an_observers_export_holds_only_published_items(
    service: Service, tmp_path: Path, fmt: str
) -> None:
    incidents = READERS[fmt](_export(service, "incidents", fmt, OBSERVER), tmp_path)
    assert [r["key"] for r in incidents] == ["amman:a-2"]
    want = expected(service, "incidents", OBSERVER)
    assert [{k: r[k] for k in want[0]} for r in incidents] == want
    violations = READERS[fmt](_export(service, "violations", fmt, OBSERVER), tmp_path)
    assert [(v["incident_key"], v["published"]) for v in violations] == [("amman:a-2", True)]
    # ... while the secretariat's holds unpublished ones too.
    assert len(READERS[fmt](_export(service, "violations", fmt), tmp_path)) > 1


AMMAN = User(id=0, name="amman", role="centre", party=None, created_at=AS_OF_T)


@pytest.mark.parametrize("user", [SYSTEM_USER, OBSERVER, AMMAN], ids=lambda u: u.role)
def test_each_row_is_the_incident_as_the_users_view_shows_it(service: Service, user: User) -> None:
    """What the view filters per row (the reports a submitter may name, how many
    violations the reader may see, publication) the export gives, though it makes its
    rows without making the view."""
    view = service.evaluation(AGREEMENT, user, as_of=AS_OF_T)
    want = [
        (i["key"], i["report_ids"], i["sources"], len(i["violations"]), i["published"])
        for i in view["incidents"]
    ]
    lines = _export(service, "incidents", "ndjson", user).splitlines()
    props = [json.loads(line)["properties"] for line in lines]
    got = [
        (p["key"], p["report_ids"], p["sources"], p["violations"], p["published"]) for p in props
    ]
    assert got == want
    if user is AMMAN:  # its own unpublished incidents name only its own reports
        assert any(not p["published"] for p in props)
        assert all(s == "amman" for p in props if not p["published"] for s in p["sources"])
        assert any(n > 0 for *_, n, published in got if not published)


@pytest.mark.parametrize("role", ["observer", "centre"])
def test_a_published_incident_counts_only_its_published_violations(
    service: Service, role: str
) -> None:
    src = views.source(service.evaluations, AGREEMENT, SYSTEM_USER, as_of=AS_OF_T)
    first = src.data["violations"][0]
    key = first["incident_key"]
    # A second violation of the same incident, under another rule.
    second = {**first, "id": "v-other", "rule": "r-other", "key": f"{first['key']}-other"}
    incidents = [
        {**inc, "violations": [*inc["violations"], "v-other"]} if inc["key"] == key else inc
        for inc in src.data["incidents"]
    ]
    data = {**src.data, "incidents": incidents, "violations": [first, second]}
    reader = User(id=0, name="nobody", role=role, party=None, created_at=AS_OF_T)
    # The incident published, one of its violations published, the other not.
    vis = views.Visibility(reader, {first["key"]: ("confirmed", True)}, KeySet.of([key]), set())
    view = vis.filter(data)
    assert [len(i["violations"]) for i in view["incidents"]] == [1]
    table = source_table(replace(src, data=data, visibility=vis), "incidents")
    rows = [row for batch in table.blocks for row in batch.to_pylist()]
    assert [(r["key"], r["violations"], r["published"]) for r in rows] == [(key, 1, True)]


@pytest.mark.parametrize("fmt", sorted(READERS))
def test_an_empty_export_is_a_valid_empty_document(
    service: Service, tmp_path: Path, fmt: str
) -> None:
    before = datetime(2016, 9, 1, tzinfo=UTC)  # no report yet
    data = b"".join(service.export(AGREEMENT, "violations", fmt, OBSERVER, as_of=before).chunks)
    assert READERS[fmt](data, tmp_path) == []


@pytest.mark.parametrize(("max_rows", "indexed"), [(10_000, True), (5, False)])
def test_a_geopackage_has_a_spatial_index_unless_it_is_large(
    service: Service, tmp_path: Path, max_rows: int, indexed: bool
) -> None:
    import sqlite3

    from truce.formats.exports.gpkg import write_gpkg

    table = export_table(service.evaluations, AGREEMENT, "incidents", SYSTEM_USER, as_of=AS_OF_T)
    assert table.rows is not None and 5 < table.rows <= 10_000
    path = tmp_path / "incidents.gpkg"
    write_gpkg(table, path, spatial_index_max_rows=max_rows)
    with sqlite3.connect(path) as db:
        names = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    assert ("rtree_incidents_geom" in names) is indexed
    assert len(pyogrio.read_dataframe(path)) == table.rows


def test_text_formats_are_written_one_block_at_a_time(service: Service) -> None:
    n = len(expected(service, "incidents"))
    for fmt in ("geojson", "ndjson", "csv", "hxl"):
        table = export_table(
            service.evaluations, AGREEMENT, "incidents", SYSTEM_USER, as_of=AS_OF_T, block_rows=7
        )
        chunks = list(export_format(fmt).chunks(table))  # type: ignore[misc]
        assert len(chunks) >= n // 7
        assert b"".join(chunks) == _export(service, "incidents", fmt)


def test_hxl_export_passes_libhxl_validation_and_times_are_utc(service: Service) -> None:
    data = _export(service, "incidents", "hxl")
    report = hxl.validate(hxl.data(io.BytesIO(data)))
    # "info" issues (a numeric outlier) are hints; errors would be a wrong datatype.
    errors = [i for i in report["issues"] if i["severity"] != "info"]
    assert errors == []
    dataset = hxl.data(io.BytesIO(data))
    first = next(iter(dataset))
    assert first.get("#event+id") == expected(service, "incidents")[0]["key"]
    assert first.get("#date+start").endswith("Z")
    assert {"#geo+lat", "#geo+lon", "#affected+killed", "#group+code+party"} <= {
        c.display_tag for c in dataset.columns
    }


def test_an_unknown_format_or_table_is_refused_before_any_work(service: Service) -> None:
    with pytest.raises(BadInput, match="unknown export format 'xml'; use one of geojson"):
        service.export(AGREEMENT, "incidents", "xml", SYSTEM_USER)
    with pytest.raises(NotFound, match="use one of incidents, violations"):
        service.export(AGREEMENT, "reports", "csv", SYSTEM_USER)


def test_an_hxl_incidents_export_reads_back_as_reports(service: Service) -> None:
    from truce.formats.reports import read_reports

    read = read_reports(_export(service, "incidents", "hxl").decode(), format="hxl")
    assert read.rejected == []
    want = expected(service, "incidents")
    assert read.reports.report_id.tolist() == [i["key"] for i in want]
    assert read.reports.lat.tolist() == [i["lat"] for i in want]


def test_the_guide_documents_every_column_and_hxl_tag() -> None:
    from truce.formats.exports import COLUMNS

    guide = (Path(__file__).resolve().parents[1] / "docs" / "exports.md").read_text()
    for columns in COLUMNS.values():
        for c in columns:
            assert f"| `{c.name}` |" in guide and f"`{c.hxl}`" in guide, c.name
    for f in FORMATS.values():
        assert f"`{f.media_type}`" in guide and f".{f.extension}`" in guide, f.name


# --- truce export -----------------------------------------------------------------------


def _cli(db_url: str, *args: str) -> Any:
    return CliRunner().invoke(
        app, ["export", "--agreement", AGREEMENT, "--as-of", AS_OF, "--db", db_url, *args]
    )


def test_cli_writes_text_to_stdout_with_everything(service: Service, db_url: str) -> None:
    result = _cli(db_url, "--what", "violations", "--format", "csv")
    assert result.exit_code == 0, result.output
    got = [r["key"] for r in csv.DictReader(io.StringIO(result.stdout))]
    assert got == [v["key"] for v in expected(service, "violations")]
    assert not all(v["published"] for v in expected(service, "violations"))  # all, not a view


@pytest.mark.parametrize("fmt", ["gpkg", "parquet", "hxl"])
def test_cli_writes_a_file_with_output(
    service: Service, db_url: str, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / f"incidents.{fmt}"
    result = _cli(db_url, "--format", fmt, "--output", str(out))
    assert result.exit_code == 0, result.output
    rows = READERS[fmt](out.read_bytes(), tmp_path)
    assert [r["key"] for r in rows] == [i["key"] for i in expected(service, "incidents")]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".truce")] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "gpkg"], "binary format: give a file with --output"),
        (["--format", "xml"], "Invalid value for '--format'"),
        (["--what", "reports"], "Invalid value for '--what'"),
        (["--as-of", "yesterday"], "error:"),
        (["--output", "/no/such/dir/x.csv"], "no directory"),
    ],
)
def test_cli_bad_input_is_exit_2_with_a_message(db_url: str, args: list[str], message: str) -> None:
    result = _cli(db_url, *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_cli_unknown_agreement_is_exit_2(db_url: str) -> None:
    result = CliRunner().invoke(app, ["export", "--agreement", "nowhere", "--db", db_url])
    assert result.exit_code == 2
    assert "unknown agreement 'nowhere'" in result.output


@pytest.mark.parametrize("fmt", sorted(READERS))
def test_incidents_held_packed_export_as_the_same_file(
    service: Service, tmp_path: Path, fmt: str
) -> None:
    """A server holds its full evaluation packed (`truce.store.packed`): its export is
    made from the rows' values without a dict per incident, and must be the export of
    the same incidents as dicts, byte for byte (read back, for the binary formats)."""
    src = views.source(service.evaluations, AGREEMENT, SYSTEM_USER, as_of=AS_OF_T)
    incidents = src.data["incidents"]
    assert all(tuple(inc) == INCIDENT_FIELDS for inc in incidents)  # stored as arrays
    packed = PackedIncidents.pack(
        ((inc["key"], incident_doc(inc, None).decode()) for inc in incidents),
        {k: inc["violations"] for k, inc in enumerate(incidents) if inc["violations"]},
    )
    assert any(packed.violations_at.values())
    held = replace(src, data={**src.data, "incidents": packed})
    fmt_ = export_format(fmt)
    files = []
    for source in (src, held):
        table = source_table(source, "incidents", block_rows=7)
        path = tmp_path / f"{len(files)}.{fmt_.extension}"
        save(fmt_, table, path)
        files.append(path.read_bytes())
    if fmt_.binary:
        # repr: the missing values read back as NaN, which equals nothing
        assert repr(READERS[fmt](files[0], tmp_path)) == repr(READERS[fmt](files[1], tmp_path))
    else:
        assert files[0] == files[1]
