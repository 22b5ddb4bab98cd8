//! `componentry compile`: a component's image, for devices that load
//! images without a validator.

use componentry::{Component, Config, Engine};

use crate::args::CompileArgs;
use crate::failure::Failure;

/// Validates `args.component` and writes its image to `args.output`.
pub fn compile(args: &CompileArgs) -> Result<(), Failure> {
    let path = args.component.display();
    let bytes = std::fs::read(&args.component)
        .map_err(|e| Failure::Setup(format!("cannot read {path}: {e}")))?;
    let mut config = Config::default();
    if let Some(depth) = args.max_type_depth {
        config.max_type_depth(depth);
    }
    let engine = Engine::new(&config);
    let image = Component::new(&engine, &bytes)
        .and_then(|c| c.serialize())
        .map_err(|e| Failure::Setup(format!("cannot compile {path}: {e}")))?;
    std::fs::write(&args.output, image)
        .map_err(|e| Failure::Setup(format!("cannot write {}: {e}", args.output.display())))
}
