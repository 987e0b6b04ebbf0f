"""Crowd-sourced price reports (the Open Prices pattern): validate a contributor file, load it
whole or reject it whole.

Files (CSV with a header, or JSON: a list of reports or ``{"reports": [...]}``) arrive in the drop
folder (``SMARTCART_HOME/dropzone/crowd_reports/`` unless ``SMARTCART_CROWD_REPORTS_DIR`` says
otherwise). ``process_report_file`` decides the file's fate in one transaction:

- **loaded**: every report is valid; all rows land in ``raw.crowd_price_reports``, the file in
  ``raw.crowd_report_files`` (status loaded) and moves to ``loaded/``;
- **rejected**: any problem rejects the whole file; its reasons are recorded (status rejected) and
  written next to it in ``rejected/<name>.reasons.json``;
- **skipped**: a file with the same SHA-256 was seen before (either way); moved to ``skipped/``.

Contributors appear by anonymous id only: a file with e-mail addresses or names in contributor
fields (or any contributor column other than ``contributor_id``) is rejected.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from warehouse.platform.config import Settings

__all__ = ["CrowdFileOutcome", "dropzone_dir", "parse_report_file", "process_report_file", "validate_reports"]

FIELDS = (
    "report_id", "contributor_id", "report_type", "product_name", "barcode", "retailer", "store_name",
    "store_id", "township", "region", "price", "currency", "price_unit", "date", "discount_type",
    "proof_type", "wrong_price_reference",
)  # fmt: skip
REPORT_TYPES = {"price", "price_is_wrong"}
DISCOUNT_TYPES = {"", "none", "promotion", "clearance", "member_price", "multibuy", "coupon", "other"}
PROOF_TYPES = {"", "none", "receipt", "price_tag", "shelf_photo", "screenshot", "other"}
PRICE_UNITS = {"", "each", "kg", "100g", "l", "100ml", "pack"}
ANONYMOUS_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{7,63}$")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
PII_COLUMN = re.compile(
    r"(e-?mail|phone|first_?name|last_?name|full_?name|^name$|username|address_of_contributor)", re.I
)
MAX_REASONS = 50
MAX_REPORTS = 100_000
SUPPORTED = {".csv": "csv", ".json": "json"}


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
        raise ReportFileError(f"file is not UTF-8 ({exc})") from None
    if file_format == "csv":
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames:
            raise ReportFileError("CSV file has no header row")
        try:
            records = [dict(row) for row in reader]
        except csv.Error as exc:
            raise ReportFileError(f"CSV is malformed ({exc})") from None
        for number, row in enumerate(records, start=2):
            if None in row:
                raise ReportFileError(f"CSV line {number} has more fields than the header")
        return file_format, records, list(reader.fieldnames)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportFileError(f"JSON is malformed ({exc})") from None
    records = document.get("reports") if isinstance(document, dict) else document
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ReportFileError('JSON must be a list of report objects or {"reports": [...]}')
    columns = sorted({key for record in records for key in record})
    return file_format, records, columns


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _decimal(value: Any) -> Decimal | None:
    text = _text(value).replace(",", "")
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not number.is_finite() or number < 0:
        raise ValueError(f"{value!r} is not a non-negative amount")
    return number.quantize(Decimal("0.01"))


def _gtin_ok(text: str) -> bool:
    if not text.isdigit() or len(text) not in (8, 12, 13, 14):
        return False
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(reversed(text)))
    return total % 10 == 0


def validate_reports(
    records: list[dict[str, Any]], columns: list[str], today: dt.date | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """Typed rows ready to load, and the reasons the file must be rejected (empty if none)."""
    today = today or dt.date.today()
    reasons: list[str] = []
    for column in columns:
        if column != "contributor_id" and (
            column.lower().startswith("contributor") or PII_COLUMN.search(column)
        ):
            reasons.append(
                f"column {column!r} may carry personal data: contributors appear by anonymous id only "
                "(contributor_id); remove the column"
            )
    unknown = sorted(set(columns) - set(FIELDS) - {c for c in columns if c.lower().startswith("contributor")})
    if unknown:
        reasons.append(f"unknown columns {unknown}; expected a subset of {list(FIELDS)}")
    if not records:
        reasons.append("the file holds no reports")
    if len(records) > MAX_REPORTS:
        reasons.append(f"the file holds {len(records)} reports; split it into files of at most {MAX_REPORTS}")
    rows: list[dict[str, Any]] = []
    seen_ids: set[str] = set()
    for number, record in enumerate(records, start=1):
        problems: list[str] = []
        value = {name: _text(record.get(name)) for name in FIELDS}
        report_id = value["report_id"]
        if not report_id:
            problems.append("report_id is missing")
        elif report_id in seen_ids:
            problems.append(f"report_id {report_id!r} appears twice in the file")
        seen_ids.add(report_id)
        contributor = value["contributor_id"]
        if not contributor:
            problems.append("contributor_id is missing")
        elif EMAIL.search(contributor) or "@" in contributor:
            problems.append("contributor_id is an e-mail address: send the anonymous id only")
        elif not ANONYMOUS_ID.match(contributor):
            problems.append(
                f"contributor_id {contributor!r} is not an anonymous id (8-64 letters, digits, - or _; no spaces or names)"
            )
        for name, raw in record.items():  # e-mail addresses hidden in any other field
            if name != "contributor_id" and isinstance(raw, str) and EMAIL.search(raw):
                problems.append(f"{name} contains an e-mail address")
        report_type = value["report_type"] or "price"
        if report_type not in REPORT_TYPES:
            problems.append(f"report_type {report_type!r} is not one of {sorted(REPORT_TYPES)}")
        if not value["product_name"] and not value["barcode"]:
            problems.append("needs product_name or barcode")
        if value["barcode"] and not _gtin_ok(value["barcode"]):
            problems.append(f"barcode {value['barcode']!r} is not a valid GTIN (check digit)")
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
        if report_type == "price" and price is None and "price is" not in " ".join(problems):
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
            problems.append(f"currency {value['currency']!r} is not an ISO 4217 code")
        if price is not None and currency is None:
            problems.append("currency is missing")
        try:
            reported = dt.date.fromisoformat(value["date"]) if value["date"] else None
        except ValueError:
            reported = None
            problems.append(f"date {value['date']!r} is not YYYY-MM-DD")
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
                problems.append(f"{name} {value[name]!r} is not one of {sorted(a for a in allowed if a)}")
        if problems:
            reasons.append(f"report {number} ({report_id or 'no id'}): " + "; ".join(problems))
            continue
        rows.append(
            {
                "report_id": report_id,
                "contributor_anonymous_id": contributor,
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


def _move(path: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    if target.exists():  # keep earlier files of the same name
        target = folder / f"{path.stem}.{dt.datetime.now(dt.UTC).strftime('%Y%m%dT%H%M%S%f')}{path.suffix}"
    shutil.move(str(path), target)
    return target


def process_report_file(
    conn: psycopg.Connection, path: Path, today: dt.date | None = None
) -> CrowdFileOutcome:
    """Validate ``path`` and load it whole or reject it whole (see the module docstring)."""
    path = Path(path)
    content = path.read_bytes()
    sha256 = hashlib.sha256(content).hexdigest()
    root = path.parent
    with conn.transaction():
        seen = conn.execute(
            "select status from raw.crowd_report_files where file_sha256 = %s", (sha256,)
        ).fetchone()
    if seen is not None:
        moved = _move(path, root / "skipped")
        return CrowdFileOutcome(
            "skipped", sha256, path.name, reasons=[f"same content already {seen[0]}"], moved_to=moved
        )
    file_format = SUPPORTED.get(path.suffix.lower(), "json")
    try:
        file_format, records, columns = parse_report_file(path, content)
        rows, reasons = validate_reports(records, columns, today)
    except ReportFileError as exc:
        rows, reasons = [], [str(exc)]
    if not reasons:
        with conn.transaction():
            ids = [row["report_id"] for row in rows]
            clashes = conn.execute(
                "select report_id from raw.crowd_price_reports where report_id = any(%s) order by 1 limit 10",
                (ids,),
            ).fetchall()
        if clashes:
            reasons = [f"report ids already loaded from another file: {', '.join(r for (r,) in clashes)}"]
    status = "rejected" if reasons else "loaded"
    with conn.transaction(), conn.cursor() as cursor:
        cursor.execute(
            "insert into raw.crowd_report_files (file_sha256, file_name, file_format, status, reports, reasons) "
            "values (%s, %s, %s, %s, %s, %s)",
            (
                sha256,
                path.name,
                file_format,
                status,
                len(rows) if not reasons else 0,
                Jsonb(reasons) if reasons else None,
            ),
        )
        if not reasons:
            with cursor.copy(
                f"copy raw.crowd_price_reports (file_sha256, {', '.join(_ROW_COLUMNS)}) from stdin"
            ) as copy:
                for row in rows:
                    copy.write_row([sha256, *(row[name] for name in _ROW_COLUMNS)])
    if reasons:
        moved = _move(path, root / "rejected")
        reasons_file = moved.with_name(moved.name + ".reasons.json")
        reasons_file.write_text(
            json.dumps(
                {"file": path.name, "sha256": sha256, "status": "rejected", "reasons": reasons}, indent=2
            )
            + "\n"
        )
        return CrowdFileOutcome("rejected", sha256, path.name, 0, reasons, moved)
    moved = _move(path, root / "loaded")
    return CrowdFileOutcome("loaded", sha256, path.name, len(rows), [], moved)
