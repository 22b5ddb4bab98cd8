//! Replays the fuzz corpus (`fuzz/corpus/<target>/`: seeds and every crash
//! the fuzzers found, kept as regression inputs) through the same entry
//! functions the cargo-fuzz targets call, on stable Rust. See `fuzz/`.

use std::fs;
use std::path::{Path, PathBuf};

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod fuzz_logic;

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus in {}", dir.display());
    files
}

/// Runs every corpus file of `target` through `entry`; reports all the
/// files that panic, not just the first.
fn replay(target: &str, entry: fn(&[u8])) {
    let mut failed = Vec::new();
    for file in corpus(target) {
        let data = fs::read(&file).unwrap();
        if std::panic::catch_unwind(|| entry(&data)).is_err() {
            failed.push(file.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    assert!(failed.is_empty(), "{target}: inputs that panic: {failed:?}");
}

#[test]
fn load_corpus() {
    replay("load", fuzz_logic::load);
}

#[test]
fn roundtrip_corpus() {
    replay("roundtrip", fuzz_logic::roundtrip);
}

#[test]
fn valid_modules_corpus() {
    replay("valid_modules", fuzz_logic::valid_modules);
}

/// The load input format: a component, argument bytes, their length.
#[test]
fn load_input_splits_at_the_tail_length() {
    let input = fuzz_logic::join_tail(b"component", b"args");
    assert_eq!(
        fuzz_logic::split_tail(&input),
        (&b"component"[..], &b"args"[..])
    );
    // Any bytes are an input.
    assert_eq!(fuzz_logic::split_tail(b"x"), (&b"x"[..], &b""[..]));
    assert_eq!(fuzz_logic::split_tail(b"ab\x02\x00").1.len(), 2);
}
