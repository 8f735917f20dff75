"""The status of `checkpoint_status` and `convoy_status` reports (SPEC §6).

A status row says its status in a `status` column or as a word of its `notes`
(`established`, `staffed`, `removed`; `departed`, `delivered`, `stopped`,
`turned_back`, also written "turned back"). A row of either type without a
status, or with one that belongs to the other type, is rejected with a reason.
The status is kept as the first word of `notes` (where the store keeps it), so
every reader and the server see the same thing.
"""

from __future__ import annotations

import numpy as np

from truce.domain.model import EVENT_TYPES, STATUS_VOCABULARY
from truce.domain.status import status_word

STATUS_CODES = {EVENT_TYPES.index(t): t for t in STATUS_VOCABULARY}


def status_notes(
    event_codes: np.ndarray, status: list[str] | None, notes: np.ndarray
) -> tuple[np.ndarray, dict[int, str]]:
    """(notes with each status row's status first, {row: reason} for the rows to reject).

    `event_codes`: each row's event type code; `status`: the status column's text per
    row (None when the file has no such column); `notes`: object array per row."""
    notes = notes.copy()
    bad: dict[int, str] = {}
    for i in np.flatnonzero(np.isin(event_codes, list(STATUS_CODES))).tolist():
        event_type = STATUS_CODES[int(event_codes[i])]
        vocabulary = STATUS_VOCABULARY[event_type]
        given = (status[i] if status is not None else "").strip()
        note = str(notes[i] or "")
        found = status_word(given, vocabulary) if given else status_word(note, vocabulary)
        if not found:
            what = f"status {given!r} is not" if given else "no status found; give"
            bad[i] = (
                f"{event_type}: {what} one of {', '.join(vocabulary)} "
                "(in a status column or as a word of notes)"
            )
            continue
        if status_word(note, vocabulary) != found:
            notes[i] = f"{found}; {note}" if note else found
    return notes, bad
