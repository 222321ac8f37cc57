//! Experimental design and global sensitivity analysis for parameter studies.
//!
//! A parameter study maps `d` uncertain inputs, each scaled to the unit interval
//! `[0, 1)`, to one scalar model output (a KPI of a run). This module draws the input
//! points and turns the outputs into sensitivity measures:
//!
//! - [`latin_hypercube`]: Latin hypercube sampling (McKay, Beckman & Conover 1979,
//!   *Technometrics* 21:239–245). Each dimension is cut into `n` equal bins and every
//!   bin holds exactly one of the `n` points, so every input is covered evenly even
//!   when `n` is small. Good for screening and for [`standardized_regression`].
//! - [`saltelli`]: the sampling scheme of Saltelli et al. (2010), *Variance based
//!   sensitivity analysis of model output. Design and estimator for the total
//!   sensitivity index*, Comput. Phys. Commun. 181:259–270. Two independent base
//!   matrices `A` and `B` (`n × d`) and, for every input `i`, the matrix `AB_i`
//!   (`A` with column `i` taken from `B`): `n·(d+2)` model runs in all.
//! - [`sobol_indices`]: variance-based (Sobol') indices from the outputs of a
//!   [`saltelli`] design. The first-order index `S_i` (the share of the output variance
//!   explained by input `i` alone) uses the estimator of Saltelli et al. (2010),
//!   `S_i = mean(f(B)·(f(AB_i) − f(A))) / V`; the total-order index `S_Ti` (the share
//!   due to input `i` including all its interactions) uses the estimator of Jansen
//!   (1999), *Analysis of variance designs for model output*, Comput. Phys. Commun.
//!   117:35–43, `S_Ti = mean((f(A) − f(AB_i))²) / 2 / V`. `V` is the variance of the
//!   outputs of `A` and `B` together. Each index comes with a 95% bootstrap percentile
//!   interval ([`Estimate`]).
//! - [`standardized_regression`]: standardized regression coefficients (SRC), the
//!   least-squares slopes of the standardized output on the standardized inputs. A
//!   cheap linear measure: sign and relative strength of each input, meaningful when
//!   the model is close to linear (the `R²` of the fit is then close to 1).
//! - [`ishigami`]: the Ishigami–Homma test function, whose Sobol' indices are known
//!   analytically; used by the tests and handy to check a pipeline end to end.
//!
//! Everything is deterministic given the seed: the generator is `Pcg64Mcg` (a named
//! algorithm, stable across `rand` versions) seeded from the `u64` seed, and no result
//! depends on hash-map order, thread scheduling or the clock.
//!
//! ```
//! use civitas_scenarios::sensitivity::{ishigami, saltelli, sobol_indices};
//!
//! let (n, d) = (1_000, 3);
//! let x = saltelli(n, d, 42);
//! let y: Vec<f64> = x.iter().map(|p| ishigami(p, 7.0, 0.1)).collect();
//! let s = sobol_indices(&y, n, d, 50, 7).unwrap();
//! // x2 alone explains about 44% of the variance of the Ishigami function.
//! assert!((s.first[1].value - 0.442).abs() < 0.1);
//! ```

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// Why a sensitivity measure could not be computed. Every message says what was
/// expected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SensitivityError {
    /// The outputs do not match the design: [`sobol_indices`] expects `n·(d+2)` outputs
    /// in the [`saltelli`] order.
    #[error(
        "expected {expected} model outputs (n·(d+2) = {n}·({d}+2), in the order of \
         `saltelli(n, d, seed)`), got {got}"
    )]
    WrongLength {
        /// The number of outputs expected, `n·(d+2)`.
        expected: usize,
        /// The number of outputs given.
        got: usize,
        /// The number of base samples.
        n: usize,
        /// The number of inputs.
        d: usize,
    },
    /// The inputs and outputs of a regression have different numbers of rows.
    #[error("expected one output per input row: got {rows} input rows and {outputs} outputs")]
    LengthMismatch {
        /// The number of input rows.
        rows: usize,
        /// The number of outputs.
        outputs: usize,
    },
    /// A row of the inputs has a different number of columns than the first row.
    #[error("input row {row} has {got} columns: expected {expected}, like the first row")]
    RaggedRow {
        /// The index of the offending row.
        row: usize,
        /// Its number of columns.
        got: usize,
        /// The number of columns of the first row.
        expected: usize,
    },
    /// Fewer than two samples: no variance can be estimated.
    #[error("expected at least 2 samples (base rows), got {n}")]
    TooFewSamples {
        /// The number of samples given.
        n: usize,
    },
    /// A model output is NaN or infinite.
    #[error("model output {index} is {value}: expected every model output to be finite")]
    NonFiniteOutput {
        /// The index of the output.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// An input value is NaN or infinite.
    #[error("input row {row}, column {column} is {value}: expected every input to be finite")]
    NonFiniteInput {
        /// The row of the value.
        row: usize,
        /// The column of the value.
        column: usize,
        /// The value.
        value: f64,
    },
    /// The outputs are all equal: the indices, shares of the variance, are undefined.
    #[error(
        "the model outputs have zero variance: expected outputs that vary (the indices \
         are shares of the output variance)"
    )]
    ZeroVariance,
    /// An input column is constant, so it cannot be standardized.
    #[error(
        "input column {column} is constant: expected every input column to vary (a \
         constant column makes the design singular)"
    )]
    ConstantInput {
        /// The index of the constant column.
        column: usize,
    },
    /// The inputs are linearly dependent (or nearly so): the least-squares
    /// coefficients are not unique.
    #[error(
        "singular design: input column {column} is (nearly) a linear combination of the \
         others; expected linearly independent columns and more rows than columns"
    )]
    Singular {
        /// The column at which elimination found no usable pivot.
        column: usize,
    },
}

/// A point estimate with its 95% bootstrap percentile interval (the 2.5th and 97.5th
/// percentiles of the bootstrap replicates). With no resamples, `lo == hi == value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// The estimate from all samples.
    pub value: f64,
    /// The lower end of the 95% interval.
    pub lo: f64,
    /// The upper end of the 95% interval.
    pub hi: f64,
}

/// First- and total-order Sobol' indices, one [`Estimate`] per input, in input order.
#[derive(Debug, Clone, PartialEq)]
pub struct SobolIndices {
    /// First-order indices `S_i` (Saltelli et al. 2010): the share of the output
    /// variance due to input `i` alone.
    pub first: Vec<Estimate>,
    /// Total-order indices `S_Ti` (Jansen 1999): the share of the output variance due to
    /// input `i` including all its interactions with other inputs.
    pub total: Vec<Estimate>,
}

/// The largest `f64` below 1.
const BELOW_ONE: f64 = 1.0 - f64::EPSILON / 2.0;

/// Latin hypercube sample (McKay et al. 1979): `n` points in `[0, 1)^d`.
///
/// Every dimension is cut into `n` equal bins `[k/n, (k+1)/n)`; each bin holds exactly
/// one point (`floor(x·n) == k` for exactly one point), the bins are assigned to points
/// by an independent random permutation per dimension, and each coordinate is uniform
/// within its bin. Deterministic given `seed`. Returns `n` rows of `d` coordinates; no
/// points if `n == 0`.
pub fn latin_hypercube(n: usize, d: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    let mut points = vec![vec![0.0; d]; n];
    let mut perm: Vec<usize> = (0..n).collect();
    let nf = n as f64;
    for j in 0..d {
        perm.shuffle(&mut rng);
        for (point, &bin) in points.iter_mut().zip(&perm) {
            let u: f64 = rng.random();
            point[j] = in_bin(bin, (bin as f64 + u) / nf, nf);
        }
    }
    points
}

/// Nudges `v`, meant to lie in bin `bin` of `n` equal bins of `[0, 1)`, so that
/// rounding never moves it into a neighbour (`floor(v·n) == bin`) or onto 1.
fn in_bin(bin: usize, mut v: f64, n: f64) -> f64 {
    v = v.min(BELOW_ONE);
    loop {
        let b = (v * n).floor();
        if b < bin as f64 {
            v = v.next_up();
        } else if b > bin as f64 {
            v = v.next_down();
        } else {
            return v;
        }
    }
}

/// The Saltelli et al. (2010) design for [`sobol_indices`]: `n·(d+2)` points in
/// `[0, 1)^d`.
///
/// Draws two independent pseudo-random base matrices `A` and `B` (`n × d`, uniform on
/// `[0, 1)`; `A` first, row by row, then `B`) and returns, in this order:
///
/// 1. the `n` rows of `A` (indices `0..n`);
/// 2. the `n` rows of `B` (indices `n..2n`);
/// 3. for each input `i` in `0..d`, the `n` rows of `AB_i`, which is `A` with column `i`
///    taken from `B` (indices `(2+i)·n..(3+i)·n`).
///
/// Run the model on every point, in order, and pass the outputs to [`sobol_indices`].
/// Deterministic given `seed`.
pub fn saltelli(n: usize, d: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    let mut draw = || -> Vec<Vec<f64>> {
        (0..n)
            .map(|_| (0..d).map(|_| rng.random::<f64>()).collect())
            .collect()
    };
    let a = draw();
    let b = draw();
    let mut points = Vec::with_capacity(n * (d + 2));
    points.extend(a.iter().cloned());
    points.extend(b.iter().cloned());
    for i in 0..d {
        points.extend(a.iter().zip(&b).map(|(ra, rb)| {
            let mut row = ra.clone();
            row[i] = rb[i];
            row
        }));
    }
    points
}

/// First- and total-order Sobol' indices from the outputs of a [`saltelli`] design.
///
/// `y` holds the model outputs in the [`saltelli`] order (`f(A)`, `f(B)`, then
/// `f(AB_i)` for each input `i`), so `y.len() == n·(d+2)`. With `V` the (population)
/// variance of the `2n` outputs `f(A)` and `f(B)` together:
///
/// - first order (Saltelli et al. 2010): `S_i = mean_j(f(B)_j·(f(AB_i)_j − f(A)_j)) / V`;
/// - total order (Jansen 1999): `S_Ti = mean_j((f(A)_j − f(AB_i)_j)²) / 2 / V`.
///
/// The 95% intervals are bootstrap percentile intervals: `resamples` times, `n` row
/// indices `j` are drawn with replacement (seeded by `seed`), the row triples
/// `(f(A)_j, f(B)_j, f(AB_i)_j)` are kept together and every index, `V` included, is
/// recomputed; `lo` and `hi` are the 2.5th and 97.5th percentiles of the replicates
/// (linear interpolation between order statistics). Replicates whose resampled outputs
/// are all equal (possible only for tiny `n`) are skipped; with no usable replicate the
/// interval collapses to the point estimate.
///
/// Estimates are noisy: a first-order index of an unimportant input may come out
/// slightly negative, and the estimates need not add up to 1.
///
/// # Errors
///
/// [`SensitivityError::TooFewSamples`] if `n < 2`, [`SensitivityError::WrongLength`] if
/// `y.len() != n·(d+2)`, [`SensitivityError::NonFiniteOutput`] if an output is NaN or
/// infinite, [`SensitivityError::ZeroVariance`] if the outputs of `A` and `B` are all
/// equal.
pub fn sobol_indices(
    y: &[f64],
    n: usize,
    d: usize,
    resamples: usize,
    seed: u64,
) -> Result<SobolIndices, SensitivityError> {
    if n < 2 {
        return Err(SensitivityError::TooFewSamples { n });
    }
    let expected = n.saturating_mul(d.saturating_add(2));
    if y.len() != expected {
        return Err(SensitivityError::WrongLength {
            expected,
            got: y.len(),
            n,
            d,
        });
    }
    if let Some((index, &value)) = y.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(SensitivityError::NonFiniteOutput { index, value });
    }
    // Centre the outputs on the mean of f(A) and f(B): the estimators are unchanged in
    // expectation, and the first-order one loses the noise a large mean adds to it.
    let mean = y[..2 * n].iter().sum::<f64>() / (2 * n) as f64;
    let centred: Vec<f64> = y.iter().map(|v| v - mean).collect();
    let y = centred.as_slice();

    let all: Vec<usize> = (0..n).collect();
    let mut first = vec![0.0; d];
    let mut total = vec![0.0; d];
    if !indices_over(y, n, d, &all, &mut first, &mut total) {
        return Err(SensitivityError::ZeroVariance);
    }

    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    let mut rows = vec![0; n];
    let mut boot_first: Vec<Vec<f64>> = vec![Vec::with_capacity(resamples); d];
    let mut boot_total: Vec<Vec<f64>> = vec![Vec::with_capacity(resamples); d];
    let mut f = vec![0.0; d];
    let mut t = vec![0.0; d];
    for _ in 0..resamples {
        for r in rows.iter_mut() {
            *r = rng.random_range(0..n);
        }
        if indices_over(y, n, d, &rows, &mut f, &mut t) {
            for i in 0..d {
                boot_first[i].push(f[i]);
                boot_total[i].push(t[i]);
            }
        }
    }
    let estimate = |value: f64, mut reps: Vec<f64>| {
        if reps.is_empty() {
            return Estimate {
                value,
                lo: value,
                hi: value,
            };
        }
        reps.sort_by(f64::total_cmp);
        Estimate {
            value,
            lo: percentile(&reps, 0.025),
            hi: percentile(&reps, 0.975),
        }
    };
    Ok(SobolIndices {
        first: first
            .iter()
            .zip(boot_first)
            .map(|(&v, r)| estimate(v, r))
            .collect(),
        total: total
            .iter()
            .zip(boot_total)
            .map(|(&v, r)| estimate(v, r))
            .collect(),
    })
}

/// Computes the first- and total-order estimates over the base rows `rows` (indices
/// into `0..n`, repeats allowed) into `first` and `total`. Returns `false`, leaving them
/// unspecified, if the outputs of `A` and `B` over these rows are all equal.
fn indices_over(
    y: &[f64],
    n: usize,
    d: usize,
    rows: &[usize],
    first: &mut [f64],
    total: &mut [f64],
) -> bool {
    let (fa, rest) = y.split_at(n);
    let (fb, fab) = rest.split_at(n);
    let m = rows.len() as f64;

    let (mut sum, mut min, mut max) = (0.0, f64::INFINITY, f64::NEG_INFINITY);
    for &j in rows {
        let (a, b) = (fa[j], fb[j]);
        sum += a + b;
        min = min.min(a).min(b);
        max = max.max(a).max(b);
    }
    if min == max {
        return false;
    }
    let mean = sum / (2.0 * m);
    let var = rows
        .iter()
        .map(|&j| (fa[j] - mean).powi(2) + (fb[j] - mean).powi(2))
        .sum::<f64>()
        / (2.0 * m);

    for i in 0..d {
        let fabi = &fab[i * n..(i + 1) * n];
        let (mut s1, mut st) = (0.0, 0.0);
        for &j in rows {
            let (a, c) = (fa[j], fabi[j]);
            s1 += fb[j] * (c - a);
            st += (a - c) * (a - c);
        }
        first[i] = s1 / m / var;
        total[i] = st / m / 2.0 / var;
    }
    true
}

/// The `q`-quantile of the non-empty, sorted `sorted`, interpolating linearly between
/// order statistics (the "type 7" definition of R and NumPy).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (pos - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Standardized regression coefficients of `y` on the columns of `x`.
///
/// `x` holds one row per model run (`x[r][c]` is input `c` of run `r`), `y` the
/// matching outputs. Every column and `y` are standardized (minus the mean, divided by
/// the sample standard deviation) and the ordinary least-squares slopes of standardized
/// `y` on the standardized columns are returned, one per column. They are found from
/// the normal equations, `R·β = r` with `R` the correlation matrix of the inputs and `r`
/// their correlations with `y`, by Gaussian elimination with partial pivoting.
///
/// A coefficient is the change of `y`, in standard deviations, per standard deviation
/// of the input with the others held fixed: its sign is the direction of the effect
/// and, for a near-linear model, its square is the input's share of the variance.
///
/// # Errors
///
/// [`SensitivityError::LengthMismatch`] if `x` and `y` have different lengths,
/// [`SensitivityError::TooFewSamples`] with fewer than 2 rows,
/// [`SensitivityError::RaggedRow`] if rows differ in length,
/// [`SensitivityError::NonFiniteInput`] / [`SensitivityError::NonFiniteOutput`] for NaN
/// or infinite values, [`SensitivityError::ZeroVariance`] if `y` is constant,
/// [`SensitivityError::ConstantInput`] if a column is constant and
/// [`SensitivityError::Singular`] if the columns are (nearly) linearly dependent, which
/// includes having no more rows than columns.
pub fn standardized_regression(x: &[Vec<f64>], y: &[f64]) -> Result<Vec<f64>, SensitivityError> {
    if x.len() != y.len() {
        return Err(SensitivityError::LengthMismatch {
            rows: x.len(),
            outputs: y.len(),
        });
    }
    let n = y.len();
    if n < 2 {
        return Err(SensitivityError::TooFewSamples { n });
    }
    let k = x[0].len();
    for (row, xr) in x.iter().enumerate() {
        if xr.len() != k {
            return Err(SensitivityError::RaggedRow {
                row,
                got: xr.len(),
                expected: k,
            });
        }
        if let Some((column, &value)) = xr.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(SensitivityError::NonFiniteInput { row, column, value });
        }
    }
    if let Some((index, &value)) = y.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(SensitivityError::NonFiniteOutput { index, value });
    }

    let zy = standardize(y).ok_or(SensitivityError::ZeroVariance)?;
    let mut zx = Vec::with_capacity(k);
    for column in 0..k {
        let col: Vec<f64> = x.iter().map(|r| r[column]).collect();
        zx.push(standardize(&col).ok_or(SensitivityError::ConstantInput { column })?);
    }

    // Normal equations in correlation form: R β = r, augmented as [R | r].
    let scale = 1.0 / (n - 1) as f64;
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>() * scale;
    let mut m: Vec<Vec<f64>> = (0..k)
        .map(|a| {
            let mut row: Vec<f64> = (0..k).map(|b| dot(&zx[a], &zx[b])).collect();
            row.push(dot(&zx[a], &zy));
            row
        })
        .collect();
    solve_augmented(&mut m).map_err(|column| SensitivityError::Singular { column })
}

/// `(v − mean) / sd` with the sample standard deviation, or `None` if `v` is constant.
fn standardize(v: &[f64]) -> Option<Vec<f64>> {
    let first = v[0];
    if v.iter().all(|&x| x == first) {
        return None;
    }
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    Some(v.iter().map(|x| (x - mean) / sd).collect())
}

/// Pivots smaller than this (on a correlation matrix, whose diagonal is 1) mean the
/// columns are linearly dependent up to rounding.
const PIVOT_TOLERANCE: f64 = 1e-10;

/// Solves the `k × (k+1)` augmented system `[M | b]` in place by Gaussian elimination
/// with partial pivoting and returns the solution, or the column without a usable
/// pivot.
fn solve_augmented(m: &mut [Vec<f64>]) -> Result<Vec<f64>, usize> {
    let k = m.len();
    for col in 0..k {
        let pivot = (col..k)
            .max_by(|&p, &q| m[p][col].abs().total_cmp(&m[q][col].abs()))
            .expect("col < k");
        let size = m[pivot][col].abs();
        if size.is_nan() || size <= PIVOT_TOLERANCE {
            return Err(col);
        }
        m.swap(col, pivot);
        let (done, below) = m.split_at_mut(col + 1);
        let prow = &done[col];
        for row in below.iter_mut() {
            let factor = row[col] / prow[col];
            if factor != 0.0 {
                for (x, p) in row[col..].iter_mut().zip(&prow[col..]) {
                    *x -= factor * p;
                }
            }
        }
    }
    let mut beta = vec![0.0; k];
    for row in (0..k).rev() {
        let s: f64 = (row + 1..k).map(|c| m[row][c] * beta[c]).sum();
        beta[row] = (m[row][k] - s) / m[row][row];
    }
    Ok(beta)
}

/// The Ishigami–Homma function, a standard test case for sensitivity analysis:
/// `sin(x1) + a·sin²(x2) + b·x3⁴·sin(x1)` after mapping each coordinate of
/// `x ∈ [0, 1)^3` linearly to `[−π, π)`.
///
/// With `a = 7`, `b = 0.1` its first-order indices are about `0.314, 0.442, 0` and its
/// total-order indices about `0.558, 0.442, 0.244`: `x3` acts only through its
/// interaction with `x1`. Only the first three coordinates of `x` are used.
///
/// # Panics
///
/// If `x` has fewer than three coordinates.
pub fn ishigami(x: &[f64], a: f64, b: f64) -> f64 {
    let to_angle = |u: f64| -std::f64::consts::PI + 2.0 * std::f64::consts::PI * u;
    let (x1, x2, x3) = (to_angle(x[0]), to_angle(x[1]), to_angle(x[2]));
    x1.sin() + a * x2.sin().powi(2) + b * x3.powi(4) * x1.sin()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    /// The analytic first- and total-order indices of the Ishigami function.
    fn ishigami_analytic(a: f64, b: f64) -> ([f64; 3], [f64; 3]) {
        let pi4 = PI.powi(4);
        let v1 = 0.5 * (1.0 + b * pi4 / 5.0).powi(2);
        let v2 = a * a / 8.0;
        let v13 = b * b * PI.powi(8) * (1.0 / 18.0 - 1.0 / 50.0);
        let v = v1 + v2 + v13;
        ([v1 / v, v2 / v, 0.0], [(v1 + v13) / v, v2 / v, v13 / v])
    }

    #[test]
    fn the_ishigami_indices_from_20000_base_samples_match_the_analytic_values() {
        // At n = 20 000 the standard error of S1, S2 and ST1 is about 0.01, so the
        // 0.03 tolerance is about three of them: 400 design seeds all passed (the worst
        // deviation was 0.029), but a rare design misses (seed 2010 gives S1 = 0.345).
        let (n, d) = (20_000, 3);
        let x = saltelli(n, d, 0);
        let y: Vec<f64> = x.iter().map(|p| ishigami(p, 7.0, 0.1)).collect();
        let s = sobol_indices(&y, n, d, 200, 1999).unwrap();
        let (first, total) = ishigami_analytic(7.0, 0.1);
        for (name, est, exact) in [("first", &s.first, first), ("total", &s.total, total)] {
            for i in 0..d {
                let e = &est[i];
                assert!(
                    e.lo - 0.02 <= exact[i] && exact[i] <= e.hi + 0.02,
                    "{name}-order S{}: {exact:?}[{i}] outside {e:?} ± 0.02",
                    i + 1
                );
                assert!(
                    (e.value - exact[i]).abs() < 0.03,
                    "{name}-order S{}: estimate {} vs analytic {}",
                    i + 1,
                    e.value,
                    exact[i]
                );
                assert!(e.lo <= e.value && e.value <= e.hi, "{e:?}");
            }
        }
        // The analytic values quoted in the docs.
        assert!((first[0] - 0.314).abs() < 5e-4 && (first[1] - 0.442).abs() < 5e-4);
        assert!((total[0] - 0.558).abs() < 5e-4 && (total[2] - 0.244).abs() < 5e-4);
    }

    #[test]
    fn latin_hypercube_puts_exactly_one_point_in_each_bin_of_every_dimension() {
        for (n, d, seed) in [(1, 1, 0), (7, 3, 1), (100, 5, 2), (1000, 2, 3)] {
            let pts = latin_hypercube(n, d, seed);
            assert_eq!(pts.len(), n);
            for j in 0..d {
                let mut count = vec![0; n];
                for p in &pts {
                    assert_eq!(p.len(), d);
                    assert!((0.0..1.0).contains(&p[j]), "{} outside [0, 1)", p[j]);
                    count[(p[j] * n as f64).floor() as usize] += 1;
                }
                assert!(count.iter().all(|&c| c == 1), "n={n} dim {j}: {count:?}");
            }
        }
        assert!(latin_hypercube(0, 3, 0).is_empty());
    }

    #[test]
    fn latin_hypercube_and_saltelli_are_deterministic_given_the_seed() {
        assert_eq!(latin_hypercube(50, 4, 9), latin_hypercube(50, 4, 9));
        assert_ne!(latin_hypercube(50, 4, 9), latin_hypercube(50, 4, 10));
        assert_eq!(saltelli(50, 4, 9), saltelli(50, 4, 9));
        assert_ne!(saltelli(50, 4, 9), saltelli(50, 4, 10));
    }

    #[test]
    fn saltelli_rows_of_ab_i_equal_a_except_column_i_which_equals_b() {
        let (n, d) = (16, 4);
        let pts = saltelli(n, d, 5);
        assert_eq!(pts.len(), n * (d + 2));
        let (a, b) = (&pts[..n], &pts[n..2 * n]);
        assert_ne!(a, b);
        for i in 0..d {
            let ab = &pts[(2 + i) * n..(3 + i) * n];
            for j in 0..n {
                for c in 0..d {
                    let want = if c == i { b[j][c] } else { a[j][c] };
                    assert_eq!(ab[j][c], want, "AB_{i} row {j} column {c}");
                }
            }
        }
        assert!(pts.iter().flatten().all(|v| (0.0..1.0).contains(v)));
    }

    #[test]
    fn standardized_regression_recovers_the_signs_and_ordering_of_a_linear_model() {
        let x = latin_hypercube(200, 3, 11);
        let y: Vec<f64> = x.iter().map(|p| 3.0 * p[0] - p[1] + 0.0 * p[2]).collect();
        let src = standardized_regression(&x, &y).unwrap();
        assert_eq!(src.len(), 3);
        assert!(src[0] > 0.0 && src[1] < 0.0, "{src:?}");
        assert!(
            src[0].abs() > src[1].abs() && src[1].abs() > src[2].abs(),
            "{src:?}"
        );
        assert!(src[2].abs() < 0.05, "{src:?}");
        // An exactly linear model: the squared coefficients add up to R² = 1.
        let r2: f64 = src.iter().map(|c| c * c).sum();
        assert!((r2 - 1.0).abs() < 0.05, "{src:?}");
    }

    #[test]
    fn sobol_indices_errors_say_what_was_expected() {
        let msg = |e: SensitivityError| e.to_string();
        let e = sobol_indices(&[1.0; 9], 2, 3, 10, 0).unwrap_err();
        assert_eq!(
            e,
            SensitivityError::WrongLength {
                expected: 10,
                got: 9,
                n: 2,
                d: 3
            }
        );
        assert_eq!(
            msg(e),
            "expected 10 model outputs (n·(d+2) = 2·(3+2), in the order of \
             `saltelli(n, d, seed)`), got 9"
        );

        let e = sobol_indices(&[1.0; 5], 1, 3, 10, 0).unwrap_err();
        assert_eq!(msg(e), "expected at least 2 samples (base rows), got 1");

        let e = sobol_indices(&[2.0; 10], 2, 3, 10, 0).unwrap_err();
        assert_eq!(e, SensitivityError::ZeroVariance);
        assert!(msg(e).contains("zero variance: expected outputs that vary"));

        let mut y = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        y[6] = f64::NAN;
        let e = sobol_indices(&y, 2, 3, 10, 0).unwrap_err();
        assert_eq!(
            msg(e),
            "model output 6 is NaN: expected every model output to be finite"
        );
        y[6] = f64::INFINITY;
        let e = sobol_indices(&y, 2, 3, 10, 0).unwrap_err();
        assert!(msg(e).starts_with("model output 6 is inf: expected"));
    }

    #[test]
    fn standardized_regression_errors_say_what_was_expected() {
        let msg =
            |x: &[Vec<f64>], y: &[f64]| standardized_regression(x, y).unwrap_err().to_string();
        let x = vec![vec![0.0, 1.0], vec![1.0, 0.0], vec![2.0, 2.0]];
        assert_eq!(
            msg(&x, &[1.0, 2.0]),
            "expected one output per input row: got 3 input rows and 2 outputs"
        );
        assert_eq!(
            msg(&x[..1], &[1.0]),
            "expected at least 2 samples (base rows), got 1"
        );
        assert_eq!(
            msg(&[vec![0.0, 1.0], vec![1.0]], &[1.0, 2.0]),
            "input row 1 has 1 columns: expected 2, like the first row"
        );
        assert_eq!(
            msg(&[vec![0.0], vec![f64::NAN]], &[1.0, 2.0]),
            "input row 1, column 0 is NaN: expected every input to be finite"
        );
        assert!(msg(&x, &[1.0, 1.0, 1.0]).starts_with("the model outputs have zero variance"));
        assert!(
            msg(
                &[vec![1.0, 0.0], vec![1.0, 1.0], vec![1.0, 3.0]],
                &[1.0, 2.0, 4.0]
            )
            .starts_with("input column 0 is constant: expected every input column to vary")
        );
        // Column 1 is twice column 0: a singular design.
        let dependent = vec![vec![0.0, 0.0], vec![1.0, 2.0], vec![3.0, 6.0]];
        let e = standardized_regression(&dependent, &[1.0, 2.0, 4.0]).unwrap_err();
        assert_eq!(e, SensitivityError::Singular { column: 1 });
        assert!(
            e.to_string()
                .starts_with("singular design: input column 1 is (nearly)")
        );
        // As many rows as columns (after centring, fewer dimensions than columns).
        let e = standardized_regression(&[vec![0.0, 1.0], vec![1.0, 0.0]], &[1.0, 2.0]);
        assert!(matches!(e, Err(SensitivityError::Singular { .. })), "{e:?}");
    }

    #[test]
    fn sobol_indices_are_deterministic_and_the_interval_brackets_the_estimate() {
        let (n, d) = (500, 3);
        let y: Vec<f64> = saltelli(n, d, 1)
            .iter()
            .map(|p| ishigami(p, 7.0, 0.1))
            .collect();
        let s1 = sobol_indices(&y, n, d, 50, 3).unwrap();
        assert_eq!(s1, sobol_indices(&y, n, d, 50, 3).unwrap());
        assert_ne!(s1, sobol_indices(&y, n, d, 50, 4).unwrap());
        for e in s1.first.iter().chain(&s1.total) {
            assert!(
                e.lo <= e.hi && e.lo.is_finite() && e.hi.is_finite(),
                "{e:?}"
            );
        }
        let none = sobol_indices(&y, n, d, 0, 3).unwrap();
        for (e, p) in none.first.iter().zip(&s1.first) {
            assert_eq!((e.value, e.lo, e.hi), (p.value, p.value, p.value));
        }
    }
}
