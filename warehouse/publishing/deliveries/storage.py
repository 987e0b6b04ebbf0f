"""Where deliveries live: a local folder (the default) or any fsspec URL (s3://, gs://, memory://...).

A delivery is built in a local staging folder first (parquet writers and DuckDB want local
files), then published (ADR 0016):

* local: the staging folder is `<product>/<id>.partial` beside its final place and is
  renamed into place in one step;
* remote: every file is uploaded under the temporary prefix `<product>/<id>.partial/`, then
  copied server-side to `<product>/<id>/` with `manifest.json` last, and the temporary prefix
  is removed.

Only then does the `latest` (or `latest-delta`) pointer move, so a buyer who follows a
pointer or finds a manifest always sees a complete delivery. Credentials come from the
environment (AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL, ...), never from the URL or the command line.
"""

from __future__ import annotations

import json
import os
import posixpath
from dataclasses import dataclass
from pathlib import Path

import fsspec
from fsspec.implementations.local import LocalFileSystem

MANIFEST_NAME = "manifest.json"


class StorageError(RuntimeError):
    pass


def _storage_options(protocol: str) -> dict:
    # s3fs reads keys from the environment itself; only the endpoint of an S3-compatible
    # server (MinIO, moto, Ceph) needs passing on, and it is not a secret.
    if protocol in ("s3", "s3a") and os.environ.get("AWS_ENDPOINT_URL"):
        return {"endpoint_url": os.environ["AWS_ENDPOINT_URL"]}
    return {}


@dataclass
class Location:
    """A folder on some filesystem: `fs` is the fsspec filesystem, `root` the path on it."""

    fs: fsspec.AbstractFileSystem
    root: str
    url: str

    @classmethod
    def of(cls, url: str | Path) -> Location:
        text = str(url)
        if "://" in text and any(secret in text.split("://", 1)[1].split("/", 1)[0] for secret in ("@", ":")):
            raise StorageError(
                f"{text.split('://')[0]}://...: put credentials in the environment (e.g. AWS_ACCESS_KEY_ID),"
                " not in the URL"
            )
        protocol = text.split("://", 1)[0] if "://" in text else "file"
        fs, root = fsspec.core.url_to_fs(text, **_storage_options(protocol))
        return cls(fs, root.rstrip("/") or "/", text.rstrip("/"))

    @property
    def is_local(self) -> bool:
        return isinstance(self.fs, LocalFileSystem)

    def join(self, *parts: str) -> str:
        return posixpath.join(self.root, *parts)

    def child(self, *parts: str) -> Location:
        return Location(self.fs, self.join(*parts), "/".join([self.url, *parts]))

    def relative_files(self) -> list[str]:
        """Every file under this folder, as paths relative to it (posix separators)."""
        if not self.fs.exists(self.root):
            return []
        prefix = self.root.rstrip("/") + "/"
        return sorted(path[len(prefix) :] for path in self.fs.find(self.root) if path.startswith(prefix))

    def read_text(self, relative: str) -> str:
        with self.fs.open(self.join(relative), "rb") as handle:
            return handle.read().decode()


def _pointer_name(kind: str) -> str:
    return "latest" if kind == "snapshot" else "latest-delta"


def read_pointer(product_location: Location, kind: str) -> str | None:
    """The delivery id a `latest`/`latest-delta` pointer names (a symlink locally, a small object remotely)."""
    name = _pointer_name(kind)
    if product_location.is_local:
        link = Path(product_location.join(name))
        if link.is_symlink():
            return os.readlink(link)
        return link.read_text().strip() if link.is_file() else None
    path = product_location.join(name)
    return product_location.fs.cat_file(path).decode().strip() if product_location.fs.exists(path) else None


def _delivery_day(product_location: Location, delivery_id: str) -> str | None:
    try:
        return json.loads(product_location.read_text(f"{delivery_id}/{MANIFEST_NAME}")).get("day")
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def move_pointer(product_location: Location, kind: str, delivery_id: str, day: str | None) -> bool:
    """Point `latest` (snapshots) or `latest-delta` at `delivery_id`; False when a newer day is already there.

    A backfill of an older day never moves `latest-delta` back: it points at the newest day
    shipped (ties go to the delivery written last, a re-run of that day).
    """
    current = read_pointer(product_location, kind)
    if kind == "delta" and current and day:
        current_day = _delivery_day(product_location, current)
        if current_day and current_day > day:
            return False
    name = _pointer_name(kind)
    if product_location.is_local:
        link = Path(product_location.join(name))
        temporary = link.with_name(link.name + ".tmp")
        temporary.unlink(missing_ok=True)
        temporary.symlink_to(delivery_id)
        os.replace(temporary, link)
    else:
        product_location.fs.pipe_file(product_location.join(name), delivery_id.encode())
    return True


def publish_remote(staging: Path, product_location: Location, delivery_id: str) -> Location:
    """Upload a staged delivery under `<id>.partial/`, then copy it into `<id>/` with the manifest last."""
    fs = product_location.fs
    partial = product_location.join(delivery_id + ".partial")
    final = product_location.join(delivery_id)
    if fs.exists(final):
        raise StorageError(
            f"{product_location.url}/{delivery_id} already exists; a delivery id is never reused"
        )
    files = sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file())
    ordered = [f for f in files if f != MANIFEST_NAME] + [MANIFEST_NAME]
    try:
        for relative in ordered:
            fs.put_file(str(staging / relative), posixpath.join(partial, relative))
        for relative in ordered:
            fs.copy(posixpath.join(partial, relative), posixpath.join(final, relative))
    except BaseException:
        fs.rm(partial, recursive=True) if fs.exists(partial) else None
        raise
    fs.rm(partial, recursive=True)
    return product_location.child(delivery_id)


def delivery_destination(settings, environ: dict[str, str] | None = None) -> str:
    """SMARTCART_DELIVERY_URL (s3://bucket/prefix or any fsspec URL), else SMARTCART_HOME/deliveries."""
    environ = os.environ if environ is None else environ
    return environ.get("SMARTCART_DELIVERY_URL") or str(settings.deliveries_dir)
