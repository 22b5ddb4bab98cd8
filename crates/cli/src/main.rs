//! The `componentry` command.
fn main() {}
