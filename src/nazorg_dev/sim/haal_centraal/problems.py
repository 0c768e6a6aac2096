"""Responses, and errors as ``application/problem+json`` that never echo a value.

Why: a client must be tested against the errors the real APIs send (status,
``code``, ``invalidParams``), and the privacy rule says a problem names the
faulty parameter but never repeats what was sent. Most problem texts come
from the examples in the vendored specifications (:mod:`.spec`); this module
holds the few the specifications do not describe.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

JSON_CONTENT_TYPE: Final = "application/json; charset=utf-8"
PROBLEM_CONTENT_TYPE: Final = "application/problem+json"


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    hang: bool = False  # the "timeout" fault: answer nothing, then drop the connection


@dataclass(frozen=True, slots=True)
class Problem:
    """The fixed part of a problem+json body for one status."""

    type: str
    title: str
    detail: str
    code: str


@dataclass(frozen=True, slots=True)
class InvalidParam:
    """One entry of ``invalidParams``; never carries the offending value."""

    name: str
    code: str
    reason: str

    def as_json(self) -> dict[str, str]:
        return {
            "type": f"https://www.vng.nl/realisatie/api/validaties/{self.code}",
            "name": self.name,
            "code": self.code,
            "reason": self.reason,
        }


_RFC7231: Final = "https://datatracker.ietf.org/doc/html/rfc7231#section-6.5."
# Not in the specifications: 404, 405 and 413 are gateway answers, and the
# specs' 400 example is the paramsRequired case, whereas the live APIs answer a
# failed validation with paramsValidation.
OWN_PROBLEMS: Final[Mapping[int, Problem]] = {
    400: Problem(
        _RFC7231 + "1",
        "Een of meerdere parameters zijn niet correct.",
        "De foutieve parameter(s) zijn niet correct.",
        "paramsValidation",
    ),
    404: Problem(
        _RFC7231 + "4",
        "Opgevraagde resource bestaat niet.",
        "The server has not found anything matching the Request-URI.",
        "notFound",
    ),
    405: Problem(
        _RFC7231 + "5",
        "Gebruikte methode is niet toegestaan.",
        "Only POST is supported on this resource.",
        "methodNotAllowed",
    ),
    413: Problem(
        _RFC7231 + "11",
        "Request te groot.",
        "The request body is larger than the server is willing to process.",
        "payloadTooLarge",
    ),
}


def json_bytes(payload: object) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def problem(
    status: int,
    instance: str,
    *,
    problems: Mapping[int, Problem] = OWN_PROBLEMS,
    invalid: Sequence[InvalidParam] = (),
    headers: tuple[tuple[str, str], ...] = (),
) -> Response:
    """A problem+json response; ``invalid`` lists the faulty parameters by name only."""
    fixed = problems[status]
    detail = fixed.detail
    if invalid:
        names = ", ".join(dict.fromkeys(p.name.split("[")[0] for p in invalid))
        detail = f"De foutieve parameter(s) zijn: {names}."
    body: dict[str, Any] = {
        "type": fixed.type,
        "title": fixed.title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "code": fixed.code,
    }
    if invalid:
        body["invalidParams"] = [p.as_json() for p in invalid]
    return Response(status, json_bytes(body), PROBLEM_CONTENT_TYPE, headers)


def ok(payload: object) -> Response:
    return Response(200, json_bytes(payload), JSON_CONTENT_TYPE)
