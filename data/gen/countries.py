#!/usr/bin/env python3
"""Generate data/countries.json: ISO 3166-1 countries + dated EAR Country Group history.

Usage (from the repo root):
    pip install pycountry            # tested with pycountry 26.2.16
    python3 data/gen/countries.py [--extract PATH] [--out PATH]

Inputs:
  * pycountry (ISO 3166-1, all 249 alpha-2 codes)
  * the eCFR extract of 15 CFR 740 Supp. No. 1 (default
    ../shared/data/reference/ear/country-groups.json beside the repository, issue date 2026-07-23)
  * HISTORY / PRE_WINDOW below: the hand-researched change table (see data/COUNTRIES.md)

Output is deterministic: sorted keys, 2-space indent, UTF-8, trailing newline.
The script validates its own output and exits non-zero on any failure.
"""
import argparse
import datetime as dt
import json
import re
import sys
from pathlib import Path

import pycountry

HERE = Path(__file__).resolve().parent
# `shared/` sits beside the repository (repo/data/gen/countries.py -> repo/../shared).
DEFAULT_EXTRACT = HERE.parent.parent.parent / "shared/data/reference/ear/country-groups.json"
DEFAULT_OUT = HERE.parent / "countries.json"
AS_OF = "2026-07-23"
WINDOW_START = "2022-10-01"
GROUPS = ["A:5", "A:6", "D:1", "D:4", "D:5", "E:1", "E:2"]
TITLES = {
    "A:5": "Strategic Trade Authorization (STA) full-eligibility destinations",
    "A:6": "Strategic Trade Authorization (STA) limited-eligibility destinations",
    "D:1": "National Security",
    "D:4": "Missile Technology",
    "D:5": "U.S. Arms Embargoed Countries",
    "E:1": "Terrorist Supporting Countries",
    "E:2": "Unilateral Embargo",
}

# ---------------------------------------------------------------- names
# eCFR (Supp. No. 1 to part 740) spellings that pycountry.lookup cannot resolve.
EAR_NAME_TO_CODE = {
    "Bosnia & Herzegovina": "BA", "Brunei": "BN", "Burma": "MM", "Cape Verde": "CV",
    "China (PRC)": "CN", "Congo (Democratic Republic of the)": "CD",
    "Congo (Democratic Republic of)": "CD", "Congo (Republic of the)": "CG",
    "Cote d'lvoire": "CI", "Curaçao": "CW", "Czech Republic": "CZ", "Gambia, The": "GM",
    "Korea, North": "KP", "Korea, South": "KR", "Macau": "MO", "Russia": "RU",
    "Saint Kitts & Nevis": "KN", "Sao Tome & Principe": "ST",
    "Sint Maarten (the Dutch two-fifths of the island of Saint Martin)": "SX",
    "South Sudan, Republic of": "SS", "The Bahamas": "BS", "Trinidad & Tobago": "TT",
    "Türkiye": "TR", "Vatican City": "VA", "Micronesia, Federated States of": "FM",
    "United States": "US", "United Kingdom": "GB", "Vietnam": "VN", "Laos": "LA",
    "Moldova": "MD", "Iran": "IR", "Syria": "SY", "Taiwan": "TW", "Tanzania": "TZ",
    "Venezuela": "VE", "Bolivia": "BO", "Eswatini": "SZ", "North Macedonia": "MK",
}
# Names in the extract that have no ISO 3166-1 code (reported, not mapped).
EAR_NAMES_WITHOUT_ISO = {"Kosovo"}

EXTRA_ALIASES = {
    "AE": ["UAE", "U.A.E.", "Emirates"],
    "BA": ["Bosnia and Herzegovina", "Bosnia & Herzegovina"],
    "BN": ["Brunei"],
    "BS": ["Bahamas", "The Bahamas"],
    "CD": ["DRC", "DR Congo", "Congo-Kinshasa", "Democratic Republic of the Congo",
           "Congo (Democratic Republic of)", "Congo (Democratic Republic of the)"],
    "CG": ["Republic of the Congo", "Congo-Brazzaville", "Congo (Republic of the)"],
    "CI": ["Cote d'Ivoire", "Ivory Coast"],
    "CN": ["China (PRC)", "PRC", "People's Republic of China", "China (People's Republic of)",
           "Mainland China"],
    "CV": ["Cape Verde"],
    "CW": ["Curacao"],
    "CZ": ["Czech Republic"],
    "GB": ["UK", "U.K.", "Great Britain", "Britain"],
    "HK": ["Hong Kong SAR", "HKSAR", "Hong Kong, China"],
    "KP": ["North Korea", "Korea, North", "DPRK", "Democratic People's Republic of Korea",
           "Korea (Democratic People's Republic of)"],
    "KR": ["South Korea", "Korea, South", "Republic of Korea", "Korea (Republic of)", "ROK"],
    "LA": ["Laos"],
    "MK": ["Macedonia"],
    "MM": ["Burma", "Myanmar"],
    "MO": ["Macau", "Macao SAR", "Macau SAR", "Macao, China"],
    "PS": ["Palestine", "West Bank", "Gaza"],
    "RU": ["Russia"],
    "SS": ["South Sudan, Republic of"],
    "SZ": ["Swaziland"],
    "TL": ["East Timor"],
    "TR": ["Türkiye", "Turkey", "Turkiye", "Republic of Türkiye"],
    "TW": ["Republic of China", "Chinese Taipei"],
    "US": ["USA", "U.S.", "U.S.A.", "United States of America"],
    "VA": ["Vatican City", "Vatican", "Holy See"],
    "VN": ["Vietnam", "Viet Nam"],
}

# ---------------------------------------------------------------- sources
SOURCES = [
    ("ecfr-2026-07-23", "15 CFR part 740, Supp. No. 1 (eCFR 2026-07-23)"),
    ("fr-2026-14132", "91 FR 43034 (FR Doc. 2026-14132; RIN 0694-AK54), 'Enhanced Favorable Treatment for the United Arab Emirates Under the Export Administration Regulations', published 2026-07-14, effective 2026-07-10"),
    ("fr-2026-02262", "FR Doc. 2026-02262 (RIN 0694-AK41; Docket 260127-0035), 'Conforming Change to the Export Administration Regulations for Cambodia', published and effective 2026-02-03 (91 FR page not found)"),
    ("itar-2025-11-07-cambodia", "Dept. of State final rule 'International Traffic in Arms Regulations: Changes to Section 126.1' removing Cambodia from 22 CFR 126.1, effective 2025-11-07 (FR page not found)"),
    ("fr-2025-16724", "FR Doc. 2025-16724, 'Relaxing Export Controls for Syria', effective 2025-09-02 (no Country Group change)"),
    ("fr-2024-10280", "89 FR 40369 (FR Doc. 2024-10280; RIN 0694-AJ65), 'Conforming and Clarifying Changes to the EAR', published 2024-05-10, effective 2024-05-30"),
    ("fr-2024-05696", "89 FR 18780 (FR Doc. 2024-05696; RIN 0694-AJ34), 'Revisions to Export, Reexport, and Transfer (In-Country) Controls for Nicaragua Under the EAR', effective 2024-03-15"),
    ("fr-2024-05695", "89 FR 18796 (FR Doc. 2024-05695), ITAR: Addition to List of Proscribed Countries (Nicaragua), effective 2024-03-15"),
    ("fr-2021-26633", "86 FR 70015 (FR Doc. 2021-26633), 'Revision of Controls for Cambodia Under the EAR', effective 2021-12-09"),
    ("fr-2021-23450", "86 FR 60165 (FR Doc. 2021-23450), ITAR: Addition of Ethiopia and Amendment to Eritrea Country Policy, effective 2021-11-01"),
    ("fr-2020-26552", "85 FR 84211 (FR Doc. 2020-26552), 'Amendment to Country Groups for Ukraine, Mexico, and Cyprus Under the EAR', effective 2020-12-28"),
    ("fr-2020-hk", "85 FR 83765 (23 Dec 2020), removal of Hong Kong as a separate destination under the EAR"),
    ("fr-2020-02941", "85 FR 10274 (FR Doc. 2020-02941), 'Amendments to Country Groups for Russia and Yemen Under the EAR', effective 2020-02-24"),
    ("fr-2019-11034", "84 FR 24018 (FR Doc. 2019-11034), 'Revisions to Country Group Designations for Venezuela', effective 2019-05-24"),
    ("fr-2022-04819", "87 FR 13048 (FR Doc. 2022-04819), 'Imposition of Sanctions Against Belarus Under the EAR', effective 2022-03-02"),
    ("regs-md", "shared/reference/regulations.md sections 0 and 3 (project research note)"),
]

DEFAULT_NOTE = ("Membership at 2026-07-23 read in the eCFR extract (P). No rule adding or removing this "
                "country from this group between 2022-10-01 and 2026-07-23 was found; continuity back to "
                "2022-10-01 is derived (no 2022 eCFR snapshot was read).")

# ---------------------------------------------------------------- history
# Explicit intervals. For a (group, country) listed here, these intervals REPLACE the
# default "member since before the window" interval built from the extract.
HISTORY = {
    ("A:5", "AE"): [dict(frm="2026-07-10", to=None, confidence="P",
        source="fr-2026-14132 (91 FR 43034), effective 2026-07-10",
        note="BIS 'is removing the UAE from Country Groups D:3 and D:4 and adding the UAE to Country Group A:5' "
             "(FR abstract). Published 2026-07-14 with effective date 2026-07-10 (retroactive to signature). "
             "STA for the UAE is limited to the UAE Government and approved entities in Supp. No. 8 to part 740 "
             "(740.2(a)(26)); advanced-computing items keep a licence requirement except for the UAE Government, "
             "Supp. No. 8 entities (G42/Core42 authorisation reported to lapse 2027-04-06 absent notice) and listed "
             "US-headquartered firms' UAE subsidiaries [S for these details].")],
    ("D:4", "AE"): [dict(frm=None, to="2026-07-10", confidence="P",
        source="fr-2026-14132 (91 FR 43034), effective 2026-07-10",
        note="Removed from D:3 and D:4 by the same rule that added the UAE to A:5. Pre-removal membership "
             "corroborated by 2023 company filings/press naming the UAE among D:1/D:4-not-A:5/A:6 destinations "
             "caught by the Oct 2023 advanced-computing rule [S].")],
    ("D:5", "KH"): [dict(frm=None, to="2025-11-07", confidence="S",
        source="itar-2025-11-07-cambodia, effective 2025-11-07, controlling under the Note to D:5 (ecfr-2026-07-23); "
               "table conformed by fr-2026-02262 effective 2026-02-03; added by fr-2021-26633 (86 FR 70015) effective 2021-12-09",
        note="The Note to Country Group D:5 (Supp. No. 1 to part 740) makes the State Department's list of arms-embargoed "
             "countries controlling where it differs from the table. State removed Cambodia from ITAR 126.1 by a final rule "
             "effective 2025-11-07 (Crowell & Moring, 12 Nov 2025: DDTC 'will publish on November 7, 2025, a final rule ... to "
             "remove Cambodia'; Export Compliance Daily, 7 Nov 2025: 'effective Nov. 7'; Fenwick: State's removal was "
             "'effectively removing it from Country Group D:5'); the rule's FR page was not found, so the date is S. "
             "BIS conformed the table on 2026-02-03 (FR Doc. 2026-02262). Before issue 13 item 7 the file used 2026-02-03. "
             "Cambodia stays in D:1.")],
    ("D:5", "CY"): [dict(frm=None, to="2024-05-30", confidence="P",
        source="fr-2024-10280 (89 FR 40369), effective 2024-05-30",
        note="Rule makes 'a conforming change to reflect that Cyprus is no longer a Country Group D:5 country'. "
             "State has suspended the ITAR 126.1 policy of denial for Cyprus year by year since FY2023 "
             "(from 2022-10-01; partial waiver since 2020); whether Cyprus counted as D:5 under the Note to D:5 "
             "between 2022-10-01 and 2024-05-29 is not settled here. The table listed Cyprus in D:5 until 2024-05-30.")],
    ("D:1", "NI"): [dict(frm="2024-03-15", to=None, confidence="S",
        source="fr-2024-05696 (89 FR 18780), effective 2024-03-15",
        note="Moved from Country Group B to D:1 (law-firm alerts: Wiley, Sandler Travis, globaltradeandsanctionslaw); "
             "FR summary read only for the D:5 part. Consistent with the 2026 extract.")],
    ("D:5", "NI"): [dict(frm="2024-03-15", to=None, confidence="P",
        source="fr-2024-05696 (89 FR 18780), effective 2024-03-15; ITAR fr-2024-05695 same day",
        note="'To reflect this changed status under the ITAR, BIS adds Nicaragua to Country Group D:5' (FR summary).")],
    ("D:4", "BY"): [dict(frm=None, to=None, confidence="U", source="ecfr-2026-07-23",
        note="Belarus is in D:4 in the 2026-07-23 extract, but the date it was added was NOT found. It is absent "
             "from the D:4 list in regulations.md (itself [U]); the 2022-03-02 Belarus rule (87 FR 13048) removed "
             "Belarus from A:4 and its abstract does not mention D:4. Belarus may have joined D:4 before or after "
             "2022-10-01 - 'from: null' here is a placeholder, not a finding.")],
}

# Pre-window evidence for default intervals: (group, country) -> (confidence, source, note)
PRE_WINDOW = {
    ("D:1", "VE"): ("P", "fr-2019-11034 (84 FR 24018), effective 2019-05-24",
                    "Moved from B to D:1 in 2019 (FR summary read); still listed 2026-07-23."),
    ("D:4", "VE"): ("P", "fr-2019-11034 (84 FR 24018), effective 2019-05-24",
                    "Added to D:2-D:4 in 2019 (FR summary read); still listed 2026-07-23."),
    ("D:4", "RU"): ("S", "fr-2020-02941 (85 FR 10274), effective 2020-02-24",
                    "Added to D:2 and D:4 in 2020 (trade press summaries of the rule); still listed 2026-07-23."),
    ("D:1", "YE"): ("S", "fr-2020-02941 (85 FR 10274), effective 2020-02-24",
                    "Moved from B to D:1 in 2020 (trade press); still listed 2026-07-23."),
    ("A:6", "CY"): ("S", "fr-2020-26552 (85 FR 84211), effective 2020-12-28",
                    "Added to A:6 in Dec 2020 (law-firm alerts) while still in D:5; left D:5 2024-05-30. In A:6 on 2026-07-23."),
    ("A:6", "MX"): ("S", "fr-2020-26552 (85 FR 84211), effective 2020-12-28",
                    "Added to A:6 in Dec 2020 (law-firm alerts); still listed 2026-07-23."),
    ("D:5", "ER"): ("S", "ecfr-2026-07-23; Baker McKenzie alert on fr-2021-23450 (Nov 2021): 'Eritrea is already in Country Group D:5'",
                    "Member before the window; still listed 2026-07-23."),
    ("D:5", "SY"): ("D", "ecfr-2026-07-23; fr-2025-16724",
                    "The 2025-09-02 Syria rule relaxed licence policy and added License Exception SPP but did not "
                    "change Syria's Country Groups (Covington, Sidley). Still D:5 on 2026-07-23."),
    ("E:1", "SY"): ("D", "ecfr-2026-07-23; fr-2025-16724",
                    "The 2025-09-02 Syria rule did not remove Syria from E:1 (Covington: 'does not ... remove Syria "
                    "from the list of terrorist supporting countries'). Still E:1 on 2026-07-23; no later removal found."),
    ("D:1", "KH"): ("S", "ecfr-2026-07-23; fr-2021-26633; fr-2026-02262",
                    "Already D:1 before the 2021 arms-embargo rule (which listed only D:5 among its Country Group "
                    "changes); press on the 2026 rule: Cambodia 'retains its D:1 designation'."),
    ("D:1", "MO"): ("D", "ecfr-2026-07-23", "Macau is in D:1 and D:4 but NOT in D:5; the advanced-computing rules "
                    "name 'Macau or a destination specified in Country Group D:5' explicitly."),
    ("D:4", "MO"): ("D", "ecfr-2026-07-23", "Macau is in D:1 and D:4 but NOT in D:5."),
    ("D:4", "IL"): ("D", "ecfr-2026-07-23", "Israel is in both D:4 and A:6; the D:1/D:4-not-A:5/A:6 test therefore "
                    "exempts it from the advanced-computing destination licence requirement. " + DEFAULT_NOTE),
    ("A:6", "IL"): ("D", "ecfr-2026-07-23", "Israel is in both A:6 and D:4. " + DEFAULT_NOTE),
}


def iso_date(s):
    return None if s is None else dt.date.fromisoformat(s)


def country_name(c):
    return getattr(c, "common_name", None) or c.name


def ear_name_to_code(name):
    if name in EAR_NAME_TO_CODE:
        return EAR_NAME_TO_CODE[name]
    try:
        return pycountry.countries.lookup(name).alpha_2
    except LookupError:
        return None


def build(extract):
    # --- countries
    ear_names_by_code = {}
    unmapped = []
    all_names = set()
    for members in extract["groups"].values():
        all_names.update(members)
    for part in extract.get("byCountry", {}).values():
        all_names.update(part.keys())
    for n in sorted(all_names):
        code = ear_name_to_code(n)
        if code is None:
            if n not in EAR_NAMES_WITHOUT_ISO:
                unmapped.append(n)
            continue
        ear_names_by_code.setdefault(code, set()).add(n)
    if unmapped:
        raise SystemExit(f"unmapped eCFR names: {unmapped}")

    countries = []
    for c in sorted(pycountry.countries, key=lambda c: c.alpha_2):
        name = country_name(c)
        aliases = set()
        for attr in ("name", "official_name", "common_name"):
            v = getattr(c, attr, None)
            if v:
                aliases.add(v)
        aliases |= ear_names_by_code.get(c.alpha_2, set())
        aliases |= set(EXTRA_ALIASES.get(c.alpha_2, []))
        aliases.discard(name)
        entry = {"code": c.alpha_2, "name": name, "aliases": sorted(aliases)}
        if c.alpha_2 == "HK":
            # EAR: not a separate destination since 85 FR 83765 (Dec 2020); see COUNTRIES.md.
            # Only code/name/aliases/treat_as are allowed here (the engine denies unknown fields).
            entry["treat_as"] = "CN"
        countries.append(entry)

    # --- groups
    groups = {}
    for g in GROUPS:
        current = set()
        for n in extract["groups"][g]:
            code = ear_name_to_code(n)
            if code is None:
                raise SystemExit(f"{g}: member {n!r} has no ISO code")
            current.add(code)
        members = []
        history_codes = {c for (hg, c) in HISTORY if hg == g}
        for code in sorted(current - history_codes):
            conf, src, note = PRE_WINDOW.get((g, code), ("D", "ecfr-2026-07-23", DEFAULT_NOTE))
            members.append({"country": code, "from": None, "to": None,
                            "confidence": conf, "source": src, "note": note})
        for (hg, code), ivs in HISTORY.items():
            if hg != g:
                continue
            for iv in ivs:
                members.append({"country": code, "from": iv["frm"], "to": iv["to"],
                                "confidence": iv["confidence"], "source": iv["source"],
                                "note": iv["note"]})
        members.sort(key=lambda m: (m["country"], m["from"] or ""))
        groups[g] = {"title": TITLES[g], "citation": "15 CFR part 740, Supp. No. 1", "members": members}

    return {
        "version": 1,
        "as_of_extract": AS_OF,
        "sources": [{"id": i, "citation": c} for i, c in SOURCES],
        "countries": countries,
        "groups": groups,
    }


def members_on(group, day):
    d = dt.date.fromisoformat(day)
    out = set()
    for m in group["members"]:
        f, t = iso_date(m["from"]), iso_date(m["to"])
        if (f is None or f <= d) and (t is None or d < t):
            out.add(m["country"])
    return out


def validate(doc, extract):
    errors = []
    codes = {c["code"] for c in doc["countries"]}
    if len(codes) != 249 or len(doc["countries"]) != 249:
        errors.append(f"expected 249 unique countries, got {len(codes)}/{len(doc['countries'])}")
    for c in doc["countries"]:
        extra = set(c) - {"code", "name", "aliases", "treat_as"}
        if extra:
            errors.append(f"{c['code']}: unexpected keys {sorted(extra)}")
        if "treat_as" in c and c["treat_as"] not in codes:
            errors.append(f"{c['code']}: treat_as {c['treat_as']} unknown")
    src_ids = {s["id"] for s in doc["sources"]}
    for g, grp in doc["groups"].items():
        by_country = {}
        for m in grp["members"]:
            if m["country"] not in codes:
                errors.append(f"{g}: unknown code {m['country']}")
            if m["confidence"] not in {"P", "S", "D", "U"}:
                errors.append(f"{g}/{m['country']}: bad confidence {m['confidence']}")
            if re.split(r"[ ;,]", m["source"])[0] not in src_ids:
                errors.append(f"{g}/{m['country']}: source does not start with a known id: {m['source']}")
            try:
                f, t = iso_date(m["from"]), iso_date(m["to"])
            except ValueError as e:
                errors.append(f"{g}/{m['country']}: bad date {e}")
                continue
            if f and t and not f < t:
                errors.append(f"{g}/{m['country']}: from >= to")
            if f and f < dt.date.fromisoformat(WINDOW_START):
                errors.append(f"{g}/{m['country']}: from before window start should be null")
            by_country.setdefault(m["country"], []).append((f or dt.date.min, t or dt.date.max))
        for code, ivs in by_country.items():
            ivs.sort()
            for (f1, t1), (f2, t2) in zip(ivs, ivs[1:]):
                if f2 < t1:
                    errors.append(f"{g}/{code}: overlapping intervals")
        want = {ear_name_to_code(n) for n in extract["groups"][g]}
        got = members_on(grp, AS_OF)
        if want != got:
            errors.append(f"{g}: {AS_OF} membership differs from extract: +{sorted(got - want)} -{sorted(want - got)}")
    if "MO" in members_on(doc["groups"]["D:5"], AS_OF):
        errors.append("MO must not be in D:5")
    return errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--extract", type=Path, default=DEFAULT_EXTRACT)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()
    extract = json.loads(args.extract.read_text(encoding="utf-8"))
    if extract.get("ecfrIssueDate") != AS_OF:
        raise SystemExit(f"extract issue date {extract.get('ecfrIssueDate')} != {AS_OF}")
    doc = build(extract)
    errors = validate(doc, extract)
    if errors:
        print("\n".join(errors), file=sys.stderr)
        raise SystemExit(1)
    args.out.write_text(json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: {len(doc['countries'])} countries, "
          + ", ".join(f"{g}={len(doc['groups'][g]['members'])}" for g in GROUPS), file=sys.stderr)


if __name__ == "__main__":
    main()
