//! A seeded PRNG and the few distributions the generator draws from. splitmix64 is tiny and
//! deterministic, which is all synthetic data needs; no `rand` crate.

use uuid::Uuid;

/// splitmix64 (Steele, Lea and Flood): one 64-bit state, full period, passes BigCrush.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    #[cfg(test)]
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// An independent stream per (seed, label, index), so each part of the data set is the
    /// same whatever was generated before it.
    pub fn stream(seed: u64, label: u64, index: u64) -> Self {
        let mut mixer = Rng(seed ^ label.wrapping_mul(0xA24B_AED4_963E_E407));
        mixer.0 ^= mixer.next_u64() ^ index.wrapping_mul(0x9FB2_1C65_1E98_DF25);
        Rng(mixer.next_u64())
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [0, n) (n > 0), without modulo bias worth mentioning.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in [low, high].
    pub fn between(&mut self, low: i64, high: i64) -> i64 {
        low + self.below((high - low + 1) as u64) as i64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// Log-uniform in [low, high]: as many values between 1 and 10 minutes as between 1 and
    /// 10 hours, the usual shape of gaps between events.
    pub fn log_uniform(&mut self, low: f64, high: f64) -> f64 {
        (low.ln() + self.unit() * (high.ln() - low.ln())).exp()
    }

    /// A UUID v7 for this moment, as the application generates ids (time-ordered).
    pub fn uuid_v7(&mut self, at_ms: i64) -> Uuid {
        let mut bytes = [0u8; 10];
        bytes[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_le_bytes()[..2]);
        uuid::Builder::from_unix_timestamp_millis(at_ms as u64, &bytes).into_uuid()
    }

    /// A random UUID v4 (request ids, sessions).
    pub fn uuid_v4(&mut self) -> Uuid {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }
}

/// A fixed discrete distribution, sampled by binary search over its cumulative weights.
#[derive(Debug, Clone)]
pub struct Weighted {
    cumulative: Vec<f64>,
}

impl Weighted {
    pub fn new(weights: impl IntoIterator<Item = f64>) -> Self {
        let mut total = 0.0;
        let cumulative = weights
            .into_iter()
            .map(|w| {
                total += w;
                total
            })
            .collect();
        Self { cumulative }
    }

    /// Rank `i` (from 0) has weight `1 / (i + 1)^s`: a few items take most of the draws.
    pub fn zipf(n: usize, s: f64) -> Self {
        Self::new((1..=n).map(|k| (k as f64).powf(-s)))
    }

    pub fn sample(&self, rng: &mut Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let u = rng.unit() * total;
        self.cumulative
            .partition_point(|&c| c <= u)
            .min(self.cumulative.len().saturating_sub(1))
    }
}

/// Calls per client, `P(k) ∝ k^-s` for k in 1..=max, with `s` chosen so the mean is
/// `1 / (1 - repeat_share)`: then `repeat_share` of all calls are not a client's first.
pub fn calls_per_client(repeat_share: f64, max: usize) -> Weighted {
    let target = 1.0 / (1.0 - repeat_share);
    let mean = |s: f64| {
        let (mut weights, mut weighted) = (0.0, 0.0);
        for k in 1..=max {
            let w = (k as f64).powf(-s);
            weights += w;
            weighted += w * k as f64;
        }
        weighted / weights
    };
    // The mean falls as s grows; bisect.
    let (mut low, mut high) = (1.01_f64, 6.0_f64);
    for _ in 0..60 {
        let mid = (low + high) / 2.0;
        if mean(mid) > target {
            low = mid;
        } else {
            high = mid;
        }
    }
    // Index i is k = i + 1.
    Weighted::zipf(max, (low + high) / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4).map(|_| Rng::stream(1, 2, 3).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(
            Rng::stream(1, 2, 3).next_u64(),
            Rng::stream(1, 2, 4).next_u64()
        );
    }

    #[test]
    fn calls_per_client_gives_the_asked_repeat_share() {
        let law = calls_per_client(0.3, 400);
        let mut rng = Rng::new(7);
        let (clients, calls) = (200_000u64, {
            let mut calls = 0u64;
            for _ in 0..200_000 {
                calls += law.sample(&mut rng) as u64 + 1;
            }
            calls
        });
        let share = 1.0 - clients as f64 / calls as f64;
        assert!((share - 0.3).abs() < 0.02, "repeat share {share}");
    }

    #[test]
    fn below_stays_in_range() {
        let mut rng = Rng::new(1);
        assert!((0..1000).all(|_| rng.below(7) < 7));
        assert!((0..1000).all(|_| (3..=5).contains(&rng.between(3, 5))));
    }
}
