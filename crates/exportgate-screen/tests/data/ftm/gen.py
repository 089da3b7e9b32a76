#!/usr/bin/env python3
"""Writes the FollowTheMoney fixtures beside this script from real rows of ../shared/data.

    python3 crates/exportgate-screen/tests/data/ftm/gen.py

`entities.ftm.json` is the flat line format of OpenSanctions' `entities.ftm.json` export
(property values are strings; `Address` and `Sanction` are entities of their own, and a
non-target party is included, as in the full export). `targets.nested.json` is the nested
line format of `targets.nested.json` (addresses and sanctions nested in the party). The
names, aliases, countries, dates and citations are copied from the 2026-07-31 CSL and the
PRC lists; ids and dataset names follow OpenSanctions' conventions but are made up here.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "../../../../../../shared/data/lists")

csl = json.load(open(os.path.join(DATA, "csl_2026-07-31/screening-list.json")))
sources = csl["tables"]["sources"]
cn = json.load(open(os.path.join(DATA, "other_countries/cn_entity_lists.json")))


def csl_entry(pred):
    return next(e for e in csl["entries"] if pred(e))


picked = [
    ("us_trade_csl", csl_entry(lambda e: e["n"] == "Huawei Technologies Co., Ltd. (Huawei)")),
    ("us_trade_csl", csl_entry(lambda e: e["n"] == "Cambricon Technologies Corporation Limited")),
    ("us_trade_csl", csl_entry(lambda e: e["n"].startswith("Sophgo Technologies Ltd"))),
    ("us_ofac_sdn", csl_entry(lambda e: e["n"] == "Edwina Lau")),
]
flat, nested = [], []
SEEN = "2026-07-31T13:15:00"
for n, (ds, e) in enumerate(picked, 1):
    schema = "Person" if e.get("t") == "Individual" else "Company"
    eid = f"fx-{ds}-{n}"
    props = {"name": [e["n"]], "alias": e.get("a", []), "country": [c.lower() for c in e.get("c", [])]}
    src = sources[e["s"]]
    base = {"id": eid, "caption": e["n"], "schema": schema, "datasets": [ds], "referents": [],
            "target": True, "first_seen": SEEN, "last_seen": SEEN, "last_change": SEEN}
    sanction = {"id": f"{eid}-sanction", "schema": "Sanction", "caption": src,
                "properties": {"entity": [eid], "authority": [src], "program": [src],
                               "reason": [e.get("fr", "")]}}
    flat.append(dict(base, properties=dict(props)))
    flat.append(dict(sanction, datasets=[ds], target=False))
    nested.append(dict(base, properties=dict(props, sanctions=[sanction])))

# PRC Unreliable Entity List rows: an English name and its Chinese-script name.
for n, r in enumerate([r for r in cn if r["list_id"] == "cn-unreliable-entity-list"][:2], 1):
    eid = f"fx-cn-uel-{n}"
    props = {"name": [r["entity_name"]] + r["aliases"], "country": ["us"], "program": [r["source_list_name"]]}
    base = {"id": eid, "caption": r["entity_name"], "schema": "Company", "datasets": ["cn_mofcom_unreliable"],
            "referents": [r["id"]], "target": True, "first_seen": r["date_added"] + "T00:00:00",
            "last_seen": r["last_verified"] + "T00:00:00", "last_change": r["date_added"] + "T00:00:00"}
    addr = {"id": f"{eid}-addr", "schema": "Address", "caption": "United States",
            "properties": {"full": ["United States"], "country": ["us"]}}
    sanction = {"id": f"{eid}-sanction", "schema": "Sanction", "caption": r["source_list_name"],
                "properties": {"entity": [eid], "startDate": [r["date_added"]]}}
    flat.append(dict(base, properties=dict(props, addressEntity=[addr["id"]])))
    flat.append(dict(addr, datasets=base["datasets"], target=False))
    nested.append(dict(base, properties=dict(props, addressEntity=[addr], sanctions=[sanction])))

# A non-target party (an owner, as the full export carries): not screened against.
flat.append({"id": "fx-owner-1", "caption": "Ren Zhengfei", "schema": "Person", "datasets": ["us_trade_csl"],
             "target": False, "properties": {"name": ["Ren Zhengfei", "任正非"], "country": ["cn"]},
             "last_change": SEEN})

for name, rows in [("entities.ftm.json", flat), ("targets.nested.json", nested)]:
    with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")
