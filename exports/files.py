"""Byte-level determinism: fixed zip entry dates, fixed timestamps inside written files."""

from __future__ import annotations

import hashlib
import re
import shutil
import zipfile
from pathlib import Path
from typing import IO

from django.core.files import File
from django.core.files.storage import Storage, storages

ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can carry


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def zip_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    info.create_system = 3  # unix, whatever the machine
    return info


def add_file(archive: zipfile.ZipFile, source: Path, name: str) -> None:
    with source.open("rb") as src, archive.open(zip_info(name), "w", force_zip64=True) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)


_XPT_STAMP = re.compile(rb"\d\d[A-Z]{3}\d\d:\d\d:\d\d:\d\d")


def normalise_stat_file(path: Path, fmt: str) -> None:
    """ReadStat writes the current time into SPSS, Stata and SAS transport headers."""
    path.write_bytes(normalise_stat_bytes(path.read_bytes(), fmt))


def normalise_stat_bytes(raw: bytes, fmt: str) -> bytes:
    """The file's bytes with ReadStat's time stamps replaced by fixed ones."""
    data = bytearray(raw)
    if fmt == "sav":
        # $FL2 header: creation date (9 bytes) at 84+8 and creation time (8 bytes) after it.
        data[92:109] = b"01 Jan 0000:00:00"
    elif fmt == "dta":
        start = data.find(b"<timestamp>")
        end = data.find(b"</timestamp>", start)
        if start >= 0 and end > start:
            length = end - start - len(b"<timestamp>") - 1
            stamp = b"01 Jan 2000 00:00"[:length].ljust(length)
            data[start + len(b"<timestamp>") + 1 : end] = stamp
    elif fmt == "xpt":
        marker = data.find(b"HEADER RECORD*******OBSV8")
        if marker < 0:
            marker = data.find(b"HEADER RECORD*******OBS")
        head = bytes(data[: marker if marker > 0 else len(data)])
        head = _XPT_STAMP.sub(b"01JAN00:00:00:00", head)
        data[: len(head)] = head
    return bytes(data)


# --- The bundles' storage (STORAGES["exports"]): a folder or an S3-compatible bucket.
STORAGE = "exports"


def bundle_storage() -> Storage:
    return storages[STORAGE]


def store_bundle(source: Path, name: str) -> str:
    """Put the finished zip at `name` in the storage (a retried job replaces its own file)."""
    storage = bundle_storage()
    if storage.exists(name):
        storage.delete(name)
    with source.open("rb") as handle:
        return storage.save(name, File(handle, name=name))


def open_bundle(name: str) -> IO[bytes]:
    """The stored bundle as a stream. From S3, the object's body as it arrives (the storage's
    own file would first copy the whole object to the web server's disk)."""
    storage = bundle_storage()
    bucket = getattr(storage, "bucket", None)
    if bucket is None:
        return storage.open(name, "rb")
    from botocore.exceptions import ClientError

    location = str(getattr(storage, "location", "") or "").strip("/")
    key = f"{location}/{name}" if location else name
    try:
        return bucket.Object(key).get()["Body"]
    except ClientError as error:  # NoSuchKey: deleted, or never stored
        raise FileNotFoundError(name) from error


def delete_bundle(name: str) -> None:
    storage = bundle_storage()
    if name and storage.exists(name):
        storage.delete(name)
