//! `componentize IN.wasm OUT.wasm`: wraps a core module that carries
//! wit-bindgen's `component-type` custom section into a component with
//! wit-component's `ComponentEncoder`, validating the result.

use anyhow::{bail, Context, Result};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output] = args.as_slice() else {
        bail!("usage: componentize IN.wasm OUT.wasm");
    };
    let module = std::fs::read(input).with_context(|| format!("reading {input}"))?;
    let component = wit_component::ComponentEncoder::default()
        .module(&module)
        .with_context(|| format!("decoding the component type of {input}"))?
        .validate(true)
        .encode()
        .with_context(|| format!("encoding {input} as a component"))?;
    std::fs::write(output, &component).with_context(|| format!("writing {output}"))?;
    Ok(())
}
