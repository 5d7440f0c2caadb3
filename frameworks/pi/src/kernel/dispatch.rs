//! Runtime CPU-feature dispatch between kernel variants.
//!
//! The vector variants run the same blocked body (`run_blocks`), each compiled for a
//! different instruction set, so they return identical counts.
#![allow(unsafe_code)]

use super::rng::LaneStates;
use super::{Sampler, run_blocks, run_blocks_scalar};

/// One implementation of the sampling kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kernel {
    /// The plain scalar loop, one sample at a time ([`super::count_hits_scalar`]).
    Scalar,
    /// The blocked kernel built for the baseline target (SSE2 on x86-64).
    Portable,
    /// The blocked kernel built with AVX2 enabled (x86-64 only).
    Avx2,
}

/// The requested kernel variant cannot run on this CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("kernel variant {0:?} is not supported by this CPU; use Kernel::available() to pick one")]
#[non_exhaustive]
pub struct UnsupportedKernel(pub Kernel);

impl Kernel {
    /// Every variant, fastest last.
    pub const ALL: [Kernel; 3] = [Kernel::Scalar, Kernel::Portable, Kernel::Avx2];

    /// The fastest variant this CPU supports.
    pub fn detect() -> Kernel {
        static BEST: std::sync::OnceLock<Kernel> = std::sync::OnceLock::new();
        *BEST.get_or_init(|| Self::available().pop().unwrap_or(Kernel::Portable))
    }

    /// The variants this CPU supports, fastest last.
    pub fn available() -> Vec<Kernel> {
        Self::ALL.into_iter().filter(|k| k.is_supported()).collect()
    }

    /// Whether this CPU can run the variant.
    pub fn is_supported(self) -> bool {
        match self {
            Kernel::Scalar | Kernel::Portable => true,
            Kernel::Avx2 => avx2_detected(),
        }
    }

    /// Hits among `samples` points of `stream` under `seed`, computed by this variant.
    ///
    /// # Errors
    /// [`UnsupportedKernel`] when the CPU lacks the variant's instruction set.
    pub fn count_hits(
        self,
        seed: u64,
        stream: u64,
        samples: u64,
    ) -> Result<u64, UnsupportedKernel> {
        if self.is_supported() {
            Ok(Sampler::with_kernel(self, seed, stream, samples).finish())
        } else {
            Err(UnsupportedKernel(self))
        }
    }

    /// `blocks` steps of every lane on this variant; an unsupported one runs portably.
    pub(super) fn run_blocks(self, states: &mut LaneStates, blocks: u64) -> u64 {
        match self {
            Kernel::Scalar => run_blocks_scalar(states, blocks),
            Kernel::Portable => run_blocks_portable(states, blocks),
            Kernel::Avx2 => run_avx2(states, blocks),
        }
    }
}

#[inline(never)]
fn run_blocks_portable(states: &mut LaneStates, blocks: u64) -> u64 {
    run_blocks(states, blocks)
}

#[cfg(target_arch = "x86_64")]
fn avx2_detected() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
}

#[cfg(not(target_arch = "x86_64"))]
fn avx2_detected() -> bool {
    false
}

#[cfg(target_arch = "x86_64")]
fn run_avx2(states: &mut LaneStates, blocks: u64) -> u64 {
    if avx2_detected() {
        // SAFETY: `run_blocks_avx2` only requires AVX2, and `is_x86_feature_detected!`
        // has just confirmed this CPU supports it.
        unsafe { run_blocks_avx2(states, blocks) }
    } else {
        run_blocks_portable(states, blocks)
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn run_avx2(states: &mut LaneStates, blocks: u64) -> u64 {
    run_blocks_portable(states, blocks)
}

/// The blocked kernel compiled with AVX2.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn run_blocks_avx2(states: &mut LaneStates, blocks: u64) -> u64 {
    run_blocks(states, blocks)
}
