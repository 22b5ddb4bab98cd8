//! `componentry run` as a process, on the committed guests
//! (`tests/guests/wasi/*.wasm`, built by tools/build-guests.sh) and on WAT
//! components: output, arguments, environment, stdio, exit codes, traps,
//! missing imports, `--dir` and its sandbox, `--invoke` in WAVE, `--fuel`,
//! `--deterministic`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_componentry");

fn guest(name: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/guests");
    root.join(name).to_string_lossy().into_owned()
}

fn wasi(name: &str) -> String {
    guest(&format!("wasi/{name}.wasm"))
}

/// Runs `componentry ARGS` with `stdin` and returns its output.
fn run_with(args: &[&str], stdin: &[u8], envs: &[(&str, &str)]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .envs(envs.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting componentry");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin)
        .expect("writing stdin");
    child.wait_with_output().expect("waiting for componentry")
}

fn run(args: &[&str]) -> Output {
    run_with(args, b"", &[])
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("componentry was killed by a signal")
}

/// Asserts a run exited 0 and returns its stdout.
fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert_eq!(
        code(&o),
        0,
        "{args:?}\nstdout: {}\nstderr: {}",
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

/// A fresh empty directory under the system's temporary directory.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("componentry-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A WAT component written to a temporary file.
fn wat_file(name: &str, wat: &str) -> String {
    let bytes = wat::parse_str(wat).unwrap_or_else(|e| panic!("{e}\n{wat}"));
    let path = temp_dir(name).join(format!("{name}.wasm"));
    std::fs::write(&path, bytes).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn hello_prints_hello_world() {
    let o = run(&["run", &wasi("hello")]);
    assert_eq!(code(&o), 0);
    assert_eq!(stdout(&o), "Hello, world!\n");
    assert_eq!(stderr(&o), "");
    // `run` may be left out, as with wasmtime.
    assert_eq!(ok(&[&wasi("hello")]), "Hello, world!\n");
}

#[test]
fn arguments_reach_the_guest_options_after_the_component_too() {
    let cli = wasi("cli");
    let out = ok(&["run", &cli, "args", "a b", "--dir", "-x"]);
    assert_eq!(
        out,
        format!("argc=5\narg[0]={cli}\narg[1]=args\narg[2]=a b\narg[3]=--dir\narg[4]=-x\n")
    );
}

#[test]
fn environment_is_only_what_env_gives() {
    let o = run_with(
        &[
            "run",
            "--env",
            "GREETING=hi=there",
            "--env",
            "COMPONENTRY_INHERITED",
            "--env",
            "COMPONENTRY_UNSET_ON_THE_HOST",
            &wasi("cli"),
            "env",
        ],
        b"",
        &[
            ("COMPONENTRY_INHERITED", "from the host"),
            ("COMPONENTRY_NOT_PASSED", "secret"),
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // Every variable the guest sees, sorted: nothing of the host's
    // environment but the one named.
    assert_eq!(
        stdout(&o),
        "COMPONENTRY_INHERITED=from the host\nGREETING=hi=there\n"
    );
}

#[test]
fn stdin_stdout_and_stderr_are_the_processes() {
    let input: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    let o = run_with(&["run", &wasi("cli"), "cat"], &input, &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(o.stdout == input, "stdout differs from stdin");
    assert_eq!(stderr(&o), "read 100000 bytes\n");

    let o = run(&["run", &wasi("cli"), "stderr", "to", "stderr"]);
    assert_eq!(code(&o), 0);
    assert_eq!(stdout(&o), "done\n");
    assert_eq!(stderr(&o), "to stderr\n");
}

#[test]
fn exit_codes_are_the_guests() {
    let cli = wasi("cli");
    let o = run(&["run", &cli, "exit", "0"]);
    assert_eq!((code(&o), stdout(&o)), (0, "exiting with 0\n".to_string()));
    // WASI 0.2's stable `exit` carries only success or failure: wasi-libc
    // turns every non-zero code into failure, which is exit code 1.
    let o = run(&["run", &cli, "exit", "3"]);
    assert_eq!((code(&o), stdout(&o)), (1, "exiting with 3\n".to_string()));
    assert_eq!(stderr(&o), "");
    // main returning an error.
    let o = run(&["run", &cli, "no-such-case"]);
    assert_eq!(code(&o), 1);
    assert_eq!(stderr(&o), "cli: unknown case `no-such-case`\n");
}

#[test]
fn a_trap_prints_its_kind_and_exits_134() {
    let o = run(&["run", &wasi("cli"), "panic"]);
    assert_eq!(code(&o), 134);
    let err = stderr(&o);
    assert!(err.contains("the guest panics on purpose"), "{err}");
    assert!(
        err.contains("componentry: the guest trapped (unreachable):"),
        "{err}"
    );
}

#[test]
fn a_missing_import_is_named() {
    let path = wat_file(
        "missing-import",
        r#"(component
            (import "example:unknown/thing@1.0.0" (instance $i (export "poke" (func))))
            (alias export $i "poke" (func $poke))
            (core func $p (canon lower (func $poke)))
            (core module $m (import "x" "poke" (func)))
            (core instance (instantiate $m (with "x" (instance (export "poke" (func $p))))))
        )"#,
    );
    let o = run(&["run", &path]);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(err.contains("example:unknown/thing@1.0.0"), "{err}");
    assert!(err.contains("cannot instantiate"), "{err}");

    // A real guest: strings.wasm imports a host `log` function.
    let o = run(&["run", &guest("strings.wasm")]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("import `log`"), "{}", stderr(&o));
}

#[test]
fn files_that_are_not_components_are_errors() {
    let o = run(&["run", "/no/such/file.wasm"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).starts_with("componentry: cannot read /no/such/file.wasm:"));

    let dir = temp_dir("garbage");
    let cases: [(&str, &[u8]); 3] = [
        ("text", b"hello, not wasm"),
        ("truncated", b"\0asm\x0d\0\x01\0\x01\xff"),
        ("core-module", b"\0asm\x01\0\0\0"),
    ];
    for (name, bytes) in cases {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let o = run(&["run", path.to_str().unwrap()]);
        assert_eq!(code(&o), 1, "{name}: {}", stderr(&o));
        assert!(
            stderr(&o).starts_with("componentry: cannot load"),
            "{name}: {}",
            stderr(&o)
        );
    }
}

#[test]
fn bad_command_lines_exit_2() {
    for args in [
        &["run"][..],
        &["run", "--fuel", "lots", "x.wasm"],
        &["run", "--no-such-option", "x.wasm"],
        &["frobnicate-without-a-file"],
    ] {
        let o = run(args);
        // The last one is taken as a component to run, as wasmtime does.
        let expected = if args[0] == "run" { 2 } else { 1 };
        assert_eq!(code(&o), expected, "{args:?}: {}", stderr(&o));
    }
    let help = ok(&["run", "--help"]);
    for option in ["--dir", "--env", "--invoke", "--fuel", "--deterministic"] {
        assert!(help.contains(option), "{option} missing from:\n{help}");
    }
    assert!(ok(&["--help"]).contains("run"));
}

#[test]
fn dir_grants_a_host_directory() {
    let root = temp_dir("dir");
    let data = root.join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("in.txt"), "from the host").unwrap();
    let grant = format!("{}::/data", data.display());
    let fs = wasi("fs");
    assert_eq!(
        ok(&["run", "--dir", &grant, &fs, "read", "/data/in.txt"]),
        "read: from the host\n"
    );
    assert_eq!(
        ok(&[
            "run",
            "--dir",
            &grant,
            &fs,
            "write",
            "/data/out.txt",
            "from the guest"
        ]),
        "write: ok\n"
    );
    assert_eq!(
        std::fs::read_to_string(data.join("out.txt")).unwrap(),
        "from the guest"
    );
    // Without the grant, nothing.
    assert_eq!(
        ok(&["run", &fs, "read", "/data/in.txt"]),
        "read: error NotFound\n"
    );
    // The host path is the guest path when `::GUEST` is left out.
    let same = data.display().to_string();
    assert_eq!(
        ok(&[
            "run",
            "--dir",
            &same,
            &fs,
            "read",
            &format!("{same}/in.txt")
        ]),
        "read: from the host\n"
    );
}

#[test]
fn std_fs_tour_in_a_granted_directory_wasip2_and_wasip1() {
    let expected = "\
write a.txt: ok
read a.txt: hello
append: ok
read a.txt: hello world
seek start+6: at 6: world
seek end-5: at 6: world
overwrite at 0: ok
read a.txt: Jello world
";
    for name in ["fs", "fs-p1"] {
        let root = temp_dir(&format!("tour-{name}"));
        let grant = format!("{}::/sandbox", root.display());
        let out = ok(&["run", "--dir", &grant, &wasi(name), "basics", "/sandbox"]);
        assert!(out.starts_with(expected), "{name}:\n{out}");
        for line in [
            "truncate to 5: ok",
            "read a.txt: Jello",
            "modified: Ok(1000000000)",
            "create_new a.txt: error AlreadyExists",
            "open missing: error NotFound",
            "ls: a.txt file, d dir",
            "ls d/x/y: z.txt file",
            "a.txt exists: false",
            "copy d/b.txt c.txt: 5 bytes",
            "read_dir of a file: error NotADirectory",
            "remove_file d (a dir): error IsADirectory",
            "remove_dir_all d: ok",
        ] {
            assert!(
                out.lines().any(|l| l == line),
                "{name}: no `{line}` in:\n{out}"
            );
        }
        assert!(out.ends_with("ls: (empty)\n"), "{name}:\n{out}");
        assert_eq!(std::fs::read_dir(&root).unwrap().count(), 0);
    }
}

#[test]
fn the_sandbox_holds_against_escapes() {
    for name in ["fs", "fs-p1"] {
        let root = temp_dir(&format!("escape-{name}"));
        let sandbox = root.join("sandbox");
        std::fs::create_dir(&sandbox).unwrap();
        std::fs::write(root.join("outside.txt"), "secret").unwrap();
        let grant = format!("{}::/sandbox", sandbox.display());
        let out = ok(&["run", "--dir", &grant, &wasi(name), "escape", "/sandbox"]);
        for line in out.lines() {
            let (what, result) = line.split_once(": ").unwrap();
            let allowed = matches!(
                what,
                // The guest's own files, and a link inside the sandbox.
                "write link-out"
                    | "write inside.txt"
                    | "symlink link-in -> inside.txt"
                    | "read link-in"
                    | "read inside.txt"
                    | "ls"
            );
            if !allowed {
                assert!(result.starts_with("error "), "{name}: `{line}` in:\n{out}");
            }
        }
        assert!(out.contains("read link-in: in\n"), "{name}:\n{out}");
        assert!(!out.contains("secret"), "{name}:\n{out}");
        assert_eq!(
            std::fs::read_to_string(root.join("outside.txt")).unwrap(),
            "secret"
        );
        let mut left: Vec<String> = std::fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["outside.txt", "sandbox"], "{name}");
    }
}

#[test]
fn image_filter_built_for_wasip2_filters_stdin_to_stdout() {
    // 2x2: red, green, blue, white.
    let ppm = b"P6\n2 2\n255\n\xff\x00\x00\x00\xff\x00\x00\x00\xff\xff\xff\xff";
    let o = run_with(
        &["run", &wasi("image-filter"), "-", "-", "grayscale"],
        ppm,
        &[],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // Luma (77 R + 150 G + 29 B + 128) >> 8 of each pixel.
    let luma = |r: u32, g: u32, b: u32| ((77 * r + 150 * g + 29 * b + 128) >> 8) as u8;
    let mut expected = b"P6\n2 2\n255\n".to_vec();
    for (r, g, b) in [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)] {
        let l = luma(r, g, b);
        expected.extend([l, l, l]);
    }
    assert_eq!(o.stdout, expected);
    assert!(stderr(&o).contains("progress: 2/2 rows"), "{}", stderr(&o));

    // And between files in a granted directory.
    let dir = temp_dir("image");
    std::fs::write(dir.join("in.ppm"), ppm).unwrap();
    let grant = format!("{}::/img", dir.display());
    ok(&[
        "run",
        "--dir",
        &grant,
        &wasi("image-filter"),
        "/img/in.ppm",
        "/img/out.ppm",
        "resize",
        "4",
        "2",
        "nearest",
    ]);
    let out = std::fs::read(dir.join("out.ppm")).unwrap();
    assert!(out.starts_with(b"P6\n4 2\n255\n"));
    assert_eq!(out.len(), b"P6\n4 2\n255\n".len() + 4 * 2 * 3);
}

/// A library component (no WASI) with functions of several types.
const LIBRARY: &str = r#"(component
  (type $point' (record (field "name" string) (field "tags" (list string)) (field "n" u32)))
  (export $point "point" (type $point'))
  (core module $m
    (memory (export "mem") 1)
    (global $heap (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
      (global.set $heap (i32.add (local.get $p) (local.get 3)))
      (local.get $p))
    (func (export "echo") (param i32 i32 i32 i32 i32) (result i32)
      (i32.store offset=0 (i32.const 16) (local.get 0))
      (i32.store offset=4 (i32.const 16) (local.get 1))
      (i32.store offset=8 (i32.const 16) (local.get 2))
      (i32.store offset=12 (i32.const 16) (local.get 3))
      (i32.store offset=16 (i32.const 16) (local.get 4))
      (i32.const 16))
    (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
    (func (export "div") (param i32 i32) (result i32) (i32.div_u (local.get 0) (local.get 1)))
    (func (export "spin") (loop $l (br $l))))
  (core instance $i (instantiate $m))
  (alias core export $i "mem" (core memory $mem))
  (alias core export $i "realloc" (core func $realloc))
  (func (export "echo") (param "p" $point) (result $point)
    (canon lift (core func $i "echo") (memory $mem) (realloc $realloc)))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add")))
  (func (export "div") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "div")))
  (func (export "spin") (canon lift (core func $i "spin")))
)"#;

#[test]
fn invoke_parses_and_prints_wave() {
    let lib = wat_file("library", LIBRARY);
    assert_eq!(ok(&["run", "--invoke", "add(2, 40)", &lib]), "42\n");
    assert_eq!(
        ok(&[
            "run",
            "--invoke",
            r#"echo({tags: ["x", "y \"z\""], name: "héllo", n: 7})"#,
            &lib
        ]),
        "{name: \"héllo\", tags: [\"x\", \"y \\\"z\\\"\"], n: 7}\n"
    );
    // No result: nothing printed.
    let o = run(&["run", "--fuel", "10000", "--invoke", "spin()", &lib]);
    assert_eq!(code(&o), 134);
    assert!(stderr(&o).contains("(out of fuel)"), "{}", stderr(&o));
    // A trap in the call.
    let o = run(&["run", "--invoke", "div(1, 0)", &lib]);
    assert_eq!(code(&o), 134);
    assert!(
        stderr(&o).contains("the guest trapped (integer division by zero)"),
        "{}",
        stderr(&o)
    );
    // Bad WAVE, wrong types, unknown names: errors naming the problem.
    for (call, needle) in [
        ("add(1)", "arguments of `add`"),
        ("add(1, -1)", "arguments of `add`"),
        ("add(1, 2", "not a WAVE function call"),
        ("echo({name: \"a\"})", "argument"),
        ("nope()", "no exported function `nope`"),
    ] {
        let o = run(&["run", "--invoke", call, &lib]);
        assert_eq!(code(&o), 1, "{call}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{call}: {}", stderr(&o));
    }
    // A library is not a command.
    let o = run(&["run", &lib]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("add: func(a: u32, b: u32) -> u32"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn invoke_on_real_guests() {
    // A function of an exported instance, found by its name alone and by
    // its full name.
    let counter = guest("counter.wasm");
    assert_eq!(ok(&["run", "--invoke", "live()", &counter]), "0\n");
    assert_eq!(
        ok(&[
            "run",
            "--invoke",
            "example:counter/counters#live()",
            &counter
        ]),
        "0\n"
    );
    // A resource result has no WAVE form: an error, not a crash.
    let o = run(&[
        "run",
        "--invoke",
        "example:counter/counters#[constructor]counter(1)",
        &counter,
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    // wasi:cli/run's `run` of a command, called directly.
    assert_eq!(
        ok(&["run", "--invoke", "run()", &wasi("hello")]),
        "Hello, world!\nok\n"
    );
}

#[test]
fn fuel_limits_a_command() {
    let o = run(&["run", "--fuel", "1000", &wasi("hello")]);
    assert_eq!(code(&o), 134);
    assert!(
        stderr(&o).contains("the guest trapped (out of fuel)"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        ok(&["run", "--fuel", "100000000", &wasi("hello")]),
        "Hello, world!\n"
    );
}

#[test]
fn deterministic_runs_give_identical_output() {
    let cli = wasi("cli");
    for case in [&["time"][..], &["random"], &["sleep", "5"]] {
        let mut args = vec!["run", "--deterministic", &cli];
        args.extend_from_slice(case);
        let first = ok(&args);
        assert_eq!(first, ok(&args), "{case:?}");
    }
    let time = ok(&["run", "--deterministic", &cli, "time"]);
    assert!(time.starts_with("wall=946684800."), "{time}");
    // The seed changes the randomness; without the profile it differs run
    // to run.
    let random = |extra: &[&str]| {
        let mut args = vec!["run"];
        args.extend_from_slice(extra);
        args.extend([cli.as_str(), "random"]);
        ok(&args)
    };
    assert_eq!(random(&["--deterministic=0"]), random(&["--deterministic"]));
    assert_ne!(random(&["--deterministic=1"]), random(&["--deterministic"]));
    assert_ne!(random(&[]), random(&[]));
}
