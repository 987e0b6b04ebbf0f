"""Crowd-sourced price reports (the Open Prices pattern): validate a contributor file, load it
whole or reject it whole.

Files (CSV with a header, or JSON: a list of reports or ``{"reports": [...]}``) arrive in the drop
folder (``SMARTCART_HOME/dropzone/crowd_reports/`` unless ``SMARTCART_CROWD_REPORTS_DIR`` says
otherwise) and follow the drop-folder rules of ``warehouse.landing.drop_folder`` (``*.part``
ignored, read only once settled). ``process_report_file`` decides the file's fate:

- **loaded**: every report is valid; all rows land in ``raw.crowd_price_reports``, the file in
  ``raw.crowd_report_files`` (status loaded) and moves to ``loaded/``;
- **rejected**: any problem rejects the whole file; its reasons are recorded (status rejected) and
  written next to it in ``rejected/<name>.reasons.json``. Any exception while reading or
  validating a file (bad encoding, NUL bytes, "1e400", a value the table refuses) is such a
  reason: no file stays in the drop folder unexplained;
- **skipped**: a file with the same SHA-256 was seen before (either way); moved to ``skipped/``.

Validation is linear in the input: every value is checked against a length cap
(``MAX_FIELD_CHARS``) before any other rule looks at it, files against
``SMARTCART_CROWD_MAX_FILE_BYTES``. Contributors appear by anonymous id only: e-mail addresses,
phone numbers, user names or handles as ``contributor_id`` (or any contributor column other than
``contributor_id``) reject the file, and reasons never repeat such a value.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from warehouse.landing.drop_folder import (
    LOADED,
    REJECTED,
    SKIPPED,
    FileStillChanging,
    file_away,
    read_settled,
    sha256_of_file,
)
from warehouse.platform.config import Settings

__all__ = [
    "CrowdFileOutcome",
    "FileStillChanging",
    "dropzone_dir",
    "parse_report_file",
    "process_report_file",
    "validate_reports",
]

FIELDS = (
    "report_id", "contributor_id", "report_type", "product_name", "barcode", "retailer", "store_name",
    "store_id", "township", "region", "price", "currency", "price_unit", "date", "discount_type",
    "proof_type", "wrong_price_reference",
)  # fmt: skip
REPORT_TYPES = {"price", "price_is_wrong"}
DISCOUNT_TYPES = {"", "none", "promotion", "clearance", "member_price", "multibuy", "coupon", "other"}
PROOF_TYPES = {"", "none", "receipt", "price_tag", "shelf_photo", "screenshot", "other"}
PRICE_UNITS = {"", "each", "kg", "100g", "l", "100ml", "pack"}
PII_COLUMN = re.compile(
    r"(e-?mail|phone|first_?name|last_?name|full_?name|^name$|username|address_of_contributor)", re.I
)
MAX_REASONS = 50
MAX_REPORTS = 100_000
# Caps checked before any other look at a value, so validation stays linear in the input.
MAX_FIELD_CHARS = 1_000  # a product name is far shorter; anything longer is not a report field
DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_PRICE = Decimal("1000000")  # numeric(12, 2) in raw: "1e400" must be a reason, not an overflow
SUPPORTED = {".csv": "csv", ".json": "json"}

# Control characters (NUL first of all) have no place in a report and break COPY: reason, not crash.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Anonymous contributor ids are opaque tokens the app issues: a UUID, or an optional short prefix
# and 8-64 hex digits ("anon-7f3a9c21"). Anything else may be a name, a handle or a number
# that identifies someone, so it is rejected rather than stored.
_UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I)
_PREFIXED_TOKEN = re.compile(r"(?:[a-z]{1,16}[-_])?([0-9a-f]{8,64})", re.I)
_PHONE_PUNCTUATION = str.maketrans("", "", "+-(). ")


def max_file_bytes(env: Mapping[str, str] | None = None) -> int:
    """The largest report file accepted (``SMARTCART_CROWD_MAX_FILE_BYTES``, default 50 MiB)."""
    env = os.environ if env is None else env
    raw = env.get("SMARTCART_CROWD_MAX_FILE_BYTES", "").strip()
    try:
        return int(raw) if raw else DEFAULT_MAX_FILE_BYTES
    except ValueError:
        raise ValueError(f"SMARTCART_CROWD_MAX_FILE_BYTES={raw!r} is not a number of bytes") from None


def dropzone_dir(settings: Settings, env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    configured = env.get("SMARTCART_CROWD_REPORTS_DIR")
    return Path(configured) if configured else settings.home / "dropzone" / "crowd_reports"


class ReportFileError(ValueError):
    """The file cannot be read as reports at all."""


def parse_report_file(path: Path, content: bytes) -> tuple[str, list[dict[str, Any]], list[str]]:
    """(format, records, column names) of a report file; ``ReportFileError`` if unreadable."""
    file_format = SUPPORTED.get(path.suffix.lower())
    if file_format is None:
        raise ReportFileError(f"unsupported file type {path.suffix!r}: send .csv or .json")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReportFileError(
            f"file is not UTF-8 (byte {exc.start} cannot be decoded): save it as UTF-8 and send it again"
        ) from None
    if file_format == "csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))
        try:
            if not reader.fieldnames:
                raise ReportFileError("CSV file has no header row")
            records = [dict(row) for row in reader]
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise ReportFileError(
                    f"CSV line {reader.line_num} has a field longer than {csv.field_size_limit()} "
                    f"characters (fields are capped at {MAX_FIELD_CHARS})"
                ) from None
            raise ReportFileError(f"CSV is malformed at line {reader.line_num} ({exc})") from None
        for number, row in enumerate(records, start=2):
            if None in row:
                raise ReportFileError(f"CSV line {number} has more fields than the header")
        return file_format, records, list(reader.fieldnames)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportFileError(f"JSON is malformed ({exc})") from None
    except RecursionError:
        raise ReportFileError("JSON is nested too deeply to be a list of reports") from None
    records = document.get("reports") if isinstance(document, dict) else document
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ReportFileError('JSON must be a list of report objects or {"reports": [...]}')
    columns = sorted({key for record in records for key in record})
    return file_format, records, columns


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _shown(text: str, limit: int = 40) -> str:
    """A value quoted in a reason, cut short: reasons never echo large inputs."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _decimal(value: Any) -> Decimal | None:
    text = _text(value).replace(",", "")
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{_shown(text)} is not a number") from None
    if not number.is_finite() or number < 0:
        raise ValueError(f"{_shown(text)} is not a non-negative amount")
    if number >= MAX_PRICE:
        raise ValueError(f"{_shown(text)} is not a plausible amount (at most {MAX_PRICE - 1})")
    return number.quantize(Decimal("0.01"))


def _gtin_ok(text: str) -> bool:
    if not text.isascii() or not text.isdigit() or len(text) not in (8, 12, 13, 14):
        return False
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(reversed(text)))
    return total % 10 == 0


def contains_email(text: str) -> bool:
    """Whether ``text`` holds something shaped like an e-mail address (local@domain.tld).

    Linear in the text: each whitespace-separated token is split once at its last "@", unlike
    a backtracking ``[^@\\s]+@[^@\\s]+\\.`` search, which is quadratic on long tokens.
    """
    if "@" not in text:
        return False
    for token in text.split():
        local, at, domain = token.rpartition("@")
        if at and local and "." in domain.strip(".") and not domain.startswith("."):
            return True
    return False


def contributor_id_problem(contributor: str) -> str | None:
    """Why ``contributor`` cannot be stored as an anonymous id, or None. Never quotes the value:
    if it is personal data, the reason must not repeat it."""
    if not contributor:
        return "contributor_id is missing"
    if "@" in contributor:
        if contains_email(contributor):
            return "contributor_id is an e-mail address: send the anonymous id only"
        return "contributor_id contains '@' (a social handle?): send the anonymous id only"
    digits = contributor.translate(_PHONE_PUNCTUATION)
    prefixed = _PREFIXED_TOKEN.fullmatch(contributor)
    token = prefixed.group(1) if prefixed else digits
    if (digits.isdigit() and 7 <= len(digits) <= 15) or (token.isdigit() and 7 <= len(token) <= 15):
        return "contributor_id looks like a phone number: send the anonymous id only"
    if _UUID.fullmatch(contributor) or prefixed:
        return None
    return (
        "contributor_id is not an anonymous id (it may be a user name or handle): send the id the "
        "app issued, a UUID or a short prefix and 8-64 hex digits such as anon-7f3a9c21"
    )


def _field_problems(record: Mapping[str, Any]) -> list[str]:
    """Shape problems of any field (capped length, scalars only, no control characters). Checked
    first and linear, so no later rule ever looks at a huge or broken value."""
    problems = []
    for name, raw in record.items():
        if raw is None or isinstance(raw, bool | int):
            continue
        if isinstance(raw, float):
            if not math.isfinite(raw):
                problems.append(f"{name} is not a finite number")
            continue
        if not isinstance(raw, str):
            problems.append(f"{name} is a {type(raw).__name__}, not a text or a number")
            continue
        if len(raw) > MAX_FIELD_CHARS:
            problems.append(f"{name} is {len(raw)} characters long (at most {MAX_FIELD_CHARS})")
        elif _CONTROL.search(raw):
            problems.append(f"{name} contains a control character (such as NUL): remove it")
    return problems


def validate_reports(
    records: list[dict[str, Any]], columns: list[str], today: dt.date | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """Typed rows ready to load, and the reasons the file must be rejected (empty if none)."""
    today = today or dt.date.today()
    reasons: list[str] = []
    for column in columns:
        if len(column) > MAX_FIELD_CHARS or _CONTROL.search(column):
            reasons.append(f"a column name is too long or holds control characters ({_shown(column)})")
            continue
        if column != "contributor_id" and (
            column.lower().startswith("contributor") or PII_COLUMN.search(column)
        ):
            reasons.append(
                f"column {column!r} may carry personal data: contributors appear by anonymous id only "
                "(contributor_id); remove the column"
            )
    unknown = sorted(set(columns) - set(FIELDS) - {c for c in columns if c.lower().startswith("contributor")})
    if unknown:
        shown_unknown = [_shown(c) for c in unknown[:20]]
        reasons.append(f"unknown columns [{', '.join(shown_unknown)}]; expected a subset of {list(FIELDS)}")
    if not records:
        reasons.append("the file holds no reports")
    if len(records) > MAX_REPORTS:
        reasons.append(f"the file holds {len(records)} reports; split it into files of at most {MAX_REPORTS}")
    rows: list[dict[str, Any]] = []
    seen_ids: set[str] = set()
    for number, record in enumerate(records, start=1):
        problems = _field_problems(record)
        if problems:
            reasons.append(f"report {number}: " + "; ".join(problems))
            continue
        value = {name: _text(record.get(name)) for name in FIELDS}
        report_id = value["report_id"]
        if not report_id:
            problems.append("report_id is missing")
        elif report_id in seen_ids:
            problems.append(f"report_id {_shown(report_id)} appears twice in the file")
        seen_ids.add(report_id)
        contributor_problem = contributor_id_problem(value["contributor_id"])
        if contributor_problem:
            problems.append(contributor_problem)
        for name, raw in record.items():  # e-mail addresses hidden in any other field
            if name != "contributor_id" and isinstance(raw, str) and contains_email(raw):
                problems.append(f"{name} contains an e-mail address")
        report_type = value["report_type"] or "price"
        if report_type not in REPORT_TYPES:
            problems.append(f"report_type {_shown(report_type)} is not one of {sorted(REPORT_TYPES)}")
        if not value["product_name"] and not value["barcode"]:
            problems.append("needs product_name or barcode")
        if value["barcode"] and not _gtin_ok(value["barcode"]):
            problems.append(f"barcode {_shown(value['barcode'])} is not a valid GTIN (check digit)")
        if not (value["store_name"] or value["store_id"] or value["retailer"]):
            problems.append("needs store_name, store_id or retailer")
        try:
            price = _decimal(value["price"])
        except ValueError as exc:
            problems.append(f"price {exc}")
            price = None
        try:
            wrong_price = _decimal(value["wrong_price_reference"])
        except ValueError as exc:
            problems.append(f"wrong_price_reference {exc}")
            wrong_price = None
        if report_type == "price" and price is None and "price " not in " ".join(problems):
            problems.append("price is missing")
        if (
            report_type == "price_is_wrong"
            and wrong_price is None
            and "wrong_price_reference" not in " ".join(problems)
        ):
            problems.append(
                "a price_is_wrong report needs wrong_price_reference (the listed price that is wrong)"
            )
        currency = value["currency"].upper() or None
        if currency is not None and not re.fullmatch(r"[A-Z]{3}", currency):
            problems.append(f"currency {_shown(value['currency'])} is not an ISO 4217 code")
        if price is not None and currency is None:
            problems.append("currency is missing")
        try:
            reported = dt.date.fromisoformat(value["date"]) if value["date"] else None
        except ValueError:
            reported = None
            problems.append(f"date {_shown(value['date'])} is not YYYY-MM-DD")
        if reported is None and not any(p.startswith("date") for p in problems):
            problems.append("date is missing")
        elif reported is not None and reported > today:
            problems.append(f"date {reported} is in the future")
        for name, allowed in (
            ("discount_type", DISCOUNT_TYPES),
            ("proof_type", PROOF_TYPES),
            ("price_unit", PRICE_UNITS),
        ):
            if value[name].lower() not in allowed:
                problems.append(
                    f"{name} {_shown(value[name])} is not one of {sorted(a for a in allowed if a)}"
                )
        if problems:
            reasons.append(f"report {number} ({report_id[:40] or 'no id'}): " + "; ".join(problems))
            continue
        rows.append(
            {
                "report_id": report_id,
                "contributor_anonymous_id": value["contributor_id"],
                "report_type": report_type,
                "product_name": value["product_name"] or None,
                "gtin": value["barcode"].zfill(13)[-13:] if value["barcode"] else None,
                "retailer": value["retailer"] or None,
                "store_name": value["store_name"] or None,
                "store_id": value["store_id"] or None,
                "township": value["township"] or None,
                "region": value["region"] or None,
                "price": price,
                "currency": currency,
                "price_unit": value["price_unit"].lower() or None,
                "reported_date": reported,
                "discount_type": value["discount_type"].lower() or None,
                "proof_type": value["proof_type"].lower() or None,
                "wrong_price_reference": wrong_price,
            }
        )
    if len(reasons) > MAX_REASONS:
        reasons = [*reasons[:MAX_REASONS], f"... and {len(reasons) - MAX_REASONS} more problems"]
    return rows, reasons


@dataclass(frozen=True)
class CrowdFileOutcome:
    status: str  # loaded | rejected | skipped
    file_sha256: str
    file_name: str
    reports: int = 0
    reasons: list[str] = field(default_factory=list)
    moved_to: Path | None = None


_ROW_COLUMNS = (
    "report_id", "contributor_anonymous_id", "report_type", "product_name", "gtin", "retailer",
    "store_name", "store_id", "township", "region", "price", "currency", "price_unit", "reported_date",
    "discount_type", "proof_type", "wrong_price_reference",
)  # fmt: skip


def _read_and_validate(
    path: Path, content: bytes | None, size: int, today: dt.date | None
) -> tuple[str, list[dict[str, Any]], list[str]]:
    """(format, rows, reasons) of a file's content. Never raises: whatever goes wrong while
    reading or validating a file is a reason to reject it, so no file is left unexplained."""
    file_format = SUPPORTED.get(path.suffix.lower(), "json")
    if content is None:
        limit = max_file_bytes()
        return file_format, [], [f"the file is {size} bytes; files are capped at {limit} bytes: split it"]
    try:
        file_format, records, columns = parse_report_file(path, content)
        rows, reasons = validate_reports(records, columns, today)
    except ReportFileError as exc:
        rows, reasons = [], [str(exc)]
    except Exception as exc:  # noqa: BLE001 - any failure on a file's content is the file's fault
        rows, reasons = [], [f"the file could not be validated ({type(exc).__name__}: {str(exc)[:200]})"]
    return file_format, rows, reasons


def _record_file(
    cursor: psycopg.Cursor, sha256: str, name: str, file_format: str, reasons: list[str], reports: int
) -> None:
    cursor.execute(
        "insert into raw.crowd_report_files (file_sha256, file_name, file_format, status, reports, reasons) "
        "values (%s, %s, %s, %s, %s, %s)",
        (
            sha256,
            name,
            file_format,
            "rejected" if reasons else "loaded",
            reports,
            Jsonb(reasons) if reasons else None,
        ),
    )


def process_report_file(
    conn: psycopg.Connection,
    path: Path,
    today: dt.date | None = None,
    settle: float | None = None,
) -> CrowdFileOutcome:
    """Validate ``path`` and load it whole or reject it whole (see the module docstring).

    Raises ``FileStillChanging`` (the file stays for a later pass) if it changed within the settle
    time or while it was read; database outages raise as they are (the file stays too).
    """
    path = Path(path)
    size = path.stat().st_size
    content = read_settled(path, settle, max_bytes=max_file_bytes())
    sha256 = hashlib.sha256(content).hexdigest() if content is not None else sha256_of_file(path)
    with conn.transaction():
        seen = conn.execute(
            "select status from raw.crowd_report_files where file_sha256 = %s", (sha256,)
        ).fetchone()
    if seen is not None:
        moved = file_away(path, SKIPPED)
        return CrowdFileOutcome(
            "skipped", sha256, path.name, reasons=[f"same content already {seen[0]}"], moved_to=moved
        )
    file_format, rows, reasons = _read_and_validate(path, content, size, today)
    if not reasons:
        with conn.transaction():
            ids = [row["report_id"] for row in rows]
            clashes = conn.execute(
                "select report_id from raw.crowd_price_reports where report_id = any(%s) order by 1 limit 10",
                (ids,),
            ).fetchall()
        if clashes:
            reasons = [
                f"report ids already loaded from another file: {', '.join(r[:40] for (r,) in clashes)}"
            ]
    if not reasons:
        try:
            with conn.transaction(), conn.cursor() as cursor:
                _record_file(cursor, sha256, path.name, file_format, [], len(rows))
                with cursor.copy(
                    f"copy raw.crowd_price_reports (file_sha256, {', '.join(_ROW_COLUMNS)}) from stdin"
                ) as copy:
                    for row in rows:
                        copy.write_row([sha256, *(row[name] for name in _ROW_COLUMNS)])
        except (psycopg.errors.DataError, psycopg.errors.IntegrityError) as exc:
            # A value the rules let through but the table refuses: still the file's fault, and
            # the transaction is rolled back, so the file is rejected whole like any other.
            first_line = str(exc).splitlines()[0][:200]
            reasons = [f"the database refused a value of the file ({type(exc).__name__}: {first_line})"]
    if reasons:
        with conn.transaction(), conn.cursor() as cursor:
            _record_file(cursor, sha256, path.name, file_format, reasons, 0)
        moved = file_away(path, REJECTED, reasons, sha256)
        return CrowdFileOutcome("rejected", sha256, path.name, 0, reasons, moved)
    moved = file_away(path, LOADED)
    return CrowdFileOutcome("loaded", sha256, path.name, len(rows), [], moved)
