"""Helpers shared by the Open311 tests: JSON Schema checks and XML parsing."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

SCHEMAS = Path(__file__).parent / "schemas"
BASE = "/open311/v2"


@cache
def _schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))


def check_schema(name: str, doc: Any) -> None:
    jsonschema.validate(doc, _schema(name), cls=jsonschema.Draft202012Validator)


def parse_xml(body: bytes) -> ET.Element:
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>'), body[:60]
    return ET.fromstring(body)


def errors_of(body: bytes) -> list[tuple[str, str]]:
    root = parse_xml(body)
    assert root.tag == "errors"
    return [(e.findtext("code") or "", e.findtext("description") or "") for e in root.findall("error")]
