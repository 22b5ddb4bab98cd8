//! The errors users make most, and what they read.

use super::{expand, Options};

/// The compile error `bindgen!(input)` gives, or the empty string.
fn error(input: &str) -> String {
    let r = syn::parse_str::<Options>(input).and_then(expand);
    r.err().map(|e| e.to_string()).unwrap_or_default()
}

const WIT: &str = r#""package a:b; world w { export f: func(x: u32) -> string; }""#;

#[test]
fn unknown_options_are_named() {
    let e = error(&format!("{{ inline: {WIT}, colour: \"blue\" }}"));
    assert!(e.contains("unknown option `colour`"), "{e}");
    assert!(e.contains("path, inline, world"), "{e}");
}

#[test]
fn an_option_given_twice() {
    let e = error(&format!("{{ inline: {WIT}, inline: {WIT} }}"));
    assert!(e.contains("option `inline` is given twice"), "{e}");
}

#[test]
fn a_world_that_does_not_exist() {
    let e = error(&format!("{{ inline: {WIT}, world: \"nope\" }}"));
    assert!(e.contains("nope"), "{e}");
}

#[test]
fn a_missing_path() {
    let e = error(r#"{ path: "no/such/dir" }"#);
    assert!(e.contains("WIT path `no/such/dir` not found"), "{e}");
    let e = error(r#""w" in "missing.wit""#);
    assert!(e.contains("WIT path `missing.wit` not found"), "{e}");
}

#[test]
fn no_path_and_no_default_wit_folder() {
    let e = error("");
    assert!(e.contains("WIT path `wit` not found"), "{e}");
}

#[test]
fn wit_syntax_errors_are_reported() {
    let e = error(r#"{ inline: "package a:b; world w { export f: func(x: u32 -> string; }" }"#);
    assert!(!e.is_empty());
}

#[test]
fn unused_with_keys() {
    let e = error(&format!(
        "{{ inline: {WIT}, with: {{ \"a:b/nope\": crate::x }} }}"
    ));
    assert!(
        e.contains("`with` key `a:b/nope` names no imported interface"),
        "{e}"
    );
}

#[test]
fn unknown_trappable_imports() {
    let e = error(&format!("{{ inline: {WIT}, trappable_imports: [\"g\"] }}"));
    assert!(e.contains("`g` is no imported function"), "{e}");
    let e = error(&format!("{{ inline: {WIT}, trappable_imports: 3 }}"));
    assert!(e.contains("expected `true`, `false`"), "{e}");
}

#[test]
fn too_many_flags() {
    let flags: Vec<String> = (0..33).map(|i| format!("g{i}")).collect();
    let wit = format!(
        "package a:b; world w {{ flags many {{ {} }} export f: func(x: many); }}",
        flags.join(", ")
    );
    let e = error(&format!("{{ inline: {wit:?} }}"));
    // wit-parser rejects them first; the generator would too.
    assert!(e.contains("more than 32 flags"), "{e}");
}

#[test]
fn a_world_expands() {
    let out = syn::parse_str::<Options>(&format!("{{ inline: {WIT} }}"))
        .and_then(expand)
        .map(|t| t.to_string())
        .unwrap_or_default();
    assert!(out.contains("pub struct W"), "{out}");
    assert!(out.contains("pub fn call_f"), "{out}");
}

#[test]
fn keywords_become_valid_identifiers() {
    let wit = r#""package a:b; world w { record r { %type: u8, self: u8, %async: u8 } export f: func(x: r); }""#;
    let out = syn::parse_str::<Options>(&format!("{{ inline: {wit} }}"))
        .and_then(expand)
        .map(|t| t.to_string())
        .unwrap_or_else(|e| e.to_string());
    assert!(out.contains("pub type_ : u8"), "{out}");
    assert!(out.contains("pub self_ : u8"), "{out}");
    assert!(out.contains("pub async_ : u8"), "{out}");
}

#[test]
fn a_single_file_path() {
    // Relative to this crate's manifest, as a user's path is to theirs.
    let out = syn::parse_str::<Options>(
        r#"{ path: "../tests/guests/strings/wit/strings.wit", world: "strings" }"#,
    )
    .and_then(expand)
    .map(|t| t.to_string())
    .unwrap_or_else(|e| e.to_string());
    assert!(out.contains("pub trait StringsImports"), "{out}");
    assert!(out.contains("pub fn call_split"), "{out}");
    // The file is a build input.
    assert!(out.contains("include_bytes"), "{out}");
}
