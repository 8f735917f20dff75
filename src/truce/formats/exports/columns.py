"""The columns of an export and the rows made from a user's view of an evaluation.

Every format writes the same columns in the same order (docs/exports.md): the
view's incidents or violations flattened to one row each; lists stay lists
(each writer encodes them its way). Rows come in blocks so a writer holds one
block at a time, never the whole table. Made from dicts, a block is column-major
Python values (one list per column, in column order), each field taken from the
view's dicts for a whole block in one pass; `truce.formats.exports.arrow` makes it
the record batch the writers take (times to UTC there).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import pyarrow as pa

Kind = Literal["str", "int", "number", "bool", "time", "list"]
Block = list[list[Any]]  # Python values: one list per column, all of one length

BLOCK_ROWS = 10_000


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    hxl: str  # the HXL hashtag and attributes of the column (HXL 1.1 vocabulary)
    doc: str


def _c(name: str, kind: Kind, hxl: str, doc: str) -> Column:
    return Column(name, kind, hxl, doc)


_PLACE = (
    _c("lon", "number", "#geo+lon", "longitude, WGS84 (EPSG:4326)"),
    _c("lat", "number", "#geo+lat", "latitude, WGS84 (EPSG:4326)"),
    _c("location_precision_m", "number", "#geo+precision", "location uncertainty radius, metres"),
)

INCIDENT_COLUMNS: tuple[Column, ...] = (
    _c("key", "str", "#event+id", "stable key: SOURCE:REPORT_ID of the earliest report"),
    _c("observed_at", "time", "#date+start", "when it happened (start), UTC"),
    _c("observed_to", "time", "#date+end", "end of the time window, UTC; empty when exact"),
    *_PLACE,
    _c("event_type", "str", "#event+type", "shelling, airstrike, armed_clash, ..."),
    _c("weapon", "str", "#event+weapon", "weapon class, when reported"),
    _c("direction", "str", "#event+direction", "attack or mutual"),
    _c("party", "str", "#group+code+party", "the party charged (unattributed when unknown)"),
    _c("target", "str", "#group+code+target", "who or what was hit, when known"),
    _c("involved", "list", "#group+code+involved+list", "parties and groups involved"),
    _c("fatalities", "number", "#affected+killed", "best estimate of people killed"),
    _c("fatalities_low", "number", "#affected+killed+min", "lowest reported figure"),
    _c("fatalities_high", "number", "#affected+killed+max", "highest reported figure"),
    _c("count", "number", "#indicator+num+seen", "weapons or armed personnel seen"),
    _c("corroboration", "int", "#indicator+num+sources", "independent sources"),
    _c("grade", "str", "#meta+grade", "Admiralty grade, e.g. B2"),
    _c("sources", "list", "#meta+source+list", "the sources you may see"),
    _c("report_ids", "list", "#meta+report+list", "SOURCE:REPORT_ID of the reports you may see"),
    _c("datasets", "list", "#meta+dataset+list", "datasets the reports came from"),
    _c("violations", "int", "#indicator+num+violations", "violations you may see"),
    _c("published", "bool", "#status+published", "published by the secretariat"),
)

VIOLATION_COLUMNS: tuple[Column, ...] = (
    _c("key", "str", "#event+id", "stable key: AGREEMENT:RULE:INCIDENT_KEY"),
    _c("incident_key", "str", "#event+id+incident", "the incident's key"),
    _c("rule", "str", "#meta+rule", "the rule's id in the agreement"),
    _c("kind", "str", "#meta+rule+type", "the rule's kind (cease_attacks, no_fly, ...)"),
    _c("observed_at", "time", "#date+start", "the incident's time, UTC"),
    *_PLACE,
    _c("event_type", "str", "#event+type", "the incident's event type"),
    _c("party", "str", "#group+code+party", "the party charged"),
    _c("involved", "list", "#group+code+involved+list", "parties and groups involved"),
    _c("zone", "str", "#loc+code+zone", "the zone the rule concerns, if any"),
    _c("status", "str", "#status+corroboration", "alleged (one source) or corroborated"),
    _c("certainty", "str", "#status+certainty", "certain or possible"),
    _c("measured_m", "number", "#indicator+num+distance", "distance measured, metres"),
    _c("fatalities", "number", "#affected+killed", "the incident's best estimate"),
    _c("evidence", "str", "#description", "why, in words"),
    _c("review", "str", "#status+review", "alleged, disputed, confirmed or dismissed"),
    _c("published", "bool", "#status+published", "published by the secretariat"),
)

COLUMNS = {"incidents": INCIDENT_COLUMNS, "violations": VIOLATION_COLUMNS}


@dataclass(frozen=True)
class ExportTable:
    """What a writer writes: a layer name, its columns and the rows, block by block as
    Arrow record batches (`truce.formats.exports.arrow`; a one-shot iterator); `rows`,
    how many there are, when known beforehand."""

    layer: str
    columns: tuple[Column, ...]
    blocks: Iterable[pa.RecordBatch]
    rows: int | None = None

    def index(self, name: str) -> int:
        return [c.name for c in self.columns].index(name)


# Shared empty values: a block holds no new container per row, so building one
# does not wake the cyclic garbage collector (which would scan the whole view).
_NO_LIST: tuple[str, ...] = ()
_NO_RANGE: dict[str, Any] = {}


# The incident fields a row is made of, in the order `incident_columns` takes them.
INCIDENT_FIELDS_READ = (
    "key",
    "observed_at",
    "observed_to",
    "lon",
    "lat",
    "location_precision_m",
    "event_type",
    "weapon",
    "direction",
    "party",
    "target",
    "involved",
    "fatalities",
    "fatalities_range",
    "count",
    "corroboration",
    "grade",
    "sources",
    "report_ids",
    "datasets",
)


def incident_columns(
    fields: Sequence[Sequence[Any]], published: Sequence[bool | None], violations: Sequence[int]
) -> Block:
    """A block from its incidents' `INCIDENT_FIELDS_READ` (one sequence per field), whether
    each is published and how many violations of it the reader may see."""
    (
        key,
        observed_at,
        observed_to,
        lon,
        lat,
        precision,
        event_type,
        weapon,
        direction,
        party,
        target,
        involved,
        fatalities,
        fatalities_range,
        count,
        corroboration,
        grade,
        sources,
        report_ids,
        datasets,
    ) = fields
    ranges = [r or _NO_RANGE for r in fatalities_range]
    return [
        list(key),
        list(observed_at),
        list(observed_to),
        list(lon),
        list(lat),
        list(precision),
        list(event_type),
        list(weapon),
        list(direction),
        list(party),
        list(target),
        [v or _NO_LIST for v in involved],
        list(fatalities),
        [r.get("low") for r in ranges],
        [r.get("high") for r in ranges],
        list(count),
        list(corroboration),
        list(grade),
        [v or _NO_LIST for v in sources],
        [v or _NO_LIST for v in report_ids],
        [v or _NO_LIST for v in datasets],
        list(violations),
        list(published),
    ]


def incident_block(incs: Sequence[dict[str, Any]]) -> Block:
    """The SPEC §3 fields every evaluation holds are read by subscript (faster than
    `.get`, and a missing one is a loud error); the server's `published` may be absent."""
    return incident_columns(
        [[i[name] for i in incs] for name in INCIDENT_FIELDS_READ],
        [i.get("published") for i in incs],
        [len(i["violations"] or _NO_LIST) for i in incs],
    )


def violation_block(
    violations: Sequence[dict[str, Any]], by_key: dict[str, dict[str, Any]]
) -> Block:
    """Each violation with its incident's place (none when the incident is not in
    `by_key`: then the row has no geometry rather than a made-up one)."""
    incs = [by_key.get(v["incident_key"], _NO_RANGE) for v in violations]
    return [
        [v["key"] for v in violations],
        [v["incident_key"] for v in violations],
        [v["rule"] for v in violations],
        [v["kind"] for v in violations],
        [v["at"] for v in violations],
        [i.get("lon") for i in incs],
        [i.get("lat") for i in incs],
        [i["location_precision_m"] for i in incs],
        [i.get("event_type") for i in incs],
        [v["party"] for v in violations],
        [v["involved"] or _NO_LIST for v in violations],
        [v["zone"] for v in violations],
        [v["status"] for v in violations],
        [v["certainty"] for v in violations],
        [v["measured_m"] for v in violations],
        [i["fatalities"] for i in incs],
        [v["evidence"] for v in violations],
        [v.get("review") for v in violations],
        [v.get("published") for v in violations],
    ]
