"""Rendering Open311 documents as XML (declared UTF-8, always well-formed) or JSON.

JSON is the XML with the root dropped: list documents become top-level arrays, single documents objects.
"""

from __future__ import annotations

import json
import re
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from fastapi import Response

FORMATS = ("xml", "json")
XML_TYPE = "text/xml; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"

# The element name of one item inside a list-valued element.
LIST_ITEMS: dict[str, str] = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "notes": "note",
    "photos": "photo",
    "service_requests": "request",
    "errors": "error",
    "service_request_updates": "request_update",
}

# Characters XML 1.0 forbids even when escaped.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return _INVALID_XML.sub("", str(value))


def _fill(el: Element, value: Any, tag: str) -> None:
    if isinstance(value, dict):
        for key, v in value.items():
            _fill(SubElement(el, key), v, key)
    elif isinstance(value, list):
        item = LIST_ITEMS.get(tag, "item")
        for v in value:
            _fill(SubElement(el, item), v, item)
    elif value is not None:
        el.text = _text(value)


def xml_bytes(root: str, value: Any) -> bytes:
    el = Element(root)
    _fill(el, value, root)
    body = tostring(el, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode("utf-8", "replace")


def _clean_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_json(v) for v in value]
    return value


def document(fmt: str, root: str, value: Any, status: int = 200) -> Response:
    """``root`` names the XML root (``services``, ``service_requests``, ``service_definition`` …)."""
    if fmt == "json":
        body = json.dumps(_clean_json(value), ensure_ascii=False, separators=(",", ":"))
        return Response(body.encode("utf-8"), status_code=status, media_type=JSON_TYPE)
    return Response(xml_bytes(root, value), status_code=status, media_type=XML_TYPE)


def errors_document(fmt: str, items: list[tuple[int, str]], status: int) -> Response:
    return document(fmt, "errors", [{"code": code, "description": text} for code, text in items], status)


def format_of_path(path: str) -> str:
    return "json" if path.rstrip("/").endswith(".json") else "xml"
