//! Clocks: the [`WallClock`] and [`MonotonicClock`] traits, virtual clocks
//! for the deterministic profile, and host clocks (feature `std`).

use componentry::{ComponentType, Lift, Lower};

/// WIT `wasi:clocks/wall-clock.datetime`: seconds and nanoseconds since the
/// Unix epoch.
#[derive(
    ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default,
)]
pub struct Datetime {
    /// Whole seconds.
    pub seconds: u64,
    /// Nanoseconds within the second (below 1,000,000,000).
    pub nanoseconds: u32,
}

impl Datetime {
    /// The instant `nanos` nanoseconds after the epoch.
    pub fn from_nanos(nanos: u128) -> Self {
        Datetime {
            seconds: (nanos / 1_000_000_000).min(u128::from(u64::MAX)) as u64,
            nanoseconds: (nanos % 1_000_000_000) as u32,
        }
    }

    /// Nanoseconds since the epoch.
    pub fn as_nanos(&self) -> u128 {
        u128::from(self.seconds) * 1_000_000_000 + u128::from(self.nanoseconds)
    }
}

/// A wall clock for `wasi:clocks/wall-clock` (and file timestamps of the
/// in-memory filesystem).
pub trait WallClock: Send {
    /// The current time.
    fn now(&mut self) -> Datetime;
    /// The clock's resolution.
    fn resolution(&self) -> Datetime;
}

/// A monotonic clock for `wasi:clocks/monotonic-clock` and the timers of
/// `wasi:io/poll`, in nanoseconds from an arbitrary origin.
pub trait MonotonicClock: Send {
    /// The current instant.
    fn now(&mut self) -> u64;
    /// The clock's resolution in nanoseconds.
    fn resolution(&self) -> u64;
    /// Waits until `now() >= deadline`: a host clock sleeps, a virtual clock
    /// moves its time forward.
    fn wait_until(&mut self, deadline: u64);
}

/// 2000-01-01T00:00:00Z, where the deterministic wall clock starts.
pub const DETERMINISTIC_EPOCH: Datetime = Datetime {
    seconds: 946_684_800,
    nanoseconds: 0,
};

/// A virtual wall clock: starts at a fixed instant and advances by a fixed
/// step on every reading. Never consults the host.
#[derive(Clone, Debug)]
pub struct VirtualWallClock {
    now: u128,
    step: u64,
}

impl VirtualWallClock {
    /// A clock reading `start` first, then `step_nanos` later on each reading.
    pub fn new(start: Datetime, step_nanos: u64) -> Self {
        VirtualWallClock {
            now: start.as_nanos(),
            step: step_nanos,
        }
    }
}

impl WallClock for VirtualWallClock {
    fn now(&mut self) -> Datetime {
        let t = Datetime::from_nanos(self.now);
        self.now = self.now.saturating_add(u128::from(self.step));
        t
    }

    fn resolution(&self) -> Datetime {
        Datetime::from_nanos(u128::from(self.step.max(1)))
    }
}

/// A virtual monotonic clock: starts at 0, advances by a fixed step on every
/// reading, and jumps to a timer's deadline when the guest waits on it (no
/// real sleeping).
#[derive(Clone, Debug)]
pub struct VirtualMonotonicClock {
    now: u64,
    step: u64,
}

impl VirtualMonotonicClock {
    /// A clock reading 0 first, then `step_nanos` more on each reading.
    pub fn new(step_nanos: u64) -> Self {
        VirtualMonotonicClock {
            now: 0,
            step: step_nanos,
        }
    }
}

impl MonotonicClock for VirtualMonotonicClock {
    fn now(&mut self) -> u64 {
        let t = self.now;
        self.now = self.now.saturating_add(self.step);
        t
    }

    fn resolution(&self) -> u64 {
        self.step.max(1)
    }

    fn wait_until(&mut self, deadline: u64) {
        self.now = self.now.max(deadline);
    }
}

/// The host's wall clock (`std::time::SystemTime`).
#[cfg(feature = "std")]
#[derive(Clone, Copy, Debug, Default)]
pub struct HostWallClock;

#[cfg(feature = "std")]
impl WallClock for HostWallClock {
    fn now(&mut self) -> Datetime {
        match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => Datetime {
                seconds: d.as_secs(),
                nanoseconds: d.subsec_nanos(),
            },
            // A host clock before 1970: report the epoch.
            Err(_) => Datetime::default(),
        }
    }

    fn resolution(&self) -> Datetime {
        Datetime {
            seconds: 0,
            nanoseconds: 1,
        }
    }
}

/// The host's monotonic clock (`std::time::Instant`), counted from when
/// the clock was made; waiting sleeps the thread.
#[cfg(feature = "std")]
#[derive(Clone, Copy, Debug)]
pub struct HostMonotonicClock {
    origin: std::time::Instant,
}

#[cfg(feature = "std")]
impl Default for HostMonotonicClock {
    fn default() -> Self {
        HostMonotonicClock {
            origin: std::time::Instant::now(),
        }
    }
}

#[cfg(feature = "std")]
impl MonotonicClock for HostMonotonicClock {
    fn now(&mut self) -> u64 {
        self.origin.elapsed().as_nanos().min(u128::from(u64::MAX)) as u64
    }

    fn resolution(&self) -> u64 {
        1
    }

    fn wait_until(&mut self, deadline: u64) {
        let now = self.now();
        if deadline > now {
            std::thread::sleep(core::time::Duration::from_nanos(deadline - now));
        }
    }
}

/// Links `wasi:clocks/wall-clock` and `wasi:clocks/monotonic-clock`.
pub(crate) fn add_to_linker<T: crate::WasiView>(
    linker: &mut componentry::Linker<T>,
) -> componentry::Result<()> {
    use crate::io::{new_pollable, V};
    use crate::table::Poll;
    use componentry::StoreContextMut;
    {
        let mut i = linker.instance(&alloc::format!("wasi:clocks/wall-clock{V}"))?;
        i.func_wrap("now", |mut cx: StoreContextMut<'_, T>, (): ()| {
            Ok(cx.data_mut().wasi().wall.now())
        })?;
        i.func_wrap("resolution", |mut cx: StoreContextMut<'_, T>, (): ()| {
            Ok(cx.data_mut().wasi().wall.resolution())
        })?;
    }
    let mut i = linker.instance(&alloc::format!("wasi:clocks/monotonic-clock{V}"))?;
    crate::table::define::<T, crate::table::markers::Pollable>(&mut i, "pollable")?;
    i.func_wrap("now", |mut cx: StoreContextMut<'_, T>, (): ()| {
        Ok(cx.data_mut().wasi().mono.now())
    })?;
    i.func_wrap("resolution", |mut cx: StoreContextMut<'_, T>, (): ()| {
        Ok(cx.data_mut().wasi().mono.resolution())
    })?;
    i.func_wrap(
        "subscribe-instant",
        |mut cx: StoreContextMut<'_, T>, (when,): (u64,)| {
            new_pollable(cx.data_mut().wasi(), Poll::Deadline(when))
        },
    )?;
    i.func_wrap(
        "subscribe-duration",
        |mut cx: StoreContextMut<'_, T>, (d,): (u64,)| {
            let ctx = cx.data_mut().wasi();
            let when = ctx.mono.now().saturating_add(d);
            new_pollable(ctx, Poll::Deadline(when))
        },
    )?;
    Ok(())
}
