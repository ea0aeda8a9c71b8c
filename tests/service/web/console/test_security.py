"""What uvicorn, started as ``techcredit serve`` starts it, believes about the caller: a
forwarded address from a proxy nobody configured never reaches the audit log."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest

from tests.service.web.console.conftest import Live

pytestmark = pytest.mark.e2e


def test_a_forged_forwarded_address_is_not_the_audited_source(live: Live) -> None:
    forged = urllib.request.Request(f"{live.url}/api/v1/warnings", headers={
        "Authorization": "Bearer tc_000000000000_forged", "X-Forwarded-For": "203.0.113.66",
        "X-Forwarded-Proto": "https"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(forged, timeout=10)
    assert refused.value.code == 401
    query = urlencode({"action": "read_warnings", "outcome": "unauthenticated", "limit": 500})
    audit = urllib.request.Request(f"{live.url}/api/v1/audit?{query}", headers={
        "Authorization": f"Bearer {live.tokens['auditor']}"})
    with urllib.request.urlopen(audit, timeout=10) as answer:
        items = json.load(answer)["items"]
    mine = [i for i in items if i["detail"].get("path") == "/api/v1/warnings"]
    assert mine and {i["source"] for i in mine} == {"127.0.0.1"}
