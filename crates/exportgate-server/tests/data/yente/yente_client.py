#!/usr/bin/env python3
"""Validates exportgate's answers with yente's own response models.

    python3 yente_client.py DIR

DIR holds `match_*.json` (bodies of POST /match) and `search_*.json` (bodies of GET /search)
written by the server's `yente` test. Needs `pip install yente` (its models are
`yente.data.common.EntityMatchResponse` and `SearchResponse`). Prints one line per file and
exits 1 if any is rejected.
"""
import json
import pathlib
import sys

from yente.data.common import EntityMatchQuery, EntityMatchResponse, SearchResponse

here = pathlib.Path(__file__).parent
for req in sorted(here.glob("match_request_*.json")):
    EntityMatchQuery.model_validate(json.loads(req.read_text()))
    print(f"request ok: {req.name}")

failed = 0
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.json")):
    body = json.loads(path.read_text())
    model = EntityMatchResponse if path.name.startswith("match_") else SearchResponse
    try:
        parsed = model.model_validate(body)
    except Exception as exc:  # noqa: BLE001 - report every rejection
        failed += 1
        print(f"REJECTED {path.name}: {exc}")
        continue
    if model is EntityMatchResponse:
        n = sum(len(r.results) for r in parsed.responses.values())
        print(f"ok {path.name}: {len(parsed.responses)} responses, {n} results")
    else:
        print(f"ok {path.name}: {len(parsed.results)} results")
sys.exit(1 if failed else 0)
