use componentry::{Component, Engine, Linker, Store};
use componentry_wasi::*;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let engine = Engine::default();
    let t = std::time::Instant::now();
    let component = Component::new(&engine, &bytes).unwrap();
    let mut linker = Linker::new(&engine);
    add_to_linker::<WasiCtx>(&mut linker).unwrap();
    let mut mem = MemoryDir::new();
    mem.add_file("a.txt", b"AAA").unwrap();
    let ctx = WasiCtx::builder()
        .args(["hello", "3"])
        .env("X", "1")
        .stdin_bytes(&b"input!\n"[..])
        .inherit_stdout()
        .inherit_stderr()
        .preopened_memory_dir(mem, "/data", DirAccess::ReadWrite)
        .build();
    let mut store = Store::new(&engine, ctx);
    let instance = match linker.instantiate(&mut store, &component) {
        Ok(i) => i,
        Err(e) => {
            println!("{e}");
            return;
        }
    };
    eprintln!("instantiated in {:?}", t.elapsed());
    let r = run_command(&mut store, &component, &instance);
    println!("result {r:?}");
    println!(
        "{:?}",
        store.data().memory_dir("/data").unwrap().list_dir("")
    );
}
