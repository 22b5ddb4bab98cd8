//! `cli CASE [ARGS...]`: one WASI 0.2 behaviour per run, printed as plain
//! lines a test can compare.
//!
//! | case | does |
//! | --- | --- |
//! | `args` | prints `argc=N`, then `arg[i]=...` for every argument (program name included) |
//! | `env [NAME...]` | with names: `NAME=value` or `NAME unset` for each; without: every variable, sorted |
//! | `cwd` | the initial working directory (`cwd=...` or `cwd unset`) |
//! | `cat` | copies stdin to stdout, then prints `read N bytes` to stderr |
//! | `stderr TEXT` | writes TEXT and a newline to stderr, `done` to stdout |
//! | `exit N` | `std::process::exit(N)` after printing `exiting with N` |
//! | `panic` | panics (the guest traps: `unreachable` under `panic = "abort"`) |
//! | `time` | the wall clock (seconds since 1970), monotonic readings never going back, the clocks' resolutions |
//! | `sleep MS` | sleeps MS milliseconds, checks the monotonic clock advanced that far |
//! | `random` | wasi:random's random, insecure and insecure-seed, and a `HashMap` hash (std seeds it from the host) |
//! | `terminal` | whether stdin, stdout and stderr are terminals |
//! | `echo TEXT...` | prints the arguments joined by spaces (for `--invoke`-free smoke tests) |

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn run(case: &str, rest: &[String]) -> Result<(), String> {
    match case {
        "args" => {
            let args: Vec<String> = std::env::args().collect();
            println!("argc={}", args.len());
            for (i, a) in args.iter().enumerate() {
                println!("arg[{i}]={a}");
            }
        }
        "env" => {
            if rest.is_empty() {
                let mut vars: Vec<(String, String)> = std::env::vars().collect();
                vars.sort();
                for (k, v) in vars {
                    println!("{k}={v}");
                }
            } else {
                for name in rest {
                    match std::env::var(name) {
                        Ok(v) => println!("{name}={v}"),
                        Err(_) => println!("{name} unset"),
                    }
                }
            }
        }
        "cwd" => match std::env::current_dir() {
            Ok(d) => println!("cwd={}", d.display()),
            Err(e) => println!("cwd unset ({:?})", e.kind()),
        },
        "cat" => {
            let mut input = Vec::new();
            std::io::stdin()
                .read_to_end(&mut input)
                .map_err(|e| format!("reading stdin: {e}"))?;
            let mut out = std::io::stdout().lock();
            out.write_all(&input)
                .and_then(|()| out.flush())
                .map_err(|e| format!("writing stdout: {e}"))?;
            eprintln!("read {} bytes", input.len());
        }
        "stderr" => {
            eprintln!("{}", rest.join(" "));
            println!("done");
        }
        "echo" => println!("{}", rest.join(" ")),
        "exit" => {
            let code: i32 = rest
                .first()
                .and_then(|s| s.parse().ok())
                .ok_or("exit needs a number")?;
            println!("exiting with {code}");
            std::process::exit(code);
        }
        "panic" => panic!("the guest panics on purpose"),
        "time" => {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_err(|e| format!("the wall clock is before 1970: {e}"))?;
            println!("wall={}.{:09}", now.as_secs(), now.subsec_nanos());
            println!("wall after 2020: {}", now.as_secs() > 1_577_836_800);
            let first = Instant::now();
            let mut last = first;
            let mut back = false;
            for _ in 0..100 {
                let t = Instant::now();
                back |= t < last;
                last = t;
            }
            println!("monotonic went back: {back}");
            println!(
                "monotonic elapsed over 100 readings={}ns",
                last.duration_since(first).as_nanos()
            );
            println!(
                "wall resolution={:?}",
                wasip2::clocks::wall_clock::resolution()
            );
            println!(
                "monotonic resolution={}ns",
                wasip2::clocks::monotonic_clock::resolution()
            );
        }
        "sleep" => {
            let ms: u64 = rest
                .first()
                .and_then(|s| s.parse().ok())
                .ok_or("sleep needs milliseconds")?;
            let start = Instant::now();
            std::thread::sleep(Duration::from_millis(ms));
            let slept = start.elapsed();
            println!("slept at least {ms} ms: {}", slept >= Duration::from_millis(ms));
        }
        "random" => {
            use wasip2::random::{insecure, insecure_seed, random};
            let a = random::get_random_bytes(16);
            let b = random::get_random_bytes(16);
            println!("random bytes={} len={}", hex(&a), a.len());
            println!("random bytes again={}", hex(&b));
            println!("random differs: {}", a != b);
            println!("random u64={:016x}", random::get_random_u64());
            println!("insecure bytes={}", hex(&insecure::get_insecure_random_bytes(8)));
            println!("insecure u64={:016x}", insecure::get_insecure_random_u64());
            let (s0, s1) = insecure_seed::insecure_seed();
            println!("insecure seed={s0:016x} {s1:016x}");
            let mut h = RandomState::new().build_hasher();
            h.write(b"componentry");
            println!("hashmap hash={:016x}", h.finish());
            println!("empty random len={}", random::get_random_bytes(0).len());
        }
        "terminal" => {
            use wasip2::cli::{terminal_stderr, terminal_stdin, terminal_stdout};
            println!(
                "stdin terminal: {}",
                terminal_stdin::get_terminal_stdin().is_some()
            );
            println!(
                "stdout terminal: {}",
                terminal_stdout::get_terminal_stdout().is_some()
            );
            println!(
                "stderr terminal: {}",
                terminal_stderr::get_terminal_stderr().is_some()
            );
        }
        _ => return Err(format!("unknown case `{case}`")),
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((case, rest)) = args.split_first() else {
        eprintln!("usage: cli CASE [ARGS...] (see the source for the cases)");
        return ExitCode::from(2);
    };
    match run(case, rest) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cli: {e}");
            ExitCode::FAILURE
        }
    }
}
