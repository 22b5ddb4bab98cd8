//! Replays a directory of inputs through one target's entry function and
//! lists the inputs that panic: `cargo run --example replay TARGET DIR` in
//! `fuzz/` (a debug build: debug assertions and overflow checks on).

fn main() {
    let mut args = std::env::args().skip(1);
    let (target, dir) = match (args.next(), args.next()) {
        (Some(t), Some(d)) => (t, d),
        _ => panic!("usage: replay TARGET DIR"),
    };
    let entry: fn(&[u8]) = match target.as_str() {
        "load" => componentry_fuzz::load,
        "roundtrip" => componentry_fuzz::roundtrip,
        "valid_modules" => componentry_fuzz::valid_modules,
        t => panic!("unknown target {t}"),
    };
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let (mut n, mut failed) = (0, Vec::new());
    for f in &files {
        let data = std::fs::read(f).unwrap();
        n += 1;
        if std::panic::catch_unwind(|| entry(&data)).is_err() {
            failed.push(f.display().to_string());
        }
    }
    println!("{target}: {n} inputs, {} panicked", failed.len());
    for f in failed {
        println!("  {f}");
    }
}
