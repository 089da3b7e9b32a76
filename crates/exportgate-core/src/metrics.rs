//! The parameters the control list compares: total processing performance (TPP),
//! performance density (PD) and HBM memory bandwidth density.
//!
//! TPP = max over published precisions of (dense peak TOPS × bit length); sparse-only
//! figures are halved first. PD = TPP ÷ the area of logic dies on a non-planar process.

use crate::spec::{Precision, Spec};

/// TPP of one IC with the precision that set it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tpp {
    pub value: f64,
    pub precision: Precision,
    /// The figure came from a sparse peak that was halved.
    pub from_sparse: bool,
}

/// Round away floating-point noise so that a value meant to sit on a threshold does.
pub fn tidy(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// The dense peak for each precision: dense figures as given, sparse-only figures halved.
pub fn dense_peaks(spec: &Spec) -> Vec<(Precision, f64, bool)> {
    let mut out = Vec::new();
    for p in Precision::ALL {
        let dense = spec.dense_tops.as_ref().and_then(|m| m.get(&p)).copied();
        let sparse = spec.sparse_tops.as_ref().and_then(|m| m.get(&p)).copied();
        match (dense, sparse) {
            (Some(d), _) => out.push((p, d, false)),
            (None, Some(s)) => out.push((p, s / 2.0, true)),
            (None, None) => {}
        }
    }
    out
}

/// TPP of an IC spec; `None` when no throughput figure is published.
pub fn tpp(spec: &Spec) -> Option<Tpp> {
    dense_peaks(spec)
        .into_iter()
        .map(|(precision, tops, from_sparse)| Tpp {
            value: tidy(tops * f64::from(precision.bit_length())),
            precision,
            from_sparse,
        })
        .fold(None, |best: Option<Tpp>, t| match best {
            Some(b) if b.value >= t.value => Some(b),
            _ => Some(t),
        })
}

/// Why PD could not be computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PdUnknown {
    NoDieArea,
    NoTpp,
    ArchitectureUnknown,
    /// Only planar logic dies: no applicable die area.
    PlanarOnly,
}

/// Whether the logic dies count as non-planar: stated, or derived from a node at 16 nm or below.
pub fn non_planar(spec: &Spec) -> Option<bool> {
    spec.non_planar
        .or_else(|| spec.process_nm.filter(|nm| *nm <= 16.0).map(|_| true))
}

/// Performance density of an IC spec.
pub fn performance_density(spec: &Spec, tpp: Option<Tpp>) -> Result<f64, PdUnknown> {
    let tpp = tpp.ok_or(PdUnknown::NoTpp)?;
    let area = spec.die_area_mm2.ok_or(PdUnknown::NoDieArea)?;
    match non_planar(spec) {
        Some(true) => Ok((tpp.value / area * 1e9).round() / 1e9),
        Some(false) => Err(PdUnknown::PlanarOnly),
        None => Err(PdUnknown::ArchitectureUnknown),
    }
}

/// HBM memory bandwidth density, GB/s per mm².
pub fn memory_bandwidth_density(spec: &Spec) -> Option<f64> {
    match (spec.hbm_bandwidth_gbs, spec.package_area_mm2) {
        (Some(bw), Some(area)) if area > 0.0 => Some((bw / area * 1e9).round() / 1e9),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ic(json: &str) -> Spec {
        Spec::from_json(json).unwrap()
    }

    #[test]
    fn tpp_is_the_maximum_over_precisions_times_bit_length() {
        let s = ic(
            r#"{"name":"x","kind":"ic","datacenter":true,"dense_tops":{"fp16":989.4,"fp8":1978.9,"fp64":66.9}}"#,
        );
        let t = tpp(&s).unwrap();
        assert_eq!(t.value, 15831.2);
        assert_eq!(t.precision, Precision::Fp8);
    }

    #[test]
    fn sparse_figures_are_halved() {
        let s = ic(r#"{"name":"x","kind":"ic","datacenter":true,"sparse_tops":{"fp8":3957.8}}"#);
        let t = tpp(&s).unwrap();
        assert_eq!(t.value, 15831.2);
        assert!(t.from_sparse);
    }

    #[test]
    fn a_dense_figure_wins_over_a_sparse_one_for_the_same_precision() {
        let s = ic(
            r#"{"name":"x","kind":"ic","datacenter":true,"dense_tops":{"fp8":100},"sparse_tops":{"fp8":1000}}"#,
        );
        assert_eq!(tpp(&s).unwrap().value, 800.0);
    }

    #[test]
    fn density_uses_only_non_planar_die_area() {
        let s = ic(
            r#"{"name":"x","kind":"ic","datacenter":true,"dense_tops":{"fp16":185},"die_area_mm2":500,"non_planar":true}"#,
        );
        assert_eq!(performance_density(&s, tpp(&s)), Ok(5.92));
        let planar = ic(
            r#"{"name":"x","kind":"ic","datacenter":true,"dense_tops":{"fp16":185},"die_area_mm2":500,"non_planar":false}"#,
        );
        assert_eq!(
            performance_density(&planar, tpp(&planar)),
            Err(PdUnknown::PlanarOnly)
        );
    }
}
