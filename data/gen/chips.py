#!/usr/bin/env python3
"""Generate data/chips.json (the chip catalog) from ../shared/reference/chips.csv.

Run from the repository root:  python3 data/gen/chips.py ../shared/reference/chips.csv > data/chips.json

Only facts in the CSV are carried over. The few things the CSV does not state as columns
(a catalog id, the designer's country, whether the process is non-planar, and the split of
the Cambricon card into its two ICs) are set in the tables below, each with its reason.
"""
import csv
import json
import re
import sys

# CSV row (model, variant prefix) -> catalog id, in CSV order.
IDS = [
    ("A100", "nvidia-a100"), ("A800", "nvidia-a800"),
    ("H100|SXM5", "nvidia-h100-sxm"), ("H100|PCIe", "nvidia-h100-pcie"),
    ("H800", "nvidia-h800"), ("H20", "nvidia-h20"), ("H200", "nvidia-h200"),
    ("B100", "nvidia-b100"), ("B200", "nvidia-b200"), ("GB200 (per B200 GPU)", "nvidia-gb200"),
    ("B300 (Blackwell Ultra)", "nvidia-b300"), ("GB300 (per Blackwell Ultra GPU)", "nvidia-gb300"),
    ("B30A (reported)", "nvidia-b30a"), ("L40S", "nvidia-l40s"), ("L40 (extra test case)", "nvidia-l40"),
    ("L20", "nvidia-l20"), ("L2", "nvidia-l2"), ("GeForce RTX 4090", "nvidia-rtx-4090"),
    ("GeForce RTX 4090D", "nvidia-rtx-4090d"), ("GeForce RTX 5090", "nvidia-rtx-5090"),
    ("GeForce RTX 5090D", "nvidia-rtx-5090d"), ("GeForce RTX 5090D V2", "nvidia-rtx-5090d-v2"),
    ("RTX PRO 6000 Blackwell", "nvidia-rtx-pro-6000"), ("RTX PRO 6000D / 'B40' (reported)", "nvidia-rtx-pro-6000d"),
    ("Instinct MI250X", "amd-mi250x"), ("Instinct MI300X", "amd-mi300x"), ("Instinct MI308X", "amd-mi308x"),
    ("Instinct MI325X", "amd-mi325x"), ("Instinct MI355X", "amd-mi355x"),
    ("Gaudi 2", "intel-gaudi2"), ("Gaudi 3", "intel-gaudi3"),
    ("Ascend 910B", "huawei-ascend-910b"), ("Ascend 910C", "huawei-ascend-910c"), ("Ascend 910D", "huawei-ascend-910d"),
    ("Ascend 950PR", "huawei-ascend-950pr"), ("Ascend 950DT", "huawei-ascend-950dt"),
    ("MLU370-X8 (per card; 2 x Siyuan 370 chips)", "cambricon-mlu370-x8"), ("MLU590 (Siyuan 590)", "cambricon-mlu590"),
    ("TPU v5p", "google-tpu-v5p"), ("TPU v6e (Trillium)", "google-tpu-v6e"),
    ("HBM2 (reference)", "hbm2"), ("HBM2E", "hbm2e"), ("HBM3", "hbm3"), ("HBM3E", "hbm3e"),
]

DESIGNER_COUNTRY = {"NVIDIA": "US", "AMD": "US", "Intel (Habana)": "US", "Google": "US",
                    "Huawei (HiSilicon)": "CN", "Cambricon": "CN"}

# Catalog ICs the CSV gives no throughput figures for, and why (checked 2026-12-01 against
# shared/reference/chips.csv and chips.md; data/RULES.md, item 12). Every IC without figures
# must be named here: the catalog refuses an IC with neither figures nor a reason.
MISSING_FIGURES = {
    "nvidia-rtx-pro-6000d": (
        "NVIDIA has published no tensor throughput (AI TOPS) for the China RTX PRO 6000D ('B40'); "
        "only leaked core, clock and memory counts exist (chips.md, note on the RTX PRO 6000/6000D: "
        "'no published tensor throughput, so TPP is not computed'). Figures derived from leaked "
        "clocks would be guesses, so none are given: the item is indeterminate (3A090.a, 3A090.b or "
        "outside) and every order a rule could reach is held for review until published figures exist."),
    "huawei-ascend-910d": (
        "No credible public specifications (chips.md: '910D has no credible public specs but is named "
        "by BIS'). The BIS guidance of 13 May 2025 names it a PRC 3A090 IC, which the guidance regime "
        "applies by name; its own ECCN stays indeterminate."),
    "cambricon-mlu590": (
        "No reliable public specification was found (chips.md: 'No reliable MLU590 specifications were "
        "found'). The item is indeterminate and orders a rule could reach are held for review."),
}

PRECISIONS = [  # (csv column, spec precision)
    ("fp64_tflops", "fp64"), ("fp64_tensor_tflops", "fp64"), ("tf32_tflops", "tf32"),
    ("fp16_bf16_tflops", "fp16"), ("fp16_bf16_tflops", "bf16"), ("fp8_tflops", "fp8"),
    ("int8_tops", "int8"), ("fp6_tflops", "fp6"), ("fp4_tflops", "fp4"), ("int4_tops", "int4"),
]


def num(s):
    s = (s or "").strip()
    return float(s) if s else None


def clean(x):
    """Drop trailing .0 so integers stay integers in the JSON."""
    return int(x) if x is not None and float(x).is_integer() else x


def process_nm(node):
    """Smallest nanometre figure in the node name (TSMC 4N -> 4, N6 -> 6, 'N+1/N+2 (7nm-class)' -> 7)."""
    m = re.findall(r"(\d+)\s*(?:nm|N|NP|P)\b|\bN(\d+)", node or "")
    vals = [int(a or b) for a, b in m if (a or b)]
    return min(vals) if vals else None


def confidence(verification):
    v = (verification or "").strip()
    if v.startswith("U"):
        return "unverified"
    if v.startswith("E") or "/ E" in v:
        return "estimated"
    return "published"


def row_id(row):
    for key, ident in IDS:
        model, _, variant = key.partition("|")
        if row["model"] == model and row["variant"].startswith(variant):
            return ident
    raise SystemExit(f"no id for CSV row {row['model']!r} {row['variant']!r}")


def ic_spec(row, ident):
    tops = {}
    for col, prec in PRECISIONS:
        v = num(row[col])
        if v is not None:
            tops[prec] = clean(max(v, tops.get(prec, 0)))
    dc = row["datacenter_designed_or_marketed"].strip()
    node = process_nm(row["process_node"])
    spec = {
        "name": f"{row['vendor']} {row['model']} {row['variant']}".strip(),
        "kind": "ic",
        "datacenter": dc.startswith("Y"),
        "designer_country": DESIGNER_COUNTRY.get(row["vendor"]),
        "dense_tops": tops,
    }
    area = num(row["die_area_mm2"])
    if area is not None:
        spec["die_area_mm2"] = clean(area)
    if node is not None:
        spec["process_nm"] = node
        # FinFET (non-planar) for every node at 16 nm and below.
        spec["non_planar"] = node <= 16
    t = num(row["transistors_billion"])
    if t is not None:
        spec["transistors_billion"] = clean(t)
    bw = num(row["memory_bw_tbs"])
    if bw is not None:
        spec["memory_bandwidth_gbs"] = clean(round(bw * 1000, 3))
    c2c = num(row["chip_to_chip_gbs"])
    if c2c is not None:
        spec["interconnect_gbs"] = clean(c2c)
    if "HBM" in (row["memory_type"] or ""):
        spec["has_hbm"] = True
    elif row["memory_type"]:
        spec["has_hbm"] = False
    return {k: v for k, v in spec.items() if v is not None}


def entry(row):
    ident = row_id(row)
    meta = {
        "vendor": row["vendor"],
        "model": row["model"],
        "variant": row["variant"],
        "launch_year": row["launch_year"].strip() or None,
        "confidence": confidence(row["verification"]),
        "verification": row["verification"],
        "sources": [s.strip() for s in row["spec_sources"].split("|") if s.strip()],
        "public_classification": row["expected_classification_public"] or None,
        "public_classification_sources": [s.strip() for s in row["expected_classification_source"].split("|") if s.strip()],
        "notes": " ".join(x for x in [row["sparsity_note"], row["notes"]] if x).strip() or None,
    }
    if row["item_type"] == "hbm_stack":
        # The high bandwidth figure is used: it gives the higher density, so the HBM
        # exception (< 3.3 GB/s/mm2) is never granted on the strength of a slower bin.
        spec = {"name": f"{row['model']} stack", "kind": "hbm",
                "hbm_bandwidth_gbs": clean(num(row["hbm_stack_bw_gbs_high"])),
                "package_area_mm2": clean(num(row["hbm_footprint_mm2"]))}
        meta["notes"] = (f"Stack bandwidth {row['hbm_stack_bw_gbs_low']}-{row['hbm_stack_bw_gbs_high']} GB/s; "
                         f"footprint {row['hbm_footprint_mm2']} mm2 ({row['hbm_footprint_basis']}). "
                         + (row["notes"] or "")).strip()
    elif ident == "cambricon-mlu370-x8":
        # TPP is assessed per IC: the card carries two Siyuan 370 ICs, each half the card's peaks.
        half = ic_spec(row, ident)
        half["name"] = "Cambricon Siyuan 370 IC (half of an MLU370-X8 card)"
        half["dense_tops"] = {k: clean(v / 2) for k, v in half["dense_tops"].items()}
        half["memory_bandwidth_gbs"] = clean(half["memory_bandwidth_gbs"] / 2)
        spec = {"name": "Cambricon MLU370-X8 card (2 x Siyuan 370)", "kind": "computer",
                "datacenter": True, "ics": [{"spec": half, "count": 2}]}
    else:
        spec = ic_spec(row, ident)
        if not spec["dense_tops"]:
            if ident not in MISSING_FIGURES:
                raise SystemExit(f"{ident}: no throughput figures and no reason in MISSING_FIGURES")
            meta["missing_figures"] = MISSING_FIGURES[ident]
    return {"id": ident, "meta": {k: v for k, v in meta.items() if v not in (None, [])}, "spec": spec}


def main():
    rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
    entries = [entry(r) for r in rows]
    # A 4A090 example: an 8-GPU HGX H100 server, counted from its ICs.
    entries.append({
        "id": "nvidia-hgx-h100-8gpu",
        "meta": {"vendor": "NVIDIA", "model": "HGX H100 8-GPU server", "confidence": "published",
                 "sources": ["https://www.nvidia.com/en-us/data-center/hgx/"],
                 "notes": "A computer (4A090) carrying eight H100 SXM GPUs; classified from its ICs."},
        "spec": {"name": "NVIDIA HGX H100 8-GPU server", "kind": "computer", "datacenter": True,
                 "ics": [{"chip": "nvidia-h100-sxm", "count": 8}]},
    })
    out = {"version": 1, "source": "shared/reference/chips.csv (generated by data/gen/chips.py)", "chips": entries}
    json.dump(out, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
