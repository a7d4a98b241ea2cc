"""Residents import rate, beside a raw batched insert of the same rows into the same database.

    .venv/bin/python bench/import_residents.py                       # 1,000,000 rows, SQLite
    .venv/bin/python bench/import_residents.py --rows 200000 --database-url postgres://postgres@127.0.0.1:5432/lz_bench
    .venv/bin/python bench/import_residents.py --rows 100000 --xlsx  # also the XLSX rate

Generates a CSV of residents of 保利百合 (demo city) spread over 2,000 buildings, 1 % of the rows
bad in the ways real files are (checksum, Excel damage, bad phone, bad address), imports it with
`import_residents` (full validation, households created as needed), then inserts the same valid
rows with `executemany` into a scratch copy of the residents table, and prints both rates and
their ratio. A PostgreSQL database named in the URL is dropped and recreated.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import fresh_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--xlsx", action="store_true", help="also time an XLSX file (≤ 100,000 rows)")
    args = parser.parse_args()
    tmp = fresh_database(args.database_url, "lz-import-")
    from django.db import connection

    from louzhang.demo.services import demo_load

    demo_load()
    rows = _generate(args.rows)
    path = tmp / "residents.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["姓名", "性别", "身份证号", "手机号", "小区", "住址", "人员类型"])
        writer.writerows(rows)
    print(f"database: {connection.vendor}  rows: {len(rows):,} ({path.stat().st_size / 1e6:.0f} MB CSV)")

    from louzhang.registry.importing.residents import import_residents

    t = time.perf_counter()
    summary = import_residents(path, rejects_path=tmp / "rejects.csv")
    seconds = time.perf_counter() - t
    rate = summary.read / seconds
    print(f"import (full validation): {rate:>10,.0f} rows/s  {seconds:6.1f} s  "
          f"created {summary.created:,} rejected {summary.rejected:,}")

    raw_rate = _raw_insert(connection, path)
    print(f"raw batched insert:       {raw_rate:>10,.0f} rows/s")
    print(f"ratio import / raw:       {rate / raw_rate:10.2f}")

    again_t = time.perf_counter()
    again = import_residents(path, rejects_path=tmp / "rejects2.csv")
    print(f"re-import (all unchanged): {summary.read / (time.perf_counter() - again_t):>9,.0f} rows/s  "
          f"unchanged {again.unchanged:,}")

    if args.xlsx:
        from openpyxl import Workbook

        n = min(len(rows), 100_000)
        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        sheet.append(["姓名", "性别", "身份证号", "手机号", "小区", "住址", "人员类型"])
        for row in rows[:n]:
            sheet.append(row)
        xlsx = tmp / "residents.xlsx"
        book.save(xlsx)
        t = time.perf_counter()
        xs = import_residents(xlsx, rejects_path=tmp / "rejects3.csv")
        print(f"XLSX import ({n:,} rows, unchanged): {n / (time.perf_counter() - t):,.0f} rows/s "
              f"({xs.unchanged:,} unchanged)")


MOBILE_PREFIXES = [str(p) for p in (*range(130, 140), 150, 151, 152, 153, 155, 156, 157, 158, 159,
                                      *range(180, 190))]


def _generate(n: int) -> list[list[str]]:
    from louzhang.demo.city import make_id_number

    rng = random.Random(7)
    rows = []
    used: set[str] = set()
    for i in range(n):
        born = date(1930, 1, 1) + timedelta(days=rng.randrange(30000))
        while True:
            number = make_id_number(rng.choice(["150202", "150207", "152722", "420106"]), born, rng.randrange(1000))
            if number not in used:
                used.add(number)
                break
        gender = "男" if int(number[16]) % 2 else "女"
        phone = f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"
        address = f"{rng.randrange(1, 2001)}号楼{rng.randrange(1, 4)}单元{rng.randrange(1, 19)}0{rng.randrange(1, 5)}"
        row = [f"居民{i}", gender, number, phone, "保利百合", address, rng.choice(["常住", "暂住", "租户"])]
        if i % 100 == 99:  # 1 % bad rows, of four kinds
            kind = (i // 100) % 4
            if kind == 0:
                row[2] = number[:17] + ("0" if number[17] != "0" else "1")
            elif kind == 1:
                row[2] = f"{int(number[:17]) / 10**16:.5f}E+17"
            elif kind == 2:
                row[3] = "12345"
            else:
                row[5] = "楼下车库"
        rows.append(row)
    return rows


def _raw_insert(connection, path: Path) -> float:  # type: ignore[no-untyped-def]
    """The same valid rows, already clean, straight into a copy of the table."""
    from louzhang.registry.models import Resident

    residents = list(Resident.objects.filter(name__startswith="居民").values_list(
        "name", "gender", "birth_date", "id_number", "phone", "household_id", "residency"))
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_raw_resident")
        cursor.execute("CREATE TABLE bench_raw_resident AS SELECT * FROM registry_resident WHERE 1 = 0")
    sql = ("INSERT INTO bench_raw_resident (id, name, gender, birth_date, id_number, phone, household_id,"
           " residency, is_head, note, created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)")
    from django.db import transaction
    from django.utils import timezone

    now = timezone.now()
    t = time.perf_counter()
    for start in range(0, len(residents), 2000):
        chunk = residents[start:start + 2000]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, [(start + i, *r, False, "", now, now) for i, r in enumerate(chunk)])
    return len(residents) / (time.perf_counter() - t)


if __name__ == "__main__":
    main()
