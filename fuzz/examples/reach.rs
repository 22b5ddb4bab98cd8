//! Prints how far each `load` input gets: `cargo run --release --example
//! reach DIR` in `fuzz/` (one line per file: loaded, instantiated, calls,
//! calls that returned, name). Useful to pick corpus files worth keeping.

use arbitrary::Unstructured;

fn main() {
    let dir = std::env::args().nth(1).expect("usage: reach DIR");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        let data = std::fs::read(&f).unwrap();
        let (component, args) = componentry_fuzz::split_tail(&data);
        let engine = componentry_fuzz::exercise::engine();
        let r =
            componentry_fuzz::exercise::exercise(&engine, component, &mut Unstructured::new(args));
        println!(
            "{} {} {} {} {}",
            u8::from(r.loaded),
            u8::from(r.instantiated),
            r.calls,
            r.calls_ok,
            f.display()
        );
    }
}
