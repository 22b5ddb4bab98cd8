//! RISC-V in machine mode (riscv-rt, riscv-semihosting): the entry
//! attribute, output and exit through semihosting, the stack pointer, the
//! exception and interrupt handlers.

use riscv_semihosting::debug::{self, EXIT_FAILURE, EXIT_SUCCESS};

pub use riscv_rt::entry;
pub use riscv_semihosting::hprintln as println;

/// The current stack pointer.
pub fn sp() -> usize {
    let sp: usize;
    // SAFETY: copies the stack pointer into a register; no memory is
    // touched and the stack pointer is left as it was.
    unsafe {
        core::arch::asm!("mv {}, sp", out(reg) sp, options(nomem, nostack, preserves_flags));
    }
    sp
}

/// Exits QEMU through semihosting with EXIT_SUCCESS or EXIT_FAILURE.
pub fn exit(ok: bool) -> ! {
    debug::exit(if ok { EXIT_SUCCESS } else { EXIT_FAILURE });
    // Only reached without a semihosting host.
    loop {
        riscv::asm::wfi();
    }
}

/// Every exception (riscv-rt's default for each cause): an illegal
/// instruction, a misaligned or faulting access, an unexpected `ecall`.
#[export_name = "ExceptionHandler"]
fn exception_handler(frame: &riscv_rt::TrapFrame) -> ! {
    println!(
        "exception: mcause={:#x} mepc={:#x} mtval={:#x} {:?}",
        riscv::register::mcause::read().bits(),
        riscv::register::mepc::read(),
        riscv::register::mtval::read(),
        frame
    );
    println!("RESULT FAIL");
    exit(false)
}

/// Every interrupt: the firmware enables none.
#[export_name = "DefaultHandler"]
fn default_handler() -> ! {
    println!(
        "unexpected interrupt: mcause={:#x}",
        riscv::register::mcause::read().bits()
    );
    println!("RESULT FAIL");
    exit(false)
}
