//! How deep `valid_modules` and `roundtrip` get on pseudo-random inputs:
//! `cargo run --release --example gen_stats [N]` in `fuzz/`.

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
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let (mut gen, mut loaded, mut inst, mut calls, mut ok) = (0, 0, 0, 0, 0);
    let (mut rt, mut spilled) = (0, 0);
    for seed in 0..n {
        let data = bytes(seed, 64 + (seed as usize * 37) % 2000);
        componentry_fuzz::modules::run_with(&data, |_, r| {
            gen += 1;
            loaded += usize::from(r.loaded);
            inst += usize::from(r.instantiated);
            calls += r.calls;
            ok += r.calls_ok;
        });
        componentry_fuzz::roundtrip(&data);
        if let Ok(case) =
            componentry_fuzz::roundtrip::Case::arbitrary(&mut arbitrary::Unstructured::new(&data))
        {
            rt += 1;
            let flat = componentry_fuzz::types::flatten_all(&case.params).len();
            spilled += usize::from(flat > 16);
            if std::env::var("SHOW").is_ok() && seed < 3 {
                println!("{}", case.wat());
            }
        }
    }
    let mut typed = 0;
    for seed in 0..n {
        let mut data = bytes(seed + 99, 300);
        data[0] = 0;
        data[1] = seed as u8;
        let mut u = arbitrary::Unstructured::new(&data);
        typed += usize::from(componentry_fuzz::roundtrip::typed::run(&mut u).is_ok());
    }
    println!("roundtrip typed: {typed} checked");
    println!("roundtrip: {rt} cases, {spilled} with > 16 flat params");
    println!("valid_modules: {gen} generated, {loaded} loaded, {inst} instantiated, {calls} calls, {ok} returned");
}
