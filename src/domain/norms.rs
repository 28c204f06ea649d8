//! Thresholds more than one part of the domain reads: one place per concept, so the programme
//! engine, adaptation, assessments and statistics cannot disagree.

/// The single-leg heel-raise test's minimal detectable change, in reps (95% limits of
/// agreement ±6 reps, domain brief §8.1).
pub const MDC_HEEL_RAISE_REPS: u16 = 6;
/// The Calf-Raise Senior's minimal detectable change: 1.96 × √2 × SEM 2.0 ≈ 5.5 reps, rounded
/// up [ENG].
pub const MDC_CALF_RAISE_SENIOR_REPS: u16 = 6;
/// Side-to-side difference above which the weaker leg is flagged (§8.1; return-to-play
/// criteria, §5.1), as a fraction of the stronger side.
pub const ASYMMETRY_FLAG: f64 = 0.10;

/// The side-to-side difference as a fraction of the stronger side (0 when both are 0).
pub fn asymmetry(left: f64, right: f64) -> f64 {
    let (lo, hi) = (left.min(right), left.max(right));
    if hi <= 0.0 { 0.0 } else { (hi - lo) / hi }
}

/// Is this side-to-side difference worth flagging?
pub fn asymmetric(left: f64, right: f64) -> bool {
    asymmetry(left, right) > ASYMMETRY_FLAG
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_is_strictly_above_ten_percent_of_the_stronger_side() {
        assert!(!asymmetric(90.0, 100.0));
        assert!(asymmetric(89.0, 100.0));
        assert!(!asymmetric(0.0, 0.0));
        assert!((asymmetry(100.0, 80.0) - 0.2).abs() < 1e-12);
    }
}
