"""Report files that come inside a zip archive, as datasets are often published
(UCDP's GED downloads are a zip holding one CSV): the archive's one data file is
read as if it had been given itself.
"""

from __future__ import annotations

import mmap
import zipfile
from pathlib import PurePosixPath
from typing import IO, BinaryIO, cast

from truce.errors import ReportFormatError

ZIP_MAGIC = b"PK\x03\x04"
# What an archive's report file may be called; anything else in it (a readme, a
# codebook) is not read.
_REPORT_SUFFIXES = (".csv", ".jsonl", ".ndjson", ".json-lines", ".gz")


def report_member(archive: zipfile.ZipFile, name: str) -> zipfile.ZipInfo:
    """The archive's one report file; a clear error when it holds none or several."""
    files = [
        info
        for info in archive.infolist()
        if not info.is_dir()
        and not info.filename.startswith("__MACOSX/")
        and not PurePosixPath(info.filename).name.startswith(".")
    ]
    reports = [i for i in files if i.filename.lower().endswith(_REPORT_SUFFIXES)]
    if len(reports) == 1:
        return reports[0]
    if not reports and len(files) == 1:
        return files[0]
    listed = ", ".join(i.filename for i in (reports or files)) or "nothing"
    raise ReportFormatError(
        f"{name}: a zip archive must hold one report file (.csv or .jsonl); it holds "
        f"{listed}: extract the one to read and give it instead"
    )


def open_member(source: IO[bytes] | mmap.mmap, name: str) -> tuple[BinaryIO, str]:
    """The archive's report file opened for reading, and its suffix (lower case, `.gz`
    left out)."""
    try:
        archive = zipfile.ZipFile(cast(IO[bytes], source))  # a mapping reads like a file
        member = report_member(archive, name)
        suffixes = [s.lower() for s in PurePosixPath(member.filename).suffixes]
        if suffixes[-1:] == [".gz"]:
            suffixes.pop()
        return cast(BinaryIO, archive.open(member)), (suffixes[-1] if suffixes else "")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError) as exc:
        raise ReportFormatError(f"{name}: not a readable zip archive ({exc})") from None
