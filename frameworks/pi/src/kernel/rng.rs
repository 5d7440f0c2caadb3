//! Random streams: SplitMix64 for seeding and xoshiro256++ lanes for sampling.
//!
//! Every `(seed, stream, lane)` triple names its own xoshiro256++ state, seeded through
//! SplitMix64 as the xoshiro authors recommend. Tasks use their index as the stream, so a
//! task's samples depend only on the job seed and its index, never on where or when it ran.

/// Number of independent xoshiro256++ lanes a sampling stream is split into.
///
/// Eight 64-bit lanes fill two AVX2 registers (or one AVX-512 register) per state word.
pub const LANES: usize = 8;

/// One step of the SplitMix64 output function (a bijective 64-bit mixer).
#[inline]
pub const fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The SplitMix64 generator, used only to expand a seed into xoshiro states.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

    /// A generator starting from `seed`.
    pub const fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64-bit output.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(Self::GAMMA);
        mix64(self.state)
    }
}

/// The four state words of `LANES` xoshiro256++ generators, stored word-major
/// (`words[w][lane]`) so each word of all lanes is one contiguous array.
pub type LaneStates = [[u64; LANES]; 4];

/// The xoshiro256++ state of one lane of one stream.
///
/// Distinct `(seed, stream, lane)` triples give unrelated SplitMix64 starting points, and
/// an all-zero state (the one fixed point of xoshiro) is replaced by a fixed non-zero one.
pub fn lane_state(seed: u64, stream: u64, lane: usize) -> [u64; 4] {
    let key = mix64(seed ^ mix64(stream.wrapping_add(mix64(lane as u64 + 1))));
    let mut sm = SplitMix64::new(key);
    let mut s = [sm.next_u64(), sm.next_u64(), sm.next_u64(), sm.next_u64()];
    if s == [0; 4] {
        s[0] = SplitMix64::GAMMA;
    }
    s
}

/// The states of all `LANES` lanes of one stream, word-major.
pub fn lane_states(seed: u64, stream: u64) -> LaneStates {
    let mut words = [[0u64; LANES]; 4];
    for lane in 0..LANES {
        let s = lane_state(seed, stream, lane);
        for (w, word) in words.iter_mut().enumerate() {
            word[lane] = s[w];
        }
    }
    words
}

/// The state of one lane out of word-major lane states.
#[inline(always)]
pub fn get_lane(states: &LaneStates, lane: usize) -> [u64; 4] {
    states.map(|word| word[lane])
}

/// Stores the state of one lane into word-major lane states.
#[inline(always)]
pub fn set_lane(states: &mut LaneStates, lane: usize, state: [u64; 4]) {
    for (word, value) in states.iter_mut().zip(state) {
        word[lane] = value;
    }
}

/// One xoshiro256++ step on a single state: returns the output and advances the state.
#[inline(always)]
pub fn xoshiro_next(s: &mut [u64; 4]) -> u64 {
    let out = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
    let t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s[3].rotate_left(45);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_matches_reference_output() {
        // First outputs of SplitMix64 seeded with 1234567, from the reference C code.
        let mut sm = SplitMix64::new(1_234_567);
        assert_eq!(sm.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(sm.next_u64(), 3_203_168_211_198_807_973);
    }

    #[test]
    fn xoshiro_matches_reference_output() {
        // xoshiro256++ from state {1, 2, 3, 4}: reference outputs.
        let mut s = [1u64, 2, 3, 4];
        assert_eq!(xoshiro_next(&mut s), 41_943_041);
        assert_eq!(xoshiro_next(&mut s), 58_720_359);
        assert_eq!(xoshiro_next(&mut s), 3_588_806_011_781_223);
    }

    #[test]
    fn streams_and_lanes_differ() {
        let a = lane_state(7, 0, 0);
        assert_ne!(a, lane_state(7, 0, 1));
        assert_ne!(a, lane_state(7, 1, 0));
        assert_ne!(a, lane_state(8, 0, 0));
        assert_eq!(a, lane_state(7, 0, 0));
    }
}
