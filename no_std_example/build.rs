//! Host-side build script: assembles the guest from WAT (wat/*.wat) into
//! `$OUT_DIR/component.wasm` and `$OUT_DIR/core.wasm`, validates the
//! component and writes its image, `$OUT_DIR/component.img` (the device
//! loads that, without a validator), and puts the target's memory layout
//! (`memory/<arch>.x`) on the linker's search path as `memory.x`, for the
//! `link.x` of cortex-m-rt or riscv-rt.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

/// Reads `wat/<name>` and replaces each `;;@include <file>` line with the
/// contents of `wat/<file>` (one level deep is all the templates need).
fn expand(dir: &Path, name: &str) -> String {
    let path = dir.join(name);
    println!("cargo:rerun-if-changed={}", path.display());
    let text =
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut out = String::with_capacity(text.len() * 2);
    for line in text.lines() {
        match line.trim().strip_prefix(";;@include ") {
            Some(file) => out.push_str(&expand(dir, file.trim())),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

fn assemble(dir: &Path, out: &Path, template: &str, wasm: &str) {
    let text = expand(dir, template);
    let bytes = wat::parse_str(&text).unwrap_or_else(|e| panic!("assembling {template}: {e}"));
    fs::write(out.join(wasm), bytes).expect("writing wasm");
}

/// Validates the component at `wasm` on the host and writes its image to
/// `img`, under the device's settings (the default `Config`, no `memory64`).
fn make_image(wasm: &Path, img: &Path) {
    let bytes = fs::read(wasm).expect("reading the component");
    let engine = componentry::Engine::default();
    let image = componentry::Component::new(&engine, &bytes)
        .and_then(|c| c.serialize())
        .unwrap_or_else(|e| panic!("making the component image: {e}"));
    fs::write(img, image).expect("writing the component image");
}

/// Validates the baseline's core module on the host: the `wasmi-prevalidated`
/// firmware loads it unchecked.
fn validate_core(wasm: &Path) {
    let bytes = fs::read(wasm).expect("reading the core module");
    let engine = componentry::Engine::default();
    if let Err(e) = componentry::Module::new(&engine, &bytes) {
        panic!("the baseline's core module is invalid: {e}");
    }
}

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let wat_dir = manifest.join("wat");

    assemble(&wat_dir, &out, "component.wat", "component.wasm");
    assemble(&wat_dir, &out, "core.wat", "core.wasm");
    make_image(&out.join("component.wasm"), &out.join("component.img"));
    validate_core(&out.join("core.wasm"));

    let arch = env::var("CARGO_CFG_TARGET_ARCH").expect("CARGO_CFG_TARGET_ARCH");
    let memory = manifest.join("memory").join(format!("{arch}.x"));
    fs::copy(&memory, out.join("memory.x"))
        .unwrap_or_else(|e| panic!("no memory layout for {arch}: {}: {e}", memory.display()));
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed={}", memory.display());
    println!("cargo:rerun-if-changed=build.rs");
}
