//! Classification tests: one named test per catalog chip, both sides of every threshold, the
//! catalog against the figures computed in `shared/reference/chips.csv`, and properties.

use chrono::NaiveDate;
use exportgate_core::{classify, Classification, Context, Eccn, ItemRef, Ruleset, Spec};
use proptest::prelude::*;

static RULESET: std::sync::LazyLock<Ruleset> =
    std::sync::LazyLock::new(|| Ruleset::embedded().expect("embedded data is valid"));

fn rs() -> &'static Ruleset {
    &RULESET
}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn chip_on(id: &str, on: &str) -> Classification {
    let rs = rs();
    let e = rs
        .catalog
        .get(id)
        .unwrap_or_else(|| panic!("no catalog id {id}"));
    classify(
        rs,
        ItemRef {
            chip: Some(&e.id),
            spec: &e.spec,
        },
        &Context::on(date(on)),
    )
    .unwrap()
}

fn spec_on(json: &str, on: &str) -> Classification {
    let rs = rs();
    let spec = Spec::from_json(json).unwrap();
    classify(
        rs,
        ItemRef {
            chip: None,
            spec: &spec,
        },
        &Context::on(date(on)),
    )
    .unwrap()
}

const TODAY: &str = "2026-11-23";

macro_rules! chip {
    ($name:ident, $id:literal, $eccn:literal) => {
        #[test]
        fn $name() {
            let c = chip_on($id, TODAY);
            assert_eq!(c.eccn.as_str(), $eccn, "{}: {:#?}", $id, c.reasons);
        }
    };
}

chip!(nvidia_a100, "nvidia-a100", "3A090.a");
chip!(nvidia_a800, "nvidia-a800", "3A090.a");
chip!(nvidia_h100_sxm, "nvidia-h100-sxm", "3A090.a");
chip!(nvidia_h100_pcie, "nvidia-h100-pcie", "3A090.a");
chip!(nvidia_h800, "nvidia-h800", "3A090.a");
chip!(nvidia_h20, "nvidia-h20", "not_3A090");
chip!(nvidia_h200, "nvidia-h200", "3A090.a");
chip!(nvidia_b100, "nvidia-b100", "3A090.a");
chip!(nvidia_b200, "nvidia-b200", "3A090.a");
chip!(nvidia_gb200, "nvidia-gb200", "3A090.a");
chip!(nvidia_b300, "nvidia-b300", "3A090.a");
chip!(nvidia_gb300, "nvidia-gb300", "3A090.a");
chip!(nvidia_b30a, "nvidia-b30a", "3A090.a");
chip!(nvidia_l40s, "nvidia-l40s", "3A090.a");
chip!(nvidia_l40, "nvidia-l40", "3A090.b");
chip!(nvidia_l20, "nvidia-l20", "not_3A090");
chip!(nvidia_l2, "nvidia-l2", "not_3A090");
chip!(nvidia_rtx_4090, "nvidia-rtx-4090", "3A090.a");
chip!(nvidia_rtx_4090d, "nvidia-rtx-4090d", "not_3A090");
chip!(nvidia_rtx_5090, "nvidia-rtx-5090", "3A090.a");
chip!(nvidia_rtx_5090d, "nvidia-rtx-5090d", "not_3A090");
chip!(nvidia_rtx_5090d_v2, "nvidia-rtx-5090d-v2", "not_3A090");
chip!(nvidia_rtx_pro_6000, "nvidia-rtx-pro-6000", "3A090.a");
chip!(
    nvidia_rtx_pro_6000d_has_no_compute_figures,
    "nvidia-rtx-pro-6000d",
    "indeterminate"
);
chip!(amd_mi250x, "amd-mi250x", "3A090.a");
chip!(amd_mi300x, "amd-mi300x", "3A090.a");
chip!(amd_mi308x_die_area_unknown, "amd-mi308x", "indeterminate");
chip!(amd_mi325x, "amd-mi325x", "3A090.a");
chip!(amd_mi355x, "amd-mi355x", "3A090.a");
chip!(intel_gaudi2, "intel-gaudi2", "3A090.a");
chip!(intel_gaudi3, "intel-gaudi3", "3A090.a");
chip!(huawei_ascend_910b, "huawei-ascend-910b", "3A090.a");
chip!(huawei_ascend_910c, "huawei-ascend-910c", "3A090.a");
chip!(
    huawei_ascend_910d_has_no_figures,
    "huawei-ascend-910d",
    "indeterminate"
);
chip!(huawei_ascend_950pr, "huawei-ascend-950pr", "3A090.a");
chip!(huawei_ascend_950dt, "huawei-ascend-950dt", "3A090.a");
chip!(
    cambricon_mlu370_x8_per_ic_below_floor,
    "cambricon-mlu370-x8",
    "not_3A090"
);
chip!(
    cambricon_mlu590_has_no_figures,
    "cambricon-mlu590",
    "indeterminate"
);
chip!(google_tpu_v5p, "google-tpu-v5p", "3A090.a");
chip!(google_tpu_v6e, "google-tpu-v6e", "3A090.a");
chip!(hbm2, "hbm2", "3A090.c");
chip!(hbm2e, "hbm2e", "3A090.c");
chip!(hbm3, "hbm3", "3A090.c");
chip!(hbm3e, "hbm3e", "3A090.c");
chip!(nvidia_hgx_h100_8gpu, "nvidia-hgx-h100-8gpu", "4A090.a");

#[test]
fn every_catalog_chip_has_a_named_test() {
    let src = include_str!("classification.rs");
    for e in rs().catalog.entries() {
        assert!(
            src.contains(&format!("\"{}\"", e.id)),
            "no named test for `{}`",
            e.id
        );
    }
}

#[test]
fn h800_outside_3a090_in_june_2023_and_3a090a_in_december_2023() {
    assert_eq!(chip_on("nvidia-h800", "2023-06-01").eccn, Eccn::Not3A090);
    assert_eq!(chip_on("nvidia-h800", "2023-12-01").eccn, Eccn::E3A090A);
    assert_eq!(chip_on("nvidia-a800", "2023-06-01").eccn, Eccn::Not3A090);
    assert_eq!(chip_on("nvidia-a100", "2023-06-01").eccn, Eccn::E3A090A);
}

#[test]
fn h20_is_outside_3a090_and_h20_class() {
    let c = chip_on("nvidia-h20", TODAY);
    assert_eq!(c.eccn, Eccn::Not3A090);
    assert_eq!(c.flags.h20_class, Some(true));
    assert_eq!(
        chip_on("nvidia-h20", "2025-04-08").flags.h20_class,
        Some(false)
    );
    assert_eq!(chip_on("amd-mi308x", TODAY).flags.h20_class, Some(true));
}

#[test]
fn l40_is_3a090b_and_nac_eligible() {
    let c = chip_on("nvidia-l40", TODAY);
    assert_eq!(c.eccn, Eccn::E3A090B);
    assert_eq!(c.paragraph.as_deref(), Some("3A090.b.1"));
    assert_eq!(c.flags.nac_aca_eligible, Some(true));
}

fn with_datacenter(id: &str) -> Classification {
    let rs = rs();
    let mut spec = rs.catalog.get(id).unwrap().spec.clone();
    spec.datacenter = Some(true);
    classify(
        rs,
        ItemRef {
            chip: None,
            spec: &spec,
        },
        &Context::on(date(TODAY)),
    )
    .unwrap()
}

#[test]
fn rtx_4090d_and_5090d_are_outside_only_because_not_datacenter_parts() {
    for id in ["nvidia-rtx-4090d", "nvidia-rtx-5090d"] {
        assert_eq!(chip_on(id, TODAY).eccn, Eccn::Not3A090, "{id}");
        let dc = with_datacenter(id);
        assert_eq!(dc.eccn, Eccn::E3A090A, "{id} as a datacenter part");
        assert_eq!(dc.paragraph.as_deref(), Some("3A090.a.2"));
    }
}

#[test]
fn consumer_3a090a_is_nac_eligible_and_datacenter_is_not() {
    assert_eq!(
        chip_on("nvidia-rtx-4090", TODAY).flags.nac_aca_eligible,
        Some(true)
    );
    assert_eq!(
        chip_on("nvidia-h100-sxm", TODAY).flags.nac_aca_eligible,
        Some(false)
    );
}

#[test]
fn ascend_chips_are_prc_3a090() {
    for id in [
        "huawei-ascend-910b",
        "huawei-ascend-910c",
        "huawei-ascend-910d",
    ] {
        assert_eq!(chip_on(id, TODAY).flags.prc_3a090, Some(true), "{id}");
    }
    assert_eq!(
        chip_on("nvidia-h100-sxm", TODAY).flags.prc_3a090,
        Some(false)
    );
}

/// 89 FR 96790 took effect on 2 December 2024 with a compliance date of 31 December 2024 for
/// its HBM changes (issue 13, item 6): 3A090.c binds from the compliance date.
#[test]
fn hbm_is_3a090c_only_from_the_31_december_2024_compliance_date() {
    assert_eq!(chip_on("hbm3", "2024-12-01").eccn, Eccn::Not3A090);
    assert_eq!(chip_on("hbm3", "2024-12-02").eccn, Eccn::Not3A090);
    assert_eq!(chip_on("hbm3", "2024-12-30").eccn, Eccn::Not3A090);
    assert_eq!(chip_on("hbm3", "2024-12-31").eccn, Eccn::E3A090C);
}

#[test]
fn server_tpp_is_the_sum_of_its_ics() {
    let c = chip_on("nvidia-hgx-h100-8gpu", TODAY);
    assert_eq!(c.tpp, Some(126649.6));
    assert_eq!(c.tpp_counted, Some(126649.6));
}

// ---- both sides of every threshold -------------------------------------------------------

/// An IC with a given TPP (set through fp8) and die area.
fn ic(tpp: f64, area: f64, datacenter: bool) -> String {
    format!(
        r#"{{"name":"t","kind":"ic","datacenter":{datacenter},"dense_tops":{{"fp8":{}}},"die_area_mm2":{area},"non_planar":true,"memory_bandwidth_gbs":1000,"interconnect_gbs":100}}"#,
        tpp / 8.0
    )
}

fn eccn(json: &str, on: &str) -> (Eccn, Option<String>) {
    let c = spec_on(json, on);
    (c.eccn, c.paragraph)
}

#[test]
fn threshold_tpp_4800() {
    assert_eq!(
        eccn(&ic(4800.0, 10_000.0, true), TODAY).1.as_deref(),
        Some("3A090.a.1")
    );
    assert_eq!(eccn(&ic(4799.992, 10_000.0, true), TODAY).0, Eccn::Not3A090);
}

#[test]
fn threshold_datacenter_note_4800() {
    assert_eq!(eccn(&ic(4800.0, 100.0, false), TODAY).0, Eccn::E3A090A);
    assert_eq!(eccn(&ic(4799.992, 100.0, false), TODAY).0, Eccn::Not3A090);
    // The same numbers marketed for datacenters are 3A090.a.2.
    assert_eq!(
        eccn(&ic(4799.992, 100.0, true), TODAY).1.as_deref(),
        Some("3A090.a.2")
    );
}

#[test]
fn threshold_tpp_1600_with_pd_5_92() {
    assert_eq!(
        eccn(&ic(1600.0, 100.0, true), TODAY).1.as_deref(),
        Some("3A090.a.2")
    );
    assert_eq!(eccn(&ic(1599.992, 100.0, true), TODAY).0, Eccn::Not3A090);
    assert_eq!(
        eccn(&ic(2960.0, 500.0, true), TODAY).1.as_deref(),
        Some("3A090.a.2")
    );
    assert_eq!(
        eccn(&ic(2960.0, 500.01, true), TODAY).1.as_deref(),
        Some("3A090.b.1")
    );
}

#[test]
fn threshold_tpp_2400_with_pd_1_6() {
    assert_eq!(
        eccn(&ic(2400.0, 1500.0, true), TODAY).1.as_deref(),
        Some("3A090.b.1")
    );
    assert_eq!(eccn(&ic(2399.992, 1500.0, true), TODAY).0, Eccn::Not3A090);
    assert_eq!(eccn(&ic(2400.0, 1500.01, true), TODAY).0, Eccn::Not3A090);
}

#[test]
fn threshold_pd_3_2() {
    assert_eq!(
        eccn(&ic(2000.0, 625.0, true), TODAY).1.as_deref(),
        Some("3A090.b.2")
    );
    assert_eq!(eccn(&ic(2000.0, 625.1, true), TODAY).0, Eccn::Not3A090);
}

fn hbm(bw: f64) -> String {
    format!(r#"{{"name":"h","kind":"hbm","hbm_bandwidth_gbs":{bw},"package_area_mm2":92}}"#)
}

#[test]
fn threshold_hbm_density_2() {
    assert_eq!(eccn(&hbm(184.0), TODAY).0, Eccn::Not3A090);
    assert_eq!(eccn(&hbm(184.1), TODAY).0, Eccn::E3A090C);
}

#[test]
fn threshold_hbm_exception_3_3() {
    assert_eq!(
        spec_on(&hbm(303.6), TODAY).flags.hbm_exception_eligible,
        Some(false)
    );
    assert_eq!(
        spec_on(&hbm(303.5), TODAY).flags.hbm_exception_eligible,
        Some(true)
    );
}

fn ceiling_ic(tpp: f64, mem: f64) -> String {
    format!(
        r#"{{"name":"t","kind":"ic","datacenter":true,"dense_tops":{{"fp8":{}}},"die_area_mm2":800,"non_planar":true,"memory_bandwidth_gbs":{mem},"interconnect_gbs":100}}"#,
        tpp / 8.0
    )
}

#[test]
fn threshold_21000_tpp_ceiling() {
    assert_eq!(
        spec_on(&ceiling_ic(20_999.992, 3000.0), TODAY)
            .flags
            .jan2026_ceiling,
        Some(true)
    );
    assert_eq!(
        spec_on(&ceiling_ic(21_000.0, 3000.0), TODAY)
            .flags
            .jan2026_ceiling,
        Some(false)
    );
}

#[test]
fn threshold_6500_gbs_ceiling() {
    assert_eq!(
        spec_on(&ceiling_ic(15_000.0, 6499.99), TODAY)
            .flags
            .jan2026_ceiling,
        Some(true)
    );
    assert_eq!(
        spec_on(&ceiling_ic(15_000.0, 6500.0), TODAY)
            .flags
            .jan2026_ceiling,
        Some(false)
    );
}

#[test]
fn threshold_600_gbs_interconnect_october_2022() {
    let io = |gbs: f64| {
        format!(
            r#"{{"name":"t","kind":"ic","datacenter":true,"dense_tops":{{"fp8":600}},"die_area_mm2":800,"non_planar":true,"interconnect_gbs":{gbs}}}"#
        )
    };
    assert_eq!(eccn(&io(600.0), "2023-06-01").0, Eccn::E3A090A);
    assert_eq!(eccn(&io(599.99), "2023-06-01").0, Eccn::Not3A090);
    // The prong was dropped on 17 November 2023.
    assert_eq!(eccn(&io(599.99), "2023-11-17").0, Eccn::E3A090A);
}

/// The foundry flags on a date: the presumption before the count rebuttal, and whether the
/// count is below the year's threshold (which rebuts only on a qualifying packager's
/// attestation, decided with the order).
fn foundry(transistors: f64, has_hbm: bool, on: &str) -> (Option<bool>, Option<bool>, bool) {
    let json = format!(
        r#"{{"name":"t","kind":"ic","datacenter":true,"dense_tops":{{"fp8":100}},"die_area_mm2":800,"process_nm":5,"transistors_billion":{transistors},"has_hbm":{has_hbm}}}"#
    );
    let c = spec_on(&json, on);
    (
        c.flags.foundry_presumption,
        c.flags.foundry_count_below,
        c.unconfirmed,
    )
}

/// Note 1 to 3A090.a as the eCFR gives it (issue 13, item 5): 30 billion in every year; without
/// HBM 35 billion for exports completed in 2027 and 40 billion in 2029 or later; no figure for
/// 2028, so 30 billion then.
#[test]
fn threshold_foundry_transistor_counts_by_year() {
    let below = |t: f64, hbm: bool, on: &str| foundry(t, hbm, on).1;
    assert_eq!(
        foundry(30.0, true, "2025-06-01"),
        (Some(true), Some(false), false)
    );
    assert_eq!(below(29.99, true, "2025-06-01"), Some(true));
    assert_eq!(below(30.0, false, "2026-06-01"), Some(false));
    assert_eq!(below(29.99, false, "2026-06-01"), Some(true));
    // 2027: 35 billion for packages without HBM; the base 30 billion with HBM.
    assert_eq!(below(34.99, false, "2027-06-01"), Some(true));
    assert_eq!(below(35.0, false, "2027-06-01"), Some(false));
    assert_eq!(below(30.0, true, "2027-06-01"), Some(false));
    // 2028: the text names no higher figure, so 30 billion, confirmed.
    assert_eq!(
        foundry(34.99, false, "2028-06-01"),
        (Some(true), Some(false), false)
    );
    assert_eq!(below(29.99, false, "2028-06-01"), Some(true));
    // From 2029: 40 billion without HBM.
    assert_eq!(below(39.99, false, "2029-06-01"), Some(true));
    assert_eq!(below(40.0, false, "2029-06-01"), Some(false));
    // The presumption itself does not depend on the count.
    assert_eq!(foundry(10.0, true, "2025-06-01").0, Some(true));
    // Before the compliance date (31 January 2025) there is no presumption.
    assert_eq!(foundry(80.0, true, "2025-01-30").0, Some(false));
    assert_eq!(foundry(80.0, true, "2025-01-31").0, Some(true));
}

#[test]
fn approved_designer_rebuts_the_foundry_presumption() {
    let json = r#"{"name":"t","kind":"ic","datacenter":true,"dense_tops":{"fp8":100},"die_area_mm2":800,"process_nm":5,"transistors_billion":80,"approved_designer":true}"#;
    assert_eq!(spec_on(json, TODAY).flags.foundry_presumption, Some(false));
}

// ---- the catalog against chips.csv -------------------------------------------------------

#[test]
fn catalog_tpp_and_class_match_the_reference_computation() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/reference/chips.csv"
    );
    let mut rdr =
        csv::Reader::from_path(path).expect("shared/reference/chips.csv beside the repository");
    let rs = rs();
    let mut checked = 0;
    for rec in rdr.deserialize::<std::collections::HashMap<String, String>>() {
        let row = rec.unwrap();
        if row["item_type"] != "accelerator" || row["computed_tpp"].is_empty() {
            continue;
        }
        let model = &row["model"];
        let e = rs
            .catalog
            .entries()
            .find(|e| {
                &e.meta.model == model && e.meta.variant.as_deref() == Some(row["variant"].as_str())
            })
            .unwrap_or_else(|| panic!("no catalog entry for {model}"));
        if e.spec.kind != exportgate_core::spec::ItemKind::Ic {
            continue;
        }
        let c = chip_on(&e.id, TODAY);
        let want: f64 = row["computed_tpp"].parse().unwrap();
        let got = c.tpp.unwrap();
        assert!(
            (got - want).abs() / want < 0.001,
            "{}: TPP {got} vs reference {want}",
            e.id
        );
        let class23 = &row["computed_class_oct2023_rule"];
        if !class23.starts_with("indeterminate") {
            let want = if class23.starts_with("3A090.a") {
                "3A090.a"
            } else if class23.starts_with("3A090.b") {
                "3A090.b"
            } else {
                "not_3A090"
            };
            assert_eq!(c.eccn.as_str(), want, "{}", e.id);
        }
        let class22 = &row["computed_class_oct2022_rule"];
        if class22.starts_with("controlled") || class22 == "not controlled" {
            let c22 = chip_on(&e.id, "2023-06-01");
            let want = if class22.starts_with("controlled") {
                Eccn::E3A090A
            } else {
                Eccn::Not3A090
            };
            assert_eq!(c22.eccn, want, "{} under the October 2022 thresholds", e.id);
        }
        checked += 1;
    }
    assert!(checked >= 30, "checked only {checked} rows");
}

// ---- properties ----------------------------------------------------------------------------

fn spec_from(fp16: f64, fp8: f64, area: f64, datacenter: bool) -> Spec {
    Spec::from_json(&format!(r#"{{"name":"p","kind":"ic","datacenter":{datacenter},"dense_tops":{{"fp16":{fp16},"fp8":{fp8}}},"die_area_mm2":{area},"non_planar":true,"memory_bandwidth_gbs":1000,"interconnect_gbs":100}}"#)).unwrap()
}

fn level(spec: &Spec, rs: &Ruleset) -> u8 {
    classify(rs, ItemRef { chip: None, spec }, &Context::on(date(TODAY)))
        .unwrap()
        .eccn
        .level()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn raising_any_precision_never_lowers_control(fp16 in 0.0f64..800.0, fp8 in 0.0f64..1200.0, area in 50.0f64..3000.0, dc: bool, factor in 1.0f64..4.0, which: bool) {
        let rs = rs();
        let before = level(&spec_from(fp16, fp8, area, dc), rs);
        let after = if which { spec_from(fp16 * factor, fp8, area, dc) } else { spec_from(fp16, fp8 * factor, area, dc) };
        prop_assert!(level(&after, rs) >= before);
    }

    #[test]
    fn shrinking_die_area_never_lowers_control(fp16 in 0.0f64..800.0, fp8 in 0.0f64..1200.0, area in 50.0f64..3000.0, dc: bool, factor in 0.1f64..1.0) {
        let rs = rs();
        let before = level(&spec_from(fp16, fp8, area, dc), rs);
        prop_assert!(level(&spec_from(fp16, fp8, area * factor, dc), rs) >= before);
    }
}
