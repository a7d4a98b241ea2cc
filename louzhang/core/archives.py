"""Zip files from outside (an XLSX is one), checked before anything unpacks them.

A 400 KB upload can unpack to gigabytes: one shared string of 400 MB of the same letter, a
member whose size in the directory lies, millions of members. `check_zip` looks at the
directory first (number of members, their declared sizes, how much each claims to grow, the
compression method), then unpacks every XML member once, in small pieces, counting what really
comes out and the longest stretch of text without markup — so that the parser that reads the
file afterwards (openpyxl) never holds a value or a total larger than the limits.

Python's zipfile never gives more than a member's declared size and fails its checksum when
the data holds more, so a lying size ends as a damaged file, never as an unbounded read.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

MIB = 1024 * 1024


@dataclass(frozen=True)
class ZipLimits:
    #: members in the archive (an XLSX of one sheet has about a dozen)
    members: int = 2_000
    #: what one member may unpack to, and all of them together (openpyxl streams a sheet: its
    #: size costs time, not memory)
    member_bytes: int = 1024 * MIB
    total_bytes: int = 2048 * MIB
    #: how many times larger than its packed size a member above `ratio_from` may unpack
    #: (spreadsheet XML packs 5–30 times; a bomb a thousand)
    ratio: int = 100
    ratio_from: int = 1 * MIB
    #: the longest run of bytes without "<" in an XML member: one value of a cell, written out
    #: (Excel holds at most 32,767 characters in a cell; escaped and in UTF-8 that is < 256 KiB)
    text_run: int = 256 * 1024


XLSX_LIMITS = ZipLimits()
#: an XLSX file's shared strings are read whole, into memory: a million residents' names, ID
#: numbers and phones take about 100 MB
XLSX_STRINGS_BYTES = 160 * MIB
_STRINGS_PART = re.compile(
    rb'PartName="/?([^"]+)"\s+ContentType="application/vnd\.openxmlformats-officedocument\.'
    rb'spreadsheetml\.sharedStrings\+xml"|ContentType="application/vnd\.openxmlformats-'
    rb'officedocument\.spreadsheetml\.sharedStrings\+xml"\s+PartName="/?([^"]+)"')
_CHUNK = 1 * MIB


class ArchiveError(Exception):
    """The archive is refused; the message says why, in one line."""


def check_zip(path: Path, limits: ZipLimits = XLSX_LIMITS) -> None:
    """Refuse (ArchiveError) a zip file that is damaged or unpacks beyond `limits`."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            _check_directory(members, limits)
            for member in members:
                _check_member(archive, member, limits)
    except ArchiveError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError,
            NotImplementedError, RuntimeError):
        # BadZipFile: not a zip, or a member whose data does not match its size or checksum;
        # RuntimeError/NotImplementedError: encrypted members, unknown methods
        raise ArchiveError(_("the file is damaged or not a real XLSX file")) from None


def check_xlsx(path: Path, *, strings_bytes: int = XLSX_STRINGS_BYTES) -> None:
    """`check_zip` for an XLSX file, and its shared strings (which openpyxl reads whole) no
    larger than `strings_bytes` unpacked."""
    check_zip(path)
    try:
        with zipfile.ZipFile(path) as archive:
            types = archive.read("[Content_Types].xml") if "[Content_Types].xml" in archive.namelist() else b""
            for found in _STRINGS_PART.finditer(types):
                part = (found.group(1) or found.group(2)).decode("utf-8", "replace")
                if part in archive.namelist() and archive.getinfo(part).file_size > strings_bytes:
                    raise ArchiveError(_("the file's table of texts unpacks to more than %(mb)d MB: "
                                         "save it as CSV, or split it") % {"mb": strings_bytes // MIB})
    except zipfile.BadZipFile:
        raise ArchiveError(_("the file is damaged or not a real XLSX file")) from None


def _check_directory(members: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
    if len(members) > limits.members:
        raise ArchiveError(_("the file holds %(n)d parts (at most %(max)d): not a spreadsheet")
                           % {"n": len(members), "max": limits.members})
    total = 0
    for member in members:
        if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ArchiveError(_("the file is packed in a way spreadsheets are not (method %(m)d)")
                               % {"m": member.compress_type})
        _within(member.file_size, total, limits)
        total += member.file_size
        if member.file_size > limits.ratio_from and member.file_size > limits.ratio * max(member.compress_size, 1):
            raise ArchiveError(_(
                "the file unpacks to %(ratio)s times its size (at most %(max)d): refused as a "
                "decompression bomb") % {"ratio": f"{member.file_size // max(member.compress_size, 1):,}",
                                         "max": limits.ratio})


def _within(size: int, before: int, limits: ZipLimits) -> None:
    if size > limits.member_bytes or before + size > limits.total_bytes:
        raise ArchiveError(_(
            "the file unpacks to more than %(mb)d MB: save it as CSV, or split it")
            % {"mb": limits.total_bytes // MIB if before + size > limits.total_bytes
               else limits.member_bytes // MIB})


def _check_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limits: ZipLimits) -> None:
    """Unpack one member in pieces: what comes out stays within its declared size (zipfile
    checks the checksum at the end). An XML member (one that starts with "<") has no stretch of
    text longer than `limits.text_run` and no document type (entities are how an XML bomb
    grows); pictures and other binary members are only unpacked."""
    run = 0  # bytes since the last "<", carried over from the previous piece
    xml: bool | None = None
    tail = b""
    with archive.open(member) as stream:
        while piece := stream.read(_CHUNK):
            if xml is None:
                head = piece.lstrip(b"\xef\xbb\xbf \t\r\n")[:2]
                if head[:1] in (b"\xff", b"\xfe") or b"\x00" in head:
                    raise ArchiveError(_("the file holds XML in UTF-16, which spreadsheet programs never write"))
                xml = head[:1] == b"<"
            if not xml:
                continue
            if b"<!DOCTYPE" in tail + piece[:16] or b"<!DOCTYPE" in piece:
                raise ArchiveError(_("the file holds XML with a document type, which spreadsheet "
                                     "programs never write"))
            tail = piece[-16:]
            parts = piece.split(b"<")
            if len(parts) == 1:
                longest = run = run + len(piece)
            else:
                longest = max(run + len(parts[0]), max(map(len, parts[1:])))
                run = len(parts[-1])
            if longest > limits.text_run:
                raise ArchiveError(_("the file holds a value longer than %(kb)d KB: not a "
                                     "spreadsheet a person filled in") % {"kb": limits.text_run // 1024})
