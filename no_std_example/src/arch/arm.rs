//! Cortex-M (cortex-m-rt, cortex-m-semihosting): the entry attribute, output
//! and exit through semihosting, the stack pointer, the fault handlers.

use cortex_m_rt::{exception, ExceptionFrame};
use cortex_m_semihosting::debug::{self, EXIT_FAILURE, EXIT_SUCCESS};

pub use cortex_m_rt::entry;
pub use cortex_m_semihosting::hprintln as println;

/// The current stack pointer (the main stack: the firmware uses no other).
pub fn sp() -> usize {
    cortex_m::register::msp::read() as usize
}

/// Exits QEMU through semihosting with EXIT_SUCCESS or EXIT_FAILURE.
pub fn exit(ok: bool) -> ! {
    debug::exit(if ok { EXIT_SUCCESS } else { EXIT_FAILURE });
    // Only reached without a semihosting host.
    loop {
        cortex_m::asm::bkpt();
    }
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    println!("hard fault: {:?}", frame);
    println!("RESULT FAIL");
    exit(false)
}

#[exception]
unsafe fn DefaultHandler(irqn: i16) {
    println!("unexpected exception or interrupt {}", irqn);
    println!("RESULT FAIL");
    exit(false)
}
