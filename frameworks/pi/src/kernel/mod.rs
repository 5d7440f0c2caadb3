//! The Monte Carlo sampling kernel: how many of `n` random points fall inside the unit
//! quarter circle.
//!
//! A sample is one xoshiro256++ output split into two 31-bit coordinates `x` (top bits)
//! and `y` (low bits); it hits when `x² + y² < 2⁶²` (no overflow is possible). The
//! samples of one stream are spread over [`LANES`] independent lanes: with `n = 8q + r`,
//! every lane draws `q` samples and lanes `0..r` draw one more. The count therefore does
//! not depend on which [`Kernel`] variant computed it, and all variants agree exactly.
//!
//! ```
//! use mesos_pi::kernel::{count_hits, Kernel};
//!
//! let hits = count_hits(42, 0, 100_000);
//! assert_eq!(hits, Kernel::Scalar.count_hits(42, 0, 100_000).unwrap());
//! let pi = 4.0 * hits as f64 / 100_000.0;
//! assert!((pi - std::f64::consts::PI).abs() < 0.05);
//! ```

mod dispatch;
pub mod rng;

pub use dispatch::{Kernel, UnsupportedKernel};
pub use rng::LANES;

#[cfg(test)]
use rng::lane_state;
use rng::{LaneStates, get_lane, lane_states, set_lane, xoshiro_next};

/// Hits among `samples` points of stream `stream` under `seed`, on the fastest kernel
/// this CPU supports (see [`Kernel::detect`]).
pub fn count_hits(seed: u64, stream: u64, samples: u64) -> u64 {
    Sampler::with_kernel(Kernel::detect(), seed, stream, samples).finish()
}

/// The plain scalar loop: each lane's samples one after another, one generator step per
/// sample. It is the reference the vector variants are checked and benchmarked against.
pub fn count_hits_scalar(seed: u64, stream: u64, samples: u64) -> u64 {
    Sampler::with_kernel(Kernel::Scalar, seed, stream, samples).finish()
}

/// Mask of one 31-bit coordinate.
const COORD_MASK: u64 = (1 << 31) - 1;
/// The squared radius of the quarter circle on the 31-bit grid, `(2³¹)²`.
const RADIUS_SQUARED: u64 = 1 << 62;

/// Whether the point encoded by one 64-bit random word lies inside the quarter circle:
/// `x` is the top 31 bits, `y` the low 31 bits, and it hits when `x² + y² < 2⁶²`.
#[inline(always)]
pub fn is_hit(word: u64) -> bool {
    let x = word >> 33;
    let y = word & COORD_MASK;
    x * x + y * y < RADIUS_SQUARED
}

/// A stream being sampled in slices, so a long task can report progress and stop early.
///
/// ```
/// use mesos_pi::kernel::{Sampler, count_hits};
///
/// let mut s = Sampler::new(1, 2, 1_000_003);
/// while !s.is_done() {
///     s.advance(100_000);
/// }
/// assert_eq!(s.hits(), count_hits(1, 2, 1_000_003));
/// ```
#[derive(Debug, Clone)]
pub struct Sampler {
    kernel: Kernel,
    states: LaneStates,
    blocks_left: u64,
    extra: usize,
    hits: u64,
    samples: u64,
}

impl Sampler {
    /// A sampler for `samples` points of `stream` under `seed` on the fastest kernel.
    pub fn new(seed: u64, stream: u64, samples: u64) -> Self {
        Self::with_kernel(Kernel::detect(), seed, stream, samples)
    }

    /// A sampler on a given kernel; an unsupported one falls back to [`Kernel::Portable`].
    pub fn with_kernel(kernel: Kernel, seed: u64, stream: u64, samples: u64) -> Self {
        let kernel = if kernel.is_supported() {
            kernel
        } else {
            Kernel::Portable
        };
        Self {
            kernel,
            states: lane_states(seed, stream),
            blocks_left: samples / LANES as u64,
            extra: (samples % LANES as u64) as usize,
            hits: 0,
            samples,
        }
    }

    /// Draws up to about `max_samples` more samples (at least one block of [`LANES`]);
    /// returns how many were drawn.
    pub fn advance(&mut self, max_samples: u64) -> u64 {
        let blocks = (max_samples / LANES as u64).clamp(1, self.blocks_left.max(1));
        if self.blocks_left > 0 {
            let blocks = blocks.min(self.blocks_left);
            self.hits += self.kernel.run_blocks(&mut self.states, blocks);
            self.blocks_left -= blocks;
            return blocks * LANES as u64;
        }
        // The remainder: one more sample on each of the first `extra` lanes.
        let extra = std::mem::take(&mut self.extra);
        for lane in 0..extra {
            let mut one = get_lane(&self.states, lane);
            self.hits += u64::from(is_hit(xoshiro_next(&mut one)));
        }
        extra as u64
    }

    /// Draws every remaining sample and returns the hits.
    pub fn finish(mut self) -> u64 {
        while !self.is_done() {
            self.advance(u64::MAX);
        }
        self.hits
    }

    /// Whether every sample has been drawn.
    pub fn is_done(&self) -> bool {
        self.blocks_left == 0 && self.extra == 0
    }

    /// Hits so far.
    pub fn hits(&self) -> u64 {
        self.hits
    }

    /// The samples this sampler draws in total.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// The kernel variant in use.
    pub fn kernel(&self) -> Kernel {
        self.kernel
    }
}

/// `blocks` steps of each lane, lane after lane: the plain scalar loop.
#[inline(never)]
fn run_blocks_scalar(s: &mut LaneStates, blocks: u64) -> u64 {
    let mut hits = 0;
    for lane in 0..LANES {
        let mut one = get_lane(s, lane);
        for _ in 0..blocks {
            hits += u64::from(is_hit(xoshiro_next(&mut one)));
        }
        set_lane(s, lane, one);
    }
    hits
}

/// `blocks` steps of all lanes at once; returns the hits and leaves `s` advanced.
///
/// Written for the compiler's vectoriser: the lanes are updated in place, rotations are
/// spelled as shifts, and the hit test needs no unsigned 64-bit compare (AVX2 has none).
/// It is inlined into each target-feature variant.
#[inline(always)]
#[allow(clippy::manual_rotate)] // shifts vectorise on AVX2, which has no 64-bit rotate
fn run_blocks(s: &mut LaneStates, blocks: u64) -> u64 {
    let mut hits = [0u64; LANES];
    for _ in 0..blocks {
        let [s0, s1, s2, s3] = &mut *s;
        for l in 0..LANES {
            let a = s0[l].wrapping_add(s3[l]);
            let out = ((a << 23) | (a >> 41)).wrapping_add(s0[l]);
            let t = s1[l] << 17;
            s2[l] ^= s0[l];
            s3[l] ^= s1[l];
            s1[l] ^= s2[l];
            s0[l] ^= s3[l];
            s2[l] ^= t;
            s3[l] = (s3[l] << 45) | (s3[l] >> 19);
            // Branch-free `is_hit`: a hit adds 1 to this lane's counter.
            let x = out >> 33;
            let y = out & COORD_MASK;
            // (Wrapping ops: no overflow is possible, and overflow checks of debug
            // builds would stop the vectoriser.)
            let r2 = x.wrapping_mul(x).wrapping_add(y.wrapping_mul(y));
            hits[l] = hits[l].wrapping_add(u64::from(r2 < RADIUS_SQUARED));
        }
    }
    hits.iter().sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_agree_exactly_on_blocks_and_remainders() {
        // 0..=17 cover empty input, remainder only, whole blocks and block + remainder.
        let sizes = (0..=17u64).chain([63, 64, 65, 1000, 4099]);
        for n in sizes {
            let reference = count_hits_scalar(9, 3, n);
            for k in Kernel::available() {
                assert_eq!(k.count_hits(9, 3, n), Ok(reference), "{k:?} at n={n}");
            }
        }
    }

    #[test]
    fn remainder_samples_come_from_the_leading_lanes() {
        // n = 3: one sample from each of lanes 0, 1 and 2.
        let expected: u64 = (0..3)
            .map(|lane| {
                let mut s = lane_state(5, 1, lane);
                u64::from(is_hit(xoshiro_next(&mut s)))
            })
            .sum();
        assert_eq!(count_hits(5, 1, 3), expected);
        // n = 8 + 3 starts the remainder after one full block.
        let mut expected = count_hits(5, 1, 8);
        for lane in 0..3 {
            let mut s = lane_state(5, 1, lane);
            xoshiro_next(&mut s);
            expected += u64::from(is_hit(xoshiro_next(&mut s)));
        }
        assert_eq!(count_hits(5, 1, 11), expected);
    }

    #[test]
    fn sampling_in_slices_matches_one_go() {
        for k in Kernel::available() {
            for n in [0u64, 5, 8, 77, 10_001] {
                let mut s = Sampler::with_kernel(k, 3, 4, n);
                let mut drawn = 0;
                while !s.is_done() {
                    drawn += s.advance(24);
                }
                assert_eq!(drawn, n);
                assert_eq!(s.hits(), count_hits_scalar(3, 4, n), "{k:?} n={n}");
            }
        }
    }

    #[test]
    fn hit_rate_is_pi_over_four_within_five_standard_errors() {
        let n = 2_000_000u64;
        let hits = count_hits(2024, 0, n);
        let p = hits as f64 / n as f64;
        let se = (p * (1.0 - p) / n as f64).sqrt();
        assert!((p - std::f64::consts::FRAC_PI_4).abs() < 5.0 * se, "p={p}");
    }

    #[test]
    fn streams_are_independent_and_deterministic() {
        assert_eq!(count_hits(1, 0, 10_000), count_hits(1, 0, 10_000));
        // Two streams drawing the same count must not produce identical sequences.
        let a: Vec<u64> = (1..50).map(|n| count_hits(1, 0, n)).collect();
        let b: Vec<u64> = (1..50).map(|n| count_hits(1, 1, n)).collect();
        assert_ne!(a, b);
    }

    #[test]
    fn hit_test_edges() {
        let point = |x: u64, y: u64| (x << 33) | y;
        assert!(is_hit(0));
        assert!(!is_hit(u64::MAX));
        // On an axis, every coordinate below the radius 2^31 is inside.
        assert!(is_hit(point(COORD_MASK, 0)));
        assert!(is_hit(point(0, COORD_MASK)));
        // On the diagonal the boundary lies at 2^31 / sqrt(2) = 1518500249.99...
        assert!(is_hit(point(1_518_500_249, 1_518_500_249)));
        assert!(!is_hit(point(1_518_500_250, 1_518_500_250)));
        // Bit 32 (between the coordinates) is ignored.
        assert_eq!(is_hit(point(7, 9)), is_hit(point(7, 9) | (1 << 32)));
    }
}
