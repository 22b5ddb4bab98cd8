//! Randomness: the [`RandomSource`] trait, a seeded generator for the
//! deterministic profile, and the OS source (feature `std`).

/// A source of random bytes for `wasi:random`.
pub trait RandomSource: Send {
    /// Fills `buf` with random bytes. Must not fail; a source that can
    /// (the OS one) falls back as documented on it.
    fn fill(&mut self, buf: &mut [u8]);

    /// A random `u64` (from [`fill`](Self::fill) by default).
    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill(&mut b);
        u64::from_le_bytes(b)
    }
}

/// A deterministic generator (xoshiro256**, seeded through splitmix64): the
/// same seed gives the same bytes on every run and platform. Not
/// cryptographically secure; meant for replayable sandboxes and tests.
#[derive(Clone, Debug)]
pub struct SeededRandom {
    s: [u64; 4],
}

fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl SeededRandom {
    /// A generator whose whole output is determined by `seed`.
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        let s = [
            splitmix64(&mut x),
            splitmix64(&mut x),
            splitmix64(&mut x),
            splitmix64(&mut x),
        ];
        SeededRandom { s }
    }

    fn step(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }
}

impl RandomSource for SeededRandom {
    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.step().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.step()
    }
}

/// The operating system's random source (the `getrandom` crate). If the OS
/// source fails (it should not on supported hosts), the bytes come from a
/// [`SeededRandom`] seeded with the current time: never a panic, but then
/// not cryptographically secure.
#[cfg(feature = "std")]
#[derive(Debug, Default)]
pub struct OsRandom {
    fallback: Option<SeededRandom>,
}

#[cfg(feature = "std")]
impl OsRandom {
    /// The OS source.
    pub fn new() -> Self {
        OsRandom { fallback: None }
    }
}

#[cfg(feature = "std")]
impl RandomSource for OsRandom {
    fn fill(&mut self, buf: &mut [u8]) {
        if getrandom::fill(buf).is_ok() {
            return;
        }
        let fb = self.fallback.get_or_insert_with(|| {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0);
            SeededRandom::new(nanos)
        });
        fb.fill(buf);
    }
}

/// The most bytes one `get-random-bytes` call may ask for; more traps the
/// guest (a WIT function without an error case).
pub const MAX_RANDOM_BYTES: u64 = 16 << 20;

fn bytes(source: &mut dyn RandomSource, len: u64) -> componentry::Result<alloc::vec::Vec<u8>> {
    if len > MAX_RANDOM_BYTES {
        return Err(componentry::Error::trap(
            componentry::TrapKind::LimitExceeded,
            alloc::format!("wasi:random: {len} bytes asked for, the limit is {MAX_RANDOM_BYTES}"),
        ));
    }
    let mut v = alloc::vec![0u8; len as usize];
    source.fill(&mut v);
    Ok(v)
}

/// Links `wasi:random/random`, `insecure` and `insecure-seed`.
pub(crate) fn add_to_linker<T: crate::WasiView>(
    linker: &mut componentry::Linker<T>,
) -> componentry::Result<()> {
    use crate::io::V;
    use componentry::StoreContextMut;
    {
        let mut i = linker.instance(&alloc::format!("wasi:random/random{V}"))?;
        i.func_wrap(
            "get-random-bytes",
            |mut cx: StoreContextMut<'_, T>, (len,): (u64,)| {
                bytes(&mut *cx.data_mut().wasi().random, len)
            },
        )?;
        i.func_wrap(
            "get-random-u64",
            |mut cx: StoreContextMut<'_, T>, (): ()| Ok(cx.data_mut().wasi().random.next_u64()),
        )?;
    }
    {
        let mut i = linker.instance(&alloc::format!("wasi:random/insecure{V}"))?;
        i.func_wrap(
            "get-insecure-random-bytes",
            |mut cx: StoreContextMut<'_, T>, (len,): (u64,)| {
                bytes(&mut *cx.data_mut().wasi().insecure, len)
            },
        )?;
        i.func_wrap(
            "get-insecure-random-u64",
            |mut cx: StoreContextMut<'_, T>, (): ()| Ok(cx.data_mut().wasi().insecure.next_u64()),
        )?;
    }
    linker
        .instance(&alloc::format!("wasi:random/insecure-seed{V}"))?
        .func_wrap("insecure-seed", |mut cx: StoreContextMut<'_, T>, (): ()| {
            Ok(cx.data_mut().wasi().insecure_seed)
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_is_reproducible_and_seed_dependent() {
        let (mut a, mut b, mut c) = (
            SeededRandom::new(7),
            SeededRandom::new(7),
            SeededRandom::new(8),
        );
        let (mut x, mut y, mut z) = ([0u8; 37], [0u8; 37], [0u8; 37]);
        a.fill(&mut x);
        b.fill(&mut y);
        c.fill(&mut z);
        assert_eq!(x, y);
        assert_ne!(x, z);
        assert_ne!(x, [0u8; 37]);
    }
}
