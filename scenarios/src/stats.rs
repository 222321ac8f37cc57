//! Mean and 95% Student-t interval over replicates — the intervals of every table,
//! chart and summary of `compare` and `batch`. A metric with a bounded range (a share,
//! a 0–1 index, a count) has its interval truncated to that range ([`stat_within`]):
//! the true mean lies in the range, so the truncated interval covers it exactly as often
//! as the untruncated one did, and no interval of a share reads below 0 or above 1.

use serde::Serialize;

/// Mean and 95% confidence interval of the mean (Student's t) over seeds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stat {
    /// Mean.
    pub mean: f64,
    /// Lower bound of the 95% interval.
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
}

/// Two-sided 97.5% quantile of Student's t with `df` degrees of freedom.
fn t975(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    if df == 0 {
        f64::NAN
    } else if df <= 30 {
        T[df - 1]
    } else {
        1.96 + 2.4 / df as f64
    }
}

/// Mean and interval of the finite values of `xs`.
pub fn stat(xs: &[f64]) -> Stat {
    let v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return Stat {
            mean: f64::NAN,
            lo: f64::NAN,
            hi: f64::NAN,
        };
    }
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    if v.len() < 2 {
        return Stat {
            mean,
            lo: mean,
            hi: mean,
        };
    }
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let half = t975(v.len() - 1) * (var / n).sqrt();
    Stat {
        mean,
        lo: mean - half,
        hi: mean + half,
    }
}

/// [`stat`] with the interval truncated to `[lo, hi]`, the range the metric's values can
/// take (the mean is within it already).
pub fn stat_within(xs: &[f64], (lo, hi): (f64, f64)) -> Stat {
    let s = stat(xs);
    if s.mean.is_nan() {
        return s;
    }
    Stat {
        mean: s.mean,
        lo: s.lo.clamp(lo, hi),
        hi: s.hi.clamp(lo, hi),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interval_of_a_share_stays_within_0_and_1() {
        let xs = [1.0, 1.0, 0.98, 1.0];
        let t = stat(&xs);
        assert!(t.hi > 1.0, "Student's t leaves the range: {t:?}");
        let s = stat_within(&xs, (0.0, 1.0));
        assert_eq!((s.mean, s.lo, s.hi), (t.mean, t.lo, 1.0));
        let low = stat_within(&[0.0, 0.0, 0.01], (0.0, 1.0));
        assert_eq!(low.lo, 0.0);
        assert!(stat_within(&[], (0.0, 1.0)).mean.is_nan());
    }
}
