//! Writes the seed corpus: `cargo run --example make_seeds` in `fuzz/`.
//!
//! - `corpus/load/seed-*`: the WAT components in `seeds/*.wat`, the
//!   components of the conformance suite's `values`, `resources` and
//!   `validation` `.wast` files (`../shared/conformance`, if present), and
//!   a few generated roundtrip components, each followed by argument bytes.
//! - `corpus/roundtrip/seed-*` and `corpus/valid_modules/seed-*`:
//!   pseudo-random byte strings (every byte string is a valid input).

use std::fs;
use std::path::Path;

use arbitrary::Unstructured;
use componentry_fuzz::{join_tail, roundtrip::Case};

fn bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for t in ["load", "roundtrip", "valid_modules"] {
        fs::create_dir_all(root.join("corpus").join(t)).unwrap();
    }
    let mut wats: Vec<_> = fs::read_dir(root.join("seeds"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wat"))
        .collect();
    wats.sort();
    for (i, p) in wats.iter().enumerate() {
        let bin = wat::parse_file(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let name = p.file_stem().unwrap().to_str().unwrap();
        let input = join_tail(&bin, &bytes(i as u64 + 1, 64));
        fs::write(root.join(format!("corpus/load/seed-{name}")), input).unwrap();
    }
    conformance(root);
    let mut written = 0;
    for seed in 0..200u64 {
        if written == 6 {
            break;
        }
        let data = bytes(seed + 1000, 200);
        let Ok(case) = Case::arbitrary(&mut Unstructured::new(&data)) else {
            continue;
        };
        let Ok(bin) = wat::parse_str(case.wat()) else {
            continue;
        };
        let input = join_tail(&bin, &bytes(seed, 96));
        fs::write(
            root.join(format!("corpus/load/seed-roundtrip-{written}")),
            input,
        )
        .unwrap();
        written += 1;
    }
    for i in 0..8u64 {
        let n = [16, 32, 64, 128, 256, 512, 1024, 64][i as usize];
        fs::write(
            root.join(format!("corpus/roundtrip/seed-{i}")),
            bytes(i + 7, n),
        )
        .unwrap();
        fs::write(
            root.join(format!("corpus/valid_modules/seed-{i}")),
            bytes(i + 77, n * 2),
        )
        .unwrap();
    }
}

/// Components of the conformance suite (up to four per file, smaller than 4 KiB each), as load seeds.
fn conformance(root: &Path) {
    let dir = std::env::var("COMPONENTRY_CONFORMANCE_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| root.join("../../shared/conformance"));
    let sub = dir.join("component-model/test");
    let mut n = 0;
    for group in ["values", "resources", "validation", "linking"] {
        let Ok(entries) = fs::read_dir(sub.join(group)) else {
            continue;
        };
        let mut files: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        files.sort();
        for f in files {
            let text = fs::read_to_string(&f).unwrap();
            let Ok(buf) = wast::parser::ParseBuffer::new(&text) else {
                continue;
            };
            let Ok(wast) = wast::parser::parse::<wast::Wast>(&buf) else {
                continue;
            };
            let stem = f.file_stem().unwrap().to_str().unwrap().to_string();
            let mut per_file = 0;
            for (k, d) in wast.directives.into_iter().enumerate() {
                let bin = match d {
                    wast::WastDirective::Module(mut m)
                    | wast::WastDirective::ModuleDefinition(mut m)
                    | wast::WastDirective::AssertInvalid { module: mut m, .. } => m.encode(),
                    wast::WastDirective::AssertUnlinkable { module: mut m, .. } => m.encode(),
                    _ => continue,
                };
                let Ok(bin) = bin else { continue };
                // Components only (layer 1), and small ones.
                if bin.len() > 4096 || bin.get(6..8) != Some(&[1, 0]) {
                    continue;
                }
                // A few per file keep the corpus small.
                if per_file == 4 {
                    break;
                }
                per_file += 1;
                let input = join_tail(&bin, &bytes(n + 500, 64));
                fs::write(
                    root.join(format!("corpus/load/seed-{group}-{stem}-{k}")),
                    input,
                )
                .unwrap();
                n += 1;
            }
        }
    }
    println!("{n} conformance seeds");
}
