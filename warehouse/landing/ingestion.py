"""App event ingestion: JSONL files -> pseudonymized, PII-free rows in smartcart_behavior.raw.

A file dropped in the app-events drop folder is loaded whole or rejected whole:
1. its sha256 is checked against raw.event_files (already loaded -> skipped);
2. every line is parsed and validated against the event contract (RULES.md); any error
   rejects the file with reasons (line numbers and counts only, never ids or values);
3. the distinct app user ids go to the vault in ONE batch lookup (audit-logged); an id the
   vault does not know rejects the file; events of erased users are dropped;
4. each event keeps only the allowed payload fields (everything else is dropped, so a PII
   field added by an app never lands); a postcode is coarsened to its region (state);
   the free-text list name is dropped;
5. rows are COPYed into raw.app_events with the file row in raw.event_files, in one
   transaction as smartcart_ingest.
After the files, the consent state (anonymous id, trend_sharing) is republished from the
vault into raw.trend_consents, and pending erasures are processed first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import psycopg

from warehouse.domain.regions import postcode_region
from warehouse.landing.drop_folder import (
    LOADED,
    REJECTED,
    SKIPPED,
    FileStillChanging,
    check_settled,
    file_away,
    settle_seconds,
    settled_files,
)
from warehouse.platform.access.roles import Role
from warehouse.platform.config import Settings
from warehouse.vault.api import Vault
from warehouse.vault.erasure import process_erasures

INGEST_ROLE = Role.INGEST
MAX_REASONS = 20
EVENT_FILE_SUFFIXES = (".jsonl",)
# A line is one small event; a longer one is not an event (and is not parsed at all).
MAX_LINE_BYTES = 64 * 1024
DEFAULT_MAX_FILE_BYTES = 2 * 1024**3


def max_event_file_bytes() -> int:
    """The largest event file accepted (``SMARTCART_APP_EVENTS_MAX_FILE_BYTES``, default 2 GiB)."""
    raw = os.environ.get("SMARTCART_APP_EVENTS_MAX_FILE_BYTES", "").strip()
    try:
        return int(raw) if raw else DEFAULT_MAX_FILE_BYTES
    except ValueError:
        raise ValueError(f"SMARTCART_APP_EVENTS_MAX_FILE_BYTES={raw!r} is not a number of bytes") from None


# Allowed payload fields per event type (besides event_id, user_id, event_type, occurred_at).
# The value says how a field is checked; anything not listed is dropped on ingest.
ID = "id"  # short opaque identifier
TEXT = "text"  # accepted on input, never stored
EVENT_FIELDS: dict[str, dict[str, str]] = {
    "list_created": {"list_id": ID, "list_name": TEXT},
    "item_added": {"list_id": ID, "product_key": ID, "quantity": "quantity"},
    "item_removed": {"list_id": ID, "product_key": ID},
    "preference_set": {"preference": ID, "value": "preference_value"},
    "substitution_chosen": {"list_id": ID, "from_product_key": ID, "to_product_key": ID},
    "optimizer_request": {"list_id": ID, "postcode": "postcode", "max_stores": "max_stores"},
}
EVENT_TYPES = tuple(EVENT_FIELDS)
# Optional on input (the file is valid without them).
OPTIONAL_FIELDS = {"list_name"}
_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.:\-]{1,100}$")
_TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_.\- ]{1,40}$")

# Postcodes are coarsened to their region (warehouse.domain.regions): never stored whole.


def app_events_dropzone(settings: Settings) -> Path:
    """Where apps drop event files: SMARTCART_APP_EVENTS_DIR or SMARTCART_HOME/dropzone/app_events."""
    override = os.environ.get("SMARTCART_APP_EVENTS_DIR")
    return Path(override) if override else settings.home / "dropzone" / "app_events"


@dataclass
class FileResult:
    file_name: str
    file_sha256: str
    status: str  # loaded | rejected | skipped | waiting (still changing: left for the next pass)
    lines: int = 0
    events_loaded: int = 0
    events_dropped_erased: int = 0
    fields_dropped: int = 0
    users: int = 0
    reasons: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase (benchmarks)


@dataclass
class IngestionSummary:
    files: list[FileResult] = field(default_factory=list)
    erasures_processed: int = 0
    erased_rows_deleted: int = 0
    trend_consents_published: int = 0

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def events_loaded(self) -> int:
        return sum(f.events_loaded for f in self.files)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _Reasons:
    """Collect validation errors as (kind -> line numbers), reported without values."""

    def __init__(self) -> None:
        self.by_kind: dict[str, list[int]] = {}

    def add(self, kind: str, line: int) -> None:
        self.by_kind.setdefault(kind, []).append(line)

    def __bool__(self) -> bool:
        return bool(self.by_kind)

    def render(self) -> list[str]:
        out = []
        for kind, lines in list(self.by_kind.items())[:MAX_REASONS]:
            if lines == [0]:  # about the whole file, not a line
                out.append(kind)
                continue
            shown = ", ".join(map(str, lines[:5])) + (", ..." if len(lines) > 5 else "")
            out.append(f"{kind}: {len(lines)} line(s) ({shown})")
        return out


def _check_field(kind: str, value, name: str) -> str | None:
    """None when valid, else the reason (no value in it)."""
    if kind == ID:
        return None if isinstance(value, str) and _ID_PATTERN.match(value) else f"{name} is not a short id"
    if kind == TEXT:
        return None if isinstance(value, str) else f"{name} is not a string"
    if kind == "quantity":
        ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 1000  # no nan
        return None if ok else f"{name} is not a positive number"
    if kind == "max_stores":
        ok = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 10
        return None if ok else f"{name} is not an integer in 1..10"
    if kind == "postcode":
        return None if isinstance(value, str | int) else f"{name} is not a postcode"
    if kind == "preference_value":
        ok = (
            isinstance(value, bool | int)
            or (isinstance(value, float) and math.isfinite(value))
            or (isinstance(value, str) and _TOKEN_PATTERN.match(value) is not None)
        )
        return None if ok else f"{name} is not a boolean, number or short token"
    raise AssertionError(kind)


def _json_scalar(value) -> str:
    """JSON text of a validated scalar. Ids and tokens match patterns without quotes, backslashes
    or control characters, so they need no escaping (and no json.dumps: this is the hot path)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def clean_payload_json(event_type: str, event: dict) -> str:
    """The stored payload as JSON text: allowed fields only, postcode coarsened to region,
    free text dropped. Keys are emitted in the contract's order."""
    parts = []
    for name, kind in EVENT_FIELDS[event_type].items():
        if kind == TEXT or name not in event:
            continue
        if kind == "postcode":
            parts.append(f'"region":"{postcode_region(str(event[name]))}"')
        else:
            parts.append(f'"{name}":{_json_scalar(event[name])}')
    return "{" + ",".join(parts) + "}"


@dataclass
class _ParsedFile:
    # Each parsed event: (event_id, app_user_id, event_type, occurred_at text, payload json text)
    events: list[tuple[str, str, str, str, str]]
    lines: int
    fields_dropped: int
    reasons: _Reasons


_ENVELOPE = {"event_id", "user_id", "event_type", "occurred_at"}


def parse_event_file(path: Path) -> _ParsedFile:
    """Parse and validate every line (no database); events are kept only if the file is valid."""
    reasons = _Reasons()
    events: list[tuple[str, str, str, str, str]] = []
    seen_ids: set[str] = set()
    fields_dropped = 0
    lines = 0
    loads, fromiso = orjson.loads, dt.datetime.fromisoformat  # orjson: strict JSON, UTF-8 checked
    with open(path, "rb") as handle:
        for lines, raw_line in enumerate(handle, start=1):  # noqa: B007
            if len(raw_line) > MAX_LINE_BYTES:
                reasons.add(f"line longer than {MAX_LINE_BYTES} bytes (not one event)", lines)
                continue
            if not raw_line.strip():
                continue
            try:
                event = loads(raw_line)
            except ValueError:
                reasons.add("not valid JSON (or not UTF-8)", lines)
                continue
            if not isinstance(event, dict):
                reasons.add("not a JSON object", lines)
                continue
            event_type = event.get("event_type")
            allowed = EVENT_FIELDS.get(event_type) if isinstance(event_type, str) else None
            if allowed is None:
                reasons.add("unknown or missing event_type", lines)
                continue
            event_id, user_id, occurred_at = (
                event.get("event_id"),
                event.get("user_id"),
                event.get("occurred_at"),
            )
            if not (isinstance(event_id, str) and _ID_PATTERN.match(event_id)):
                reasons.add("missing or malformed event_id", lines)
                continue
            if event_id in seen_ids:
                reasons.add("duplicate event_id in the file", lines)
                continue
            seen_ids.add(event_id)
            if not (isinstance(user_id, str) and _ID_PATTERN.match(user_id)):
                reasons.add("missing or malformed user_id", lines)
                continue
            try:
                # isprintable: fromisoformat lets a NUL through, which COPY would refuse.
                if (
                    not isinstance(occurred_at, str)
                    or not occurred_at.isprintable()
                    or fromiso(occurred_at).tzinfo is None
                ):
                    raise ValueError
            except ValueError:
                reasons.add("occurred_at is not an ISO-8601 timestamp with a time zone", lines)
                continue
            bad = False
            for name, kind in allowed.items():
                if name not in event:
                    if name not in OPTIONAL_FIELDS:
                        reasons.add(f"{event_type} without {name}", lines)
                        bad = True
                    continue
                problem = _check_field(kind, event[name], name)
                if problem is None and kind == ID and user_id in event[name]:
                    problem = f"{name} embeds the app user id"
                if problem:
                    reasons.add(f"{event_type}: {problem}", lines)
                    bad = True
            if bad:
                continue
            extra = len(event) - len(_ENVELOPE) - sum(1 for name in allowed if name in event)
            fields_dropped += extra
            payload = clean_payload_json(event_type, event)
            events.append((event_id, user_id, event_type, occurred_at, payload))
    if reasons:
        events = []
    # COPY in key order: the primary-key btree takes sorted inserts far better (measured +20-45%).
    events.sort()
    return _ParsedFile(events=events, lines=lines, fields_dropped=fields_dropped, reasons=reasons)


def _lines_of_users(path: Path, app_user_ids: set[str]) -> list[int]:
    """Line numbers of the events of the given users (only on the rare rejection path)."""
    with open(path, "rb") as handle:
        return [
            number
            for number, raw_line in enumerate(handle, start=1)
            if raw_line.strip() and orjson.loads(raw_line).get("user_id") in app_user_ids  # valid file
        ]


def _copy_events(
    behavior: psycopg.Connection, rows: Iterable[tuple[str, str, str, str, str]], sha: str
) -> int:
    count = 0
    buffer: list[str] = []
    with behavior.cursor().copy(
        "copy raw.app_events (event_id, anonymous_user_id, event_type, occurred_at, payload, file_sha256)"
        " from stdin"
    ) as copy:
        for event_id, anonymous_user_id, event_type, occurred_at, payload in rows:
            buffer.append(
                # No COPY escaping needed: ids, timestamps and payload values were validated
                # against patterns without backslashes, tabs or newlines.
                f"{event_id}\t{anonymous_user_id}\t{event_type}\t{occurred_at}\t{payload}\t{sha}\n"
            )
            count += 1
            if len(buffer) >= 20_000:
                copy.write("".join(buffer))
                buffer.clear()
        if buffer:
            copy.write("".join(buffer))
    return count


def parse_event_file_safely(path: Path) -> _ParsedFile:
    """``parse_event_file`` that never raises on a file's content: any failure (size cap, a value
    no rule foresaw) is a reason that rejects the file, so no file is left unexplained."""
    reasons = _Reasons()
    try:
        size, limit = path.stat().st_size, max_event_file_bytes()
        if size > limit:
            reasons.add(f"the file is {size} bytes; files are capped at {limit} bytes: split it", 0)
            return _ParsedFile(events=[], lines=0, fields_dropped=0, reasons=reasons)
        return parse_event_file(path)
    except Exception as exc:  # noqa: BLE001 - the file's fault, reported as its reason
        reasons.add(f"the file could not be validated ({type(exc).__name__}: {str(exc)[:200]})", 0)
        return _ParsedFile(events=[], lines=0, fields_dropped=0, reasons=reasons)


def checksum_and_parse(path: Path) -> tuple[str, _ParsedFile]:
    """The database-free part of ingesting a file (runs in a worker process for the next file)."""
    return file_sha256(path), parse_event_file_safely(path)


def ingest_file(
    path: Path,
    vault: Vault,
    behavior: psycopg.Connection,
    prepared: tuple[str, _ParsedFile] | None = None,
) -> FileResult:
    """Load one JSONL file whole (or reject it whole, with reasons, or skip it if already loaded)."""
    sha, parsed = prepared if prepared is not None else (file_sha256(path), None)
    result = FileResult(file_name=path.name, file_sha256=sha, status="skipped")
    if behavior.execute("select 1 from raw.event_files where file_sha256 = %s", (sha,)).fetchone():
        behavior.commit()
        return result
    parsed = parsed or parse_event_file_safely(path)
    result.lines, result.fields_dropped = parsed.lines, parsed.fields_dropped
    if parsed.reasons:
        return _reject(behavior, result, parsed.reasons.render())
    if not parsed.events:
        return _reject(behavior, result, ["the file holds no events"])

    started = time.perf_counter()
    app_user_ids = {event[1] for event in parsed.events}
    pseudonyms = vault.pseudonymize(app_user_ids, purpose="app_event_ingestion", file_sha256=sha)
    unknown = app_user_ids - pseudonyms.keys()
    if unknown:
        lines = _lines_of_users(path, unknown)
        shown = ", ".join(map(str, lines[:5])) + (", ..." if len(lines) > 5 else "")
        return _reject(
            behavior,
            result,
            [f"{len(unknown)} user id(s) unknown to the vault: {len(lines)} line(s) ({shown})"],
        )
    result.users = sum(1 for p in pseudonyms.values() if not p.erased)
    anonymous = {app_id: str(p.anonymous_user_id) for app_id, p in pseudonyms.items() if not p.erased}
    kept = (
        (event_id, anonymous[user_id], event_type, occurred_at, payload)
        for event_id, user_id, event_type, occurred_at, payload in parsed.events
        if user_id in anonymous
    )
    result.timings["vault_lookup"] = time.perf_counter() - started
    started = time.perf_counter()
    try:
        with behavior.transaction():
            behavior.execute(
                "insert into raw.event_files (file_sha256, file_name, events) values (%s, %s, 0)",
                (sha, path.name),
            )
            loaded = _copy_events(behavior, kept, sha)
            behavior.execute("update raw.event_files set events = %s where file_sha256 = %s", (loaded, sha))
    except psycopg.errors.UniqueViolation:
        behavior.rollback()
        return _reject(behavior, result, ["event ids already loaded from another file"])
    except psycopg.errors.DataError as exc:  # a value the rules let through but the table refuses
        behavior.rollback()
        first_line = str(exc).splitlines()[0][:200]
        return _reject(behavior, result, [f"the database refused a value of the file ({first_line})"])
    result.timings["copy"] = time.perf_counter() - started
    result.status, result.events_loaded = "loaded", loaded
    result.events_dropped_erased = len(parsed.events) - loaded
    return result


def _reject(behavior: psycopg.Connection, result: FileResult, reasons: list[str]) -> FileResult:
    result.status, result.reasons = "rejected", reasons
    with behavior.transaction():
        behavior.execute(
            "insert into raw.rejected_event_files (file_sha256, file_name, lines, reasons)"
            " values (%s, %s, %s, %s) on conflict (file_sha256) do update"
            " set reasons = excluded.reasons, rejected_at = now()",
            (result.file_sha256, result.file_name, result.lines, json.dumps(reasons)),
        )
    return result


def publish_trend_consents(vault: Vault, behavior: psycopg.Connection) -> int:
    """Replace raw.trend_consents with the vault's current state (anonymous id + flag only)."""
    rows = vault.trend_consents()
    with behavior.transaction():
        behavior.execute("delete from raw.trend_consents")
        with behavior.cursor().copy(
            "copy raw.trend_consents (anonymous_user_id, trend_sharing, as_of) from stdin"
        ) as copy:
            for row in rows:
                copy.write_row(row)
    return len(rows)


def _file_away(path: Path, result: FileResult) -> Path:
    """Move a handled file out of the drop folder: loaded/, skipped/, or rejected/ with its
    reasons (the one drop-folder lifecycle, ``warehouse.landing.drop_folder``)."""
    status = {"loaded": LOADED, "rejected": REJECTED}.get(result.status, SKIPPED)
    return file_away(path, status, result.reasons, result.file_sha256)


def pending_event_files(dropzone: Path, settle: float | None = None) -> list[Path]:
    """Event files ready to load: ``*.jsonl`` directly in the drop folder, unchanged for the
    settle time (``*.part`` files and files still being written are left alone)."""
    return [dropped.path for dropped in settled_files(dropzone, EVENT_FILE_SUFFIXES, settle)]


def ingest_dropzone(
    settings: Settings, dropzone: Path | None = None, move_files: bool = True, settle: float | None = None
) -> IngestionSummary:
    """Process erasures, ingest every settled file in the drop folder, republish trend consents.

    ``settle``: seconds a file must be unchanged before it is read (default
    ``SMARTCART_DROP_SETTLE_SECONDS``); 0 for a producer known to have renamed complete files in."""
    dropzone = dropzone or app_events_dropzone(settings)
    summary = IngestionSummary()
    with (
        Vault.open(settings) as vault,
        psycopg.connect(settings.database_url("behavior", INGEST_ROLE)) as behavior,
    ):
        erasures = process_erasures(vault, behavior)
        summary.erasures_processed = len(erasures)
        summary.erased_rows_deleted = sum(e.behavior_rows_deleted for e in erasures)
        settle = settle_seconds() if settle is None else settle
        ready = {dropped.path: dropped for dropped in settled_files(dropzone, EVENT_FILE_SUFFIXES, settle)}
        # One file at a time in this step: where work runs is Dagster's choice (its executor runs
        # steps in parallel), not a process pool hidden inside one step.
        for path in ready:
            try:
                prepared = checksum_and_parse(path)
                # Parsed from a file that changed since it was listed: leave it for the next pass.
                check_settled(path, 0, seen=ready[path])
            except (FileStillChanging, FileNotFoundError):
                summary.files.append(FileResult(path.name, "", "waiting"))
                continue
            result = ingest_file(path, vault, behavior, prepared)
            summary.files.append(result)
            if move_files:
                _file_away(path, result)
        summary.trend_consents_published = publish_trend_consents(vault, behavior)
    return summary
