"""Builds the packaged code lists from the IATI 2.03 XML code lists.

Run `python -m backend.codes.importer ../shared/standards/iati-2.03/codelists` after the
standards are updated; a test checks the packaged files still match the standards.
"""

import json
import sys
from pathlib import Path
from xml.etree import ElementTree

from backend.codes import LISTS


def read_codelist(path: Path) -> dict[str, str]:
    root = ElementTree.parse(path).getroot()
    codes: dict[str, str] = {}
    for item in root.iter("codelist-item"):
        if item.get("status") == "withdrawn":
            continue
        code = (item.findtext("code") or "").strip()
        codes[code] = (item.findtext("name/narrative") or "").strip()
    return codes


def build(source: Path, target: Path) -> None:
    for list_name, iati_name in LISTS.items():
        codes = read_codelist(source / f"{iati_name}.xml")
        text = json.dumps(codes, ensure_ascii=False, indent=1, sort_keys=False)
        (target / f"{list_name}.json").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    build(Path(sys.argv[1]), Path(__file__).parent)
