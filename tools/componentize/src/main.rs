//! `componentize [--wasip1-command] IN.wasm OUT.wasm`: wraps a core module
//! into a component with wit-component's `ComponentEncoder`, validating the
//! result.
//!
//! Without options the module must carry wit-bindgen's `component-type`
//! custom section. With `--wasip1-command` it is a wasip1 program (e.g.
//! built for `wasm32-wasip1`): its `wasi_snapshot_preview1` imports are
//! satisfied by the preview1 command adapter (from the
//! `wasi-preview1-component-adapter-provider` crate), which implements them
//! on WASI 0.2, and the component exports `wasi:cli/run`.

use anyhow::{bail, Context, Result};
use wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER;

fn main() -> Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let wasip1 = args.first().is_some_and(|a| a == "--wasip1-command");
    if wasip1 {
        args.remove(0);
    }
    let [input, output] = args.as_slice() else {
        bail!("usage: componentize [--wasip1-command] IN.wasm OUT.wasm");
    };
    let module = std::fs::read(input).with_context(|| format!("reading {input}"))?;
    let mut encoder = wit_component::ComponentEncoder::default();
    encoder
        .module(&module)
        .with_context(|| format!("decoding the component type of {input}"))?
        .validate(true);
    if wasip1 {
        encoder
            .adapter(
                "wasi_snapshot_preview1",
                WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
            )
            .context("adding the wasi_snapshot_preview1 command adapter")?;
    }
    let component = encoder
        .encode()
        .with_context(|| format!("encoding {input} as a component"))?;
    std::fs::write(output, &component).with_context(|| format!("writing {output}"))?;
    Ok(())
}
