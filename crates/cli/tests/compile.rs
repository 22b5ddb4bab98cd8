//! `componentry compile` as a process: the image it writes loads with
//! `Component::deserialize` and behaves as the component; errors exit 1.

use std::path::{Path, PathBuf};
use std::process::Command;

use componentry::{Component, Config, Engine, Linker, Store};

const BIN: &str = env!("CARGO_BIN_EXE_componentry");

fn guest(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/guests")
        .join(name)
}

fn out_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("componentry-compile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn compile(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(BIN)
        .arg("compile")
        .args(args)
        .output()
        .expect("running componentry")
}

#[test]
fn the_image_loads_and_behaves_as_the_component() {
    let out = out_path("strings.img");
    let o = compile(&[
        guest("strings.wasm").as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let image = std::fs::read(&out).unwrap();
    let engine = Engine::default();
    // SAFETY: written just above by `componentry compile` of this build.
    let component = unsafe { Component::deserialize(&engine, &image) }.unwrap();
    let mut linker = Linker::<()>::new(&engine);
    linker
        .root()
        .func_wrap("log", |_, (_msg,): (String,)| Ok(()))
        .unwrap();
    let mut store = Store::new(&engine, ());
    let inst = linker.instantiate(&mut store, &component).unwrap();
    let upper = inst
        .get_func(&mut store, "upper")
        .unwrap()
        .typed::<(&str,), String>(&mut store)
        .unwrap();
    assert_eq!(upper.call(&mut store, ("image",)).unwrap(), "IMAGE");
}

#[test]
fn the_device_type_depth_is_part_of_the_image() {
    let out = out_path("depth.img");
    let o = compile(&[
        "--max-type-depth".as_ref(),
        "7".as_ref(),
        guest("counter.wasm").as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let image = std::fs::read(&out).unwrap();
    // SAFETY: made by `componentry compile` of this build; the header check
    // rejects it before anything is compiled.
    let default = unsafe { Component::deserialize(&Engine::default(), &image) };
    assert!(default.is_err());
    let mut config = Config::default();
    config.max_type_depth(7);
    // SAFETY: as above, and this engine has the settings it was made for.
    unsafe { Component::deserialize(&Engine::new(&config), &image) }.unwrap();
}

#[test]
fn errors_exit_1_with_a_message() {
    let out = out_path("bad.img");
    let not_wasm = out_path("not.wasm");
    std::fs::write(&not_wasm, b"not a component").unwrap();
    let o = compile(&[not_wasm.as_os_str(), "-o".as_ref(), out.as_os_str()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot compile"));
    let o = compile(&["/nonexistent.wasm".as_ref(), "-o".as_ref(), out.as_os_str()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read"));
    let o = compile(&[
        guest("counter.wasm").as_os_str(),
        "-o".as_ref(),
        "/nonexistent-dir/x.img".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot write"));
    // No output given: a usage error.
    let o = compile(&[guest("counter.wasm").as_os_str()]);
    assert_eq!(o.status.code(), Some(2));
}
