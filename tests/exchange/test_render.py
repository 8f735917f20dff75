"""The readable bulletin: HTML in the daily-report order, and a real PDF checked page by page."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from tests.exchange.conftest import Pair, rows_of

from truce.exchange.render import to_html, to_pdf


def _bulletins(pair: Pair) -> tuple[dict, dict]:  # type: ignore[type-arg]
    a = pair.a
    pair.clock.advance(timedelta(hours=36))
    a.issue()
    a.ingest(rows_of("amman"))
    a.ingest(
        [{**r, "source": "ngo", "report_id": f"n-{i}"} for i, r in enumerate(rows_of("hmeimim"))]
    )
    pair.clock.advance(timedelta(hours=2))
    a.issue()
    return a.ex.bulletin_pair(2)  # type: ignore[return-value]


def test_html_has_the_header_summary_against_the_previous_period_and_details(pair: Pair) -> None:
    bulletin, previous = _bulletins(pair)
    assert previous is not None and previous["seq"] == 1
    html = to_html(bulletin, previous)
    assert "Bulletin No. 2 — amman" in html
    assert "cut-off 2016-09-14T14:00:00+03:00" in html
    assert "Violations recorded as of the cut-off: 3" in html
    assert "(+3 against the previous bulletin)" in html
    assert "<svg" in html and html.count("<circle") == 4
    assert "amman:a-1" in html and "ngo:n-1" in html
    # Free text is escaped, never markup.
    evil = {**bulletin, "reports": [{**bulletin["reports"][0], "notes": "<script>x</script>"}]}
    assert "<script>x" not in to_html(evil, previous)


@pytest.mark.skipif(
    shutil.which("pdftoppm") is None, reason="poppler-utils: scripts/setup-weasyprint.sh"
)
def test_pdf_renders_to_readable_pages(pair: Pair, tmp_path: Path) -> None:
    from PIL import Image

    bulletin, previous = _bulletins(pair)
    pdf = to_pdf(to_html(bulletin, previous))
    assert pdf.startswith(b"%PDF-")
    (tmp_path / "b.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", str(tmp_path / "b.pdf"), str(tmp_path / "page")],
        check=True,
    )
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) >= 1
    img = Image.open(pages[0]).convert("L")
    assert img.size[0] < img.size[1]  # A4 portrait
    hist = img.histogram()
    dark = sum(hist[:128])
    assert (
        0.005 < dark / (img.size[0] * img.size[1]) < 0.5
    )  # text on the page, not blank, not black
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "b.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Bulletin No. 2" in text and "Summary" in text
