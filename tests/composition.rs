//! Composition: nested components, a component definition instantiated
//! twice, component-to-component calls (string transcoding between every
//! pair of encodings, realloc and post-return of the right instance),
//! reentrance and poisoning across instance boundaries.

mod common;

use common::*;
use componentry::*;
use std::sync::{Arc, Mutex};

// ------------------------------------------------------------ nesting

/// outer → middle → inner: each level multiplies by 10 and adds its own
/// digit, so the result shows that every level ran, in order.
const THREE_LEVELS: &str = r#"(component
  (component $Middle
    (component $Inner
      (core module $m
        (func (export "f") (param i32) (result i32)
          (i32.add (i32.mul (local.get 0) (i32.const 10)) (i32.const 1))))
      (core instance $i (instantiate $m))
      (func (export "f") (param "x" u32) (result u32) (canon lift (core func $i "f"))))
    (instance $inner (instantiate $Inner))
    (core func $f (canon lower (func $inner "f")))
    (core module $m
      (import "" "f" (func $f (param i32) (result i32)))
      (func (export "g") (param i32) (result i32)
        (i32.add (i32.mul (call $f (local.get 0)) (i32.const 10)) (i32.const 2))))
    (core instance $i (instantiate $m (with "" (instance (export "f" (func $f))))))
    (func (export "g") (param "x" u32) (result u32) (canon lift (core func $i "g"))))
  (instance $middle (instantiate $Middle))
  (core func $g (canon lower (func $middle "g")))
  (core module $m
    (import "" "g" (func $g (param i32) (result i32)))
    (func (export "h") (param i32) (result i32)
      (i32.add (i32.mul (call $g (local.get 0)) (i32.const 10)) (i32.const 3))))
  (core instance $i (instantiate $m (with "" (instance (export "g" (func $g))))))
  (func (export "h") (param "x" u32) (result u32) (canon lift (core func $i "h")))
)"#;

#[test]
fn three_level_nesting_call_crosses_every_level() {
    let (mut store, inst) = instantiate(THREE_LEVELS);
    // ((7 * 10 + 1) * 10 + 2) * 10 + 3
    assert_eq!(call_u32(&mut store, &inst, "h", &[Val::U32(7)]), 7123);
    assert_eq!(call_u32(&mut store, &inst, "h", &[Val::U32(0)]), 123);
}

#[test]
fn host_import_passed_down_two_levels_is_called_by_the_innermost_component() {
    let wat = r#"(component
      (import "add" (func $add (param "a" u32) (param "b" u32) (result u32)))
      (component $Middle
        (import "add" (func $add (param "a" u32) (param "b" u32) (result u32)))
        (component $Inner
          (import "add" (func $add (param "a" u32) (param "b" u32) (result u32)))
          (core func $add' (canon lower (func $add)))
          (core module $m
            (import "" "add" (func $add (param i32 i32) (result i32)))
            (func (export "f") (param i32) (result i32) (call $add (local.get 0) (i32.const 1000))))
          (core instance $i (instantiate $m (with "" (instance (export "add" (func $add'))))))
          (func (export "f") (param "x" u32) (result u32) (canon lift (core func $i "f"))))
        (instance $inner (instantiate $Inner (with "add" (func $add))))
        (export "f" (func $inner "f")))
      (instance $middle (instantiate $Middle (with "add" (func $add))))
      (export "f" (func $middle "f"))
    )"#;
    let engine = Engine::default();
    let mut linker = Linker::<Vec<(u32, u32)>>::new(&engine);
    linker
        .root()
        .func_new("add", |mut cx, params, results| {
            let (Val::U32(a), Val::U32(b)) = (&params[0], &params[1]) else {
                return Err(Error::host("bad arguments"));
            };
            cx.data_mut().push((*a, *b));
            results[0] = Val::U32(a + b);
            Ok(())
        })
        .unwrap();
    let (mut store, inst) = instantiate_with(&engine, &linker, wat, Vec::new());
    assert_eq!(call_u32(&mut store, &inst, "f", &[Val::U32(5)]), 1005);
    assert_eq!(store.data(), &vec![(5, 1000)]);
}

// ------------------------------------------- one definition, two instances

const COUNTER: &str = r#"(component $C
    (core module $m
      (global $n (mut i32) (i32.const 0))
      (func (export "next") (result i32)
        (global.set $n (i32.add (global.get $n) (i32.const 1)))
        (global.get $n)))
    (core instance $i (instantiate $m))
    (func (export "next") (result u32) (canon lift (core func $i "next"))))"#;

fn assert_counters_are_independent(wat: &str) {
    let (mut store, inst) = instantiate(wat);
    assert_eq!(call_u32(&mut store, &inst, "next-a", &[]), 1);
    assert_eq!(call_u32(&mut store, &inst, "next-a", &[]), 2);
    assert_eq!(call_u32(&mut store, &inst, "next-a", &[]), 3);
    assert_eq!(call_u32(&mut store, &inst, "next-b", &[]), 1);
    assert_eq!(call_u32(&mut store, &inst, "next-a", &[]), 4);
    assert_eq!(call_u32(&mut store, &inst, "next-b", &[]), 2);
}

#[test]
fn nested_definition_instantiated_twice_has_distinct_state() {
    let wat = format!(
        r#"(component
          {COUNTER}
          (instance $a (instantiate $C))
          (instance $b (instantiate $C))
          (export "next-a" (func $a "next"))
          (export "next-b" (func $b "next")))"#
    );
    assert_counters_are_independent(&wat);
}

#[test]
fn imported_component_definition_instantiated_twice_has_distinct_state() {
    let wat = format!(
        r#"(component
          {COUNTER}
          (component $Twice
            (import "c" (component $C (export "next" (func (result u32)))))
            (instance $a (instantiate $C))
            (instance $b (instantiate $C))
            (export "next-a" (func $a "next"))
            (export "next-b" (func $b "next")))
          (instance $t (instantiate $Twice (with "c" (component $C))))
          (export "next-a" (func $t "next-a"))
          (export "next-b" (func $t "next-b")))"#
    );
    assert_counters_are_independent(&wat);
}

/// `$C` defines resource `r`, with `make: func(rep) -> own<r>`,
/// `consume: func(own<r>) -> rep` and `peek: func(borrow<r>) -> rep`.
const RESOURCE_DEF: &str = r#"  (component $C
    (type $r' (resource (rep i32)))
    (export $r "r" (type $r'))
    (canon resource.new $r' (core func $new))
    (canon resource.rep $r' (core func $rep))
    (canon resource.drop $r' (core func $drop))
    (core module $m
      (import "" "new" (func $new (param i32) (result i32)))
      (import "" "rep" (func $rep (param i32) (result i32)))
      (import "" "drop" (func $drop (param i32)))
      (func (export "make") (param i32) (result i32) (call $new (local.get 0)))
      (func (export "consume") (param $h i32) (result i32)
        (local $rep i32)
        (local.set $rep (call $rep (local.get $h)))
        (call $drop (local.get $h))
        (local.get $rep))
      (func (export "peek") (param $rep i32) (result i32) (local.get $rep)))
    (core instance $i (instantiate $m (with "" (instance
      (export "new" (func $new)) (export "rep" (func $rep)) (export "drop" (func $drop))))))
    (func (export "make") (param "rep" u32) (result (own $r)) (canon lift (core func $i "make")))
    (func (export "consume") (param "x" (own $r)) (result u32) (canon lift (core func $i "consume")))
    (func (export "peek") (param "x" (borrow $r)) (result u32) (canon lift (core func $i "peek"))))"#;

/// Given instances `$c1` and `$c2` of [`RESOURCE_DEF`]: exports that move
/// or lend a handle made by `$c1` to `$c1` or `$c2`.
const USE_TWO_INSTANCES: &str = r#"  (core func $make1 (canon lower (func $c1 "make")))
  (core func $consume1 (canon lower (func $c1 "consume")))
  (core func $peek1 (canon lower (func $c1 "peek")))
  (core func $consume2 (canon lower (func $c2 "consume")))
  (core func $peek2 (canon lower (func $c2 "peek")))
  (core module $m
    (import "" "make1" (func $make1 (param i32) (result i32)))
    (import "" "consume1" (func $consume1 (param i32) (result i32)))
    (import "" "peek1" (func $peek1 (param i32) (result i32)))
    (import "" "consume2" (func $consume2 (param i32) (result i32)))
    (import "" "peek2" (func $peek2 (param i32) (result i32)))
    (func (export "same-instance") (result i32)
      (local $h i32)
      (local.set $h (call $make1 (i32.const 7)))
      (i32.add (call $peek1 (local.get $h)) (call $consume1 (local.get $h))))
    (func (export "own-across") (result i32) (call $consume2 (call $make1 (i32.const 7))))
    (func (export "borrow-across") (result i32) (call $peek2 (call $make1 (i32.const 7)))))
  (core instance $i (instantiate $m (with "" (instance
    (export "make1" (func $make1)) (export "consume1" (func $consume1)) (export "peek1" (func $peek1))
    (export "consume2" (func $consume2)) (export "peek2" (func $peek2))))))
  (func (export "same-instance") (result u32) (canon lift (core func $i "same-instance")))
  (func (export "own-across") (result u32) (canon lift (core func $i "own-across")))
  (func (export "borrow-across") (result u32) (canon lift (core func $i "borrow-across")))"#;

/// [`RESOURCE_DEF`] instantiated twice by the root component, which also
/// exports the two resource types and some of their functions to the host.
fn two_resource_instances() -> String {
    format!(
        r#"(component
  {RESOURCE_DEF}
  (instance $c1 (instantiate $C))
  (instance $c2 (instantiate $C))
  {USE_TWO_INSTANCES}
  (export $r1 "r1" (type $c1 "r"))
  (export "make1" (func $c1 "make") (func (param "rep" u32) (result (own $r1))))
  (export "consume1" (func $c1 "consume") (func (param "x" (own $r1)) (result u32)))
  (export $r2 "r2" (type $c2 "r"))
  (export "consume2" (func $c2 "consume") (func (param "x" (own $r2)) (result u32)))
  (export "peek2" (func $c2 "peek") (func (param "x" (borrow $r2)) (result u32)))
)"#
    )
}

/// [`RESOURCE_DEF`] passed to a component that imports it as a component
/// and instantiates it twice.
fn imported_resource_definition_instantiated_twice() -> String {
    format!(
        r#"(component
  {RESOURCE_DEF}
  (component $Twice
    (import "c" (component $C
      (export "r" (type $r (sub resource)))
      (export "make" (func (param "rep" u32) (result (own $r))))
      (export "consume" (func (param "x" (own $r)) (result u32)))
      (export "peek" (func (param "x" (borrow $r)) (result u32)))))
    (instance $c1 (instantiate $C))
    (instance $c2 (instantiate $C))
    {USE_TWO_INSTANCES})
  (instance $t (instantiate $Twice (with "c" (component $C))))
  (export "same-instance" (func $t "same-instance"))
  (export "own-across" (func $t "own-across"))
  (export "borrow-across" (func $t "borrow-across"))
)"#
    )
}

#[test]
fn outer_alias_of_an_imported_module_uses_the_module_each_parent_was_given() {
    let wat = r#"(component
      (component $P
        (import "m" (core module $M (export "n" (func (result i32)))))
        (component $Q
          (alias outer $P $M (core module $M'))
          (core instance $i (instantiate $M'))
          (func (export "n") (result u32) (canon lift (core func $i "n"))))
        (instance $q (instantiate $Q))
        (export "n" (func $q "n")))
      (core module $A (func (export "n") (result i32) i32.const 11))
      (core module $B (func (export "n") (result i32) i32.const 22))
      (instance $pa (instantiate $P (with "m" (core module $A))))
      (instance $pb (instantiate $P (with "m" (core module $B))))
      (export "a" (func $pa "n"))
      (export "b" (func $pb "n")))"#;
    let (mut store, inst) = instantiate(wat);
    assert_eq!(call_u32(&mut store, &inst, "a", &[]), 11);
    assert_eq!(call_u32(&mut store, &inst, "b", &[]), 22);
}

#[test]
fn outer_alias_of_an_imported_component_instantiates_the_argument() {
    let wat = r#"(component
      (component $Leaf
        (core module $m (func (export "n") (result i32) i32.const 5))
        (core instance $i (instantiate $m))
        (func (export "n") (result u32) (canon lift (core func $i "n"))))
      (component $P
        (import "c" (component $C (export "n" (func (result u32)))))
        (component $Q
          (alias outer $P $C (component $C'))
          (instance $c (instantiate $C'))
          (export "n" (func $c "n")))
        (instance $q (instantiate $Q))
        (export "n" (func $q "n")))
      (instance $p (instantiate $P (with "c" (component $Leaf))))
      (export "n" (func $p "n")))"#;
    let (mut store, inst) = instantiate(wat);
    assert_eq!(call_u32(&mut store, &inst, "n", &[]), 5);
}

#[test]
fn exported_definition_keeps_the_module_its_definer_was_given() {
    // $Q is defined inside each $P instance, exported, and instantiated by
    // the root: its outer alias still reads that $P's import.
    let wat = r#"(component
      (component $P
        (import "m" (core module $M (export "n" (func (result i32)))))
        (component $Q
          (alias outer $P $M (core module $M'))
          (core instance $i (instantiate $M'))
          (func (export "n") (result u32) (canon lift (core func $i "n"))))
        (export "q" (component $Q)))
      (core module $A (func (export "n") (result i32) i32.const 31))
      (core module $B (func (export "n") (result i32) i32.const 32))
      (instance $pa (instantiate $P (with "m" (core module $A))))
      (instance $pb (instantiate $P (with "m" (core module $B))))
      (alias export $pa "q" (component $qa))
      (alias export $pb "q" (component $qb))
      (instance $ia (instantiate $qa))
      (instance $ib (instantiate $qb))
      (export "a" (func $ia "n"))
      (export "b" (func $ib "n")))"#;
    let (mut store, inst) = instantiate(wat);
    assert_eq!(call_u32(&mut store, &inst, "a", &[]), 31);
    assert_eq!(call_u32(&mut store, &inst, "b", &[]), 32);
}

/// A component importing an instance whose type exports a resource that
/// only the instance's function types use (never aliased out).
fn instance_import_with_unaliased_resource() -> String {
    format!(
        r#"(component
  {RESOURCE_DEF}
  (component $User
    (import "c" (instance $c
      (export "r" (type $r (sub resource)))
      (export "make" (func (param "rep" u32) (result (own $r))))
      (export "consume" (func (param "x" (own $r)) (result u32)))))
    (core func $make (canon lower (func $c "make")))
    (core func $consume (canon lower (func $c "consume")))
    (core module $m
      (import "" "make" (func $make (param i32) (result i32)))
      (import "" "consume" (func $consume (param i32) (result i32)))
      (func (export "round-trip") (result i32) (call $consume (call $make (i32.const 7)))))
    (core instance $i (instantiate $m (with "" (instance
      (export "make" (func $make)) (export "consume" (func $consume))))))
    (func (export "round-trip") (result u32) (canon lift (core func $i "round-trip"))))
  (instance $c (instantiate $C))
  (instance $u (instantiate $User (with "c" (instance $c))))
  (export "round-trip" (func $u "round-trip"))
)"#
    )
}

#[test]
fn resource_of_an_imported_instance_type_is_bound_without_an_alias() {
    let (mut store, inst) = instantiate(&instance_import_with_unaliased_resource());
    assert_eq!(call_u32(&mut store, &inst, "round-trip", &[]), 7);
}

#[test]
fn handle_of_an_instances_resource_goes_back_to_that_instance() {
    let (mut store, inst) = instantiate(&two_resource_instances());
    // peek (borrow: the implementer sees the rep) + consume (own: the rep).
    assert_eq!(call_u32(&mut store, &inst, "same-instance", &[]), 14);
}

#[test]
fn own_handle_of_instance_1_passed_to_instance_2_traps_wrong_resource_type() {
    let (mut store, inst) = instantiate(&two_resource_instances());
    assert_trap(
        call(&mut store, &inst, "own-across", &[]),
        TrapKind::WrongResourceType,
    );
}

#[test]
fn borrow_of_instance_1_resource_passed_to_instance_2_traps_wrong_resource_type() {
    let (mut store, inst) = instantiate(&two_resource_instances());
    assert_trap(
        call(&mut store, &inst, "borrow-across", &[]),
        TrapKind::WrongResourceType,
    );
}

#[test]
fn imported_definition_instantiated_twice_takes_back_its_own_handles() {
    let (mut store, inst) = instantiate(&imported_resource_definition_instantiated_twice());
    assert_eq!(call_u32(&mut store, &inst, "same-instance", &[]), 14);
}

#[test]
fn imported_definition_instantiated_twice_has_distinct_resource_types_for_own() {
    let (mut store, inst) = instantiate(&imported_resource_definition_instantiated_twice());
    assert_trap(
        call(&mut store, &inst, "own-across", &[]),
        TrapKind::WrongResourceType,
    );
}

#[test]
fn imported_definition_instantiated_twice_has_distinct_resource_types_for_borrow() {
    let (mut store, inst) = instantiate(&imported_resource_definition_instantiated_twice());
    assert_trap(
        call(&mut store, &inst, "borrow-across", &[]),
        TrapKind::WrongResourceType,
    );
}

/// `Func::call` documents a usage error for an argument that does not match
/// its parameter type, and a usage error does not poison: the rejected
/// handle stays the host's and instance 1 takes it afterwards.
#[test]
fn host_passing_instance_1_resource_as_own_to_instance_2_is_a_usage_error() {
    let (mut store, inst) = instantiate(&two_resource_instances());
    let r = call_resource(&mut store, &inst, "make1", &[Val::U32(9)]);
    let err = call(&mut store, &inst, "consume2", &[Val::Resource(r)])
        .expect_err("a resource of instance 1's type was accepted by instance 2");
    assert_eq!(err.kind(), &ErrorKind::Usage, "{err}");
    assert_eq!(
        call_u32(&mut store, &inst, "consume1", &[Val::Resource(r)]),
        9
    );
}

#[test]
fn host_passing_instance_1_resource_as_borrow_to_instance_2_is_a_usage_error() {
    let (mut store, inst) = instantiate(&two_resource_instances());
    let r = call_resource(&mut store, &inst, "make1", &[Val::U32(9)]);
    let err = call(&mut store, &inst, "peek2", &[Val::Resource(r)])
        .expect_err("a resource of instance 1's type was lent to instance 2");
    assert_eq!(err.kind(), &ErrorKind::Usage, "{err}");
    assert_eq!(
        call_u32(&mut store, &inst, "consume1", &[Val::Resource(r)]),
        9
    );
}

// ------------------------------------------------------ string transcoding

const UTF16_TAG: u32 = 1 << 31;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Enc {
    Utf8,
    Utf16,
    Latin1Utf16,
}

impl Enc {
    fn opt(self) -> &'static str {
        match self {
            Enc::Utf8 => "string-encoding=utf8",
            Enc::Utf16 => "string-encoding=utf16",
            Enc::Latin1Utf16 => "string-encoding=latin1+utf16",
        }
    }

    /// A core function `$bytelen` from a tagged code unit count to a byte length.
    fn bytelen_func(self) -> &'static str {
        match self {
            Enc::Utf8 => "(func $bytelen (param i32) (result i32) (local.get 0))",
            Enc::Utf16 => {
                "(func $bytelen (param i32) (result i32) (i32.shl (local.get 0) (i32.const 1)))"
            }
            Enc::Latin1Utf16 => {
                "(func $bytelen (param i32) (result i32)
                   (if (result i32) (i32.lt_s (local.get 0) (i32.const 0))
                     (then (i32.shl (i32.and (local.get 0) (i32.const 0x7fffffff)) (i32.const 1)))
                     (else (local.get 0))))"
            }
        }
    }

    /// How the canonical ABI represents `s`: the tagged code unit count and
    /// the bytes (`latin1+utf16` uses Latin-1 when every char fits).
    fn encode(self, s: &str) -> (u32, Vec<u8>) {
        let utf16 = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(u16::to_le_bytes).collect() };
        match self {
            Enc::Utf8 => (s.len() as u32, s.as_bytes().to_vec()),
            Enc::Utf16 => (s.encode_utf16().count() as u32, utf16(s)),
            Enc::Latin1Utf16 => {
                let latin1: Option<Vec<u8>> = s.chars().map(|c| u8::try_from(c).ok()).collect();
                match latin1 {
                    Some(b) => (b.len() as u32, b),
                    None => (s.encode_utf16().count() as u32 | UTF16_TAG, utf16(s)),
                }
            }
        }
    }
}

/// Core code of a `report` function: the tagged length and the bytes of
/// the string at (`$ptr`, `$tagged`), as a `tuple<u32, list<u8>>` at 32.
const REPORT: &str = "
    (i32.store (i32.const 32) (local.get $tagged))
    (i32.store (i32.const 36) (local.get $ptr))
    (i32.store (i32.const 40) (call $bytelen (local.get $tagged)))
    (i32.const 32)";

/// The caller (`src` encoding) holds `text` in a data segment and passes it
/// to the callee's `echo` (`dst` encoding), which records what it received
/// and returns the same string; the caller returns what it got back.
fn transcoding_component(src: Enc, dst: Enc, text: &str) -> String {
    let (tagged, bytes) = src.encode(text);
    let bytes = wat_string(&bytes);
    let (src_opt, dst_opt) = (src.opt(), dst.opt());
    let (src_len, dst_len) = (src.bytelen_func(), dst.bytelen_func());
    format!(
        r#"(component
  (component $Callee
    (core module $m
      {LIBC_LOGGED}
      {dst_len}
      (global $ptr (mut i32) (i32.const 0))
      (global $tagged (mut i32) (i32.const 0))
      (func (export "echo") (param $ptr i32) (param $tagged i32) (result i32)
        (global.set $ptr (local.get $ptr))
        (global.set $tagged (local.get $tagged))
        (i32.store (i32.const 16) (local.get $ptr))
        (i32.store (i32.const 20) (local.get $tagged))
        (i32.const 16))
      (func (export "last") (result i32)
        (local $ptr i32) (local $tagged i32)
        (local.set $ptr (global.get $ptr))
        (local.set $tagged (global.get $tagged))
        {REPORT}))
    (core instance $i (instantiate $m))
    (func (export "echo") (param "s" string) (result string)
      (canon lift (core func $i "echo") (memory (core memory $i "mem"))
        (realloc (core func $i "realloc")) {dst_opt}))
    (func (export "last") (result (tuple u32 (list u8)))
      (canon lift (core func $i "last") (memory (core memory $i "mem"))))
    (func (export "realloc-log") (result {REALLOC_LOG_TY})
      (canon lift (core func $i "realloc-log") (memory (core memory $i "mem")))))
  (component $Caller
    (import "echo" (func $echo (param "s" string) (result string)))
    (core module $Libc {LIBC_LOGGED})
    (core instance $libc (instantiate $Libc))
    (core func $echo-lowered (canon lower (func $echo) (memory (core memory $libc "mem"))
      (realloc (core func $libc "realloc")) {src_opt}))
    (core module $m
      (import "libc" "mem" (memory 1))
      (import "" "echo" (func $echo (param i32 i32 i32)))
      {src_len}
      (data (i32.const 256) {bytes})
      (func (export "run") (result i32)
        (call $echo (i32.const 256) (i32.const {tagged}) (i32.const 48))
        (i32.const 48))
      (func (export "got") (result i32)
        (local $ptr i32) (local $tagged i32)
        (local.set $ptr (i32.load (i32.const 48)))
        (local.set $tagged (i32.load (i32.const 52)))
        {REPORT}))
    (core instance $i (instantiate $m (with "libc" (instance $libc))
      (with "" (instance (export "echo" (func $echo-lowered))))))
    (func (export "run") (result string)
      (canon lift (core func $i "run") (memory (core memory $libc "mem")) {src_opt}))
    (func (export "got") (result (tuple u32 (list u8)))
      (canon lift (core func $i "got") (memory (core memory $libc "mem"))))
    (func (export "realloc-log") (result {REALLOC_LOG_TY})
      (canon lift (core func $libc "realloc-log") (memory (core memory $libc "mem")))))
  (instance $callee (instantiate $Callee))
  (instance $caller (instantiate $Caller (with "echo" (func $callee "echo"))))
  (export "run" (func $caller "run"))
  (export "got" (func $caller "got"))
  (export "callee-last" (func $callee "last"))
  (export "callee-realloc-log" (func $callee "realloc-log"))
  (export "caller-realloc-log" (func $caller "realloc-log"))
)"#,
        tagged = tagged as i32,
    )
}

fn report(v: Option<Val>) -> (u32, Vec<u8>) {
    match v {
        Some(Val::Tuple(vs)) => match vs.as_slice() {
            [Val::U32(tagged), bytes] => (*tagged, bytes_of(bytes)),
            other => panic!("unexpected report {other:?}"),
        },
        other => panic!("unexpected report {other:?}"),
    }
}

/// The `(old-size, align, new-size)` of each realloc call CanonicalABI.md
/// (`store_string_into_range` and the transcoders it dispatches to) makes
/// to store `s`, held in `src` as `src.encode(s)`, into `dst`.
fn spec_realloc_calls(src: Enc, dst: Enc, s: &str) -> Vec<(u32, u32, u32)> {
    let (tagged, _) = src.encode(s);
    let units = tagged & !UTF16_TAG;
    let tagged_utf16 = tagged & UTF16_TAG != 0;
    let src_is_utf16 = src == Enc::Utf16 || (src == Enc::Latin1Utf16 && tagged_utf16);
    let utf8_len = s.len() as u32;
    let utf16_bytes = 2 * s.encode_utf16().count() as u32;
    let all_latin1 = s.chars().all(|c| (c as u32) < 0x100);
    match (dst, src) {
        (Enc::Utf8, Enc::Utf8) => vec![(0, 1, units)],
        (Enc::Utf8, _) => {
            // store_utf16_to_utf8 / store_latin1_to_utf8
            let worst = units * if src_is_utf16 { 3 } else { 2 };
            let mut v = vec![(0, 1, units)];
            if !s.is_ascii() {
                v.push((units, 1, worst));
                if worst > utf8_len {
                    v.push((worst, 1, utf8_len));
                }
            }
            v
        }
        (Enc::Utf16, Enc::Utf8) => {
            let worst = 2 * units;
            let mut v = vec![(0, 2, worst)];
            if utf16_bytes < worst {
                v.push((worst, 2, utf16_bytes));
            }
            v
        }
        (Enc::Utf16, _) => vec![(0, 2, 2 * units)],
        (Enc::Latin1Utf16, Enc::Latin1Utf16) if !tagged_utf16 => vec![(0, 2, units)],
        (Enc::Latin1Utf16, Enc::Latin1Utf16) => {
            // store_probably_utf16_to_latin1_or_utf16
            let mut v = vec![(0, 2, 2 * units)];
            if all_latin1 {
                v.push((2 * units, 1, units));
            }
            v
        }
        (Enc::Latin1Utf16, _) => {
            // store_string_to_latin1_or_utf16
            let mut v = vec![(0, 2, units)];
            if all_latin1 {
                let n = s.chars().count() as u32;
                if n < units {
                    v.push((units, 2, n));
                }
            } else {
                let worst = 2 * units;
                v.push((units, 2, worst));
                if worst > utf16_bytes {
                    v.push((worst, 2, utf16_bytes));
                }
            }
            v
        }
    }
}

/// Latin-1, BMP, astral and mixed text.
const SAMPLES: [&str; 4] = ["café", "日本語", "😀", "aé日😀"];

fn check_transcoding(src: Enc, dst: Enc) {
    for text in SAMPLES {
        let (mut store, inst) = instantiate(&transcoding_component(src, dst, text));
        assert_eq!(
            call(&mut store, &inst, "run", &[]),
            Ok(Some(Val::String(text.into()))),
            "{src:?} -> {dst:?} -> {src:?}: {text:?}"
        );
        assert_eq!(
            report(call(&mut store, &inst, "callee-last", &[]).unwrap()),
            dst.encode(text),
            "code units in the {dst:?} callee for {text:?} from {src:?}"
        );
        assert_eq!(
            report(call(&mut store, &inst, "got", &[]).unwrap()),
            src.encode(text),
            "code units back in the {src:?} caller for {text:?} from {dst:?}"
        );
        let log = call(&mut store, &inst, "callee-realloc-log", &[]).unwrap();
        assert_eq!(
            realloc_log(&log.unwrap()),
            spec_realloc_calls(src, dst, text),
            "realloc calls of the {dst:?} callee for {text:?} from {src:?}"
        );
        let log = call(&mut store, &inst, "caller-realloc-log", &[]).unwrap();
        assert_eq!(
            realloc_log(&log.unwrap()),
            spec_realloc_calls(dst, src, text),
            "realloc calls of the {src:?} caller for {text:?} back from {dst:?}"
        );
    }
}

#[test]
fn transcoding_utf8_to_utf8() {
    check_transcoding(Enc::Utf8, Enc::Utf8);
}

#[test]
fn transcoding_utf8_to_utf16() {
    check_transcoding(Enc::Utf8, Enc::Utf16);
}

#[test]
fn transcoding_utf8_to_latin1_utf16() {
    check_transcoding(Enc::Utf8, Enc::Latin1Utf16);
}

#[test]
fn transcoding_utf16_to_utf8() {
    check_transcoding(Enc::Utf16, Enc::Utf8);
}

#[test]
fn transcoding_utf16_to_utf16() {
    check_transcoding(Enc::Utf16, Enc::Utf16);
}

#[test]
fn transcoding_utf16_to_latin1_utf16() {
    check_transcoding(Enc::Utf16, Enc::Latin1Utf16);
}

#[test]
fn transcoding_latin1_utf16_to_utf8() {
    check_transcoding(Enc::Latin1Utf16, Enc::Utf8);
}

#[test]
fn transcoding_latin1_utf16_to_utf16() {
    check_transcoding(Enc::Latin1Utf16, Enc::Utf16);
}

#[test]
fn transcoding_latin1_utf16_to_latin1_utf16() {
    check_transcoding(Enc::Latin1Utf16, Enc::Latin1Utf16);
}

#[test]
fn latin1_utf16_callee_receives_latin1_bytes_for_cafe_from_utf8() {
    let (mut store, inst) =
        instantiate(&transcoding_component(Enc::Utf8, Enc::Latin1Utf16, "café"));
    call(&mut store, &inst, "run", &[]).unwrap();
    assert_eq!(
        report(call(&mut store, &inst, "callee-last", &[]).unwrap()),
        (4, b"caf\xe9".to_vec())
    );
}

#[test]
fn latin1_utf16_callee_receives_tagged_utf16_for_nihon_from_utf8() {
    let (mut store, inst) =
        instantiate(&transcoding_component(Enc::Utf8, Enc::Latin1Utf16, "日本"));
    call(&mut store, &inst, "run", &[]).unwrap();
    assert_eq!(
        report(call(&mut store, &inst, "callee-last", &[]).unwrap()),
        (2 | UTF16_TAG, vec![0xe5, 0x65, 0x2c, 0x67])
    );
}

#[test]
fn utf16_callee_receives_a_surrogate_pair_for_astral_text_from_latin1_utf16() {
    let (mut store, inst) = instantiate(&transcoding_component(Enc::Latin1Utf16, Enc::Utf16, "😀"));
    call(&mut store, &inst, "run", &[]).unwrap();
    assert_eq!(
        report(call(&mut store, &inst, "callee-last", &[]).unwrap()),
        (2, vec![0x3d, 0xd8, 0x00, 0xde])
    );
}

#[test]
fn utf8_callee_receives_utf8_bytes_for_cafe_from_latin1_utf16() {
    let (mut store, inst) =
        instantiate(&transcoding_component(Enc::Latin1Utf16, Enc::Utf8, "café"));
    call(&mut store, &inst, "run", &[]).unwrap();
    assert_eq!(
        report(call(&mut store, &inst, "callee-last", &[]).unwrap()),
        (5, b"caf\xc3\xa9".to_vec())
    );
}

// ------------------------------------------------------------ reentrance

/// Host data for reentrance tests: the function the host import calls
/// back into, and the outcome of that nested call.
#[derive(Default)]
struct Reenter {
    target: Option<Func>,
    nested: Option<Result<()>>,
}

/// A linker whose root import `cb` calls `target` with no arguments (and
/// one result slot if it has a result), records the outcome, and returns it.
fn reentering_linker(engine: &Engine) -> Linker<Reenter> {
    let mut linker = Linker::<Reenter>::new(engine);
    linker
        .root()
        .func_new("cb", |mut cx, _params, _results| {
            let f = cx.data().target.clone().expect("no target");
            let mut out = vec![Val::Bool(false); usize::from(f.ty().result.is_some())];
            let r = f.call(&mut cx, &[], &mut out);
            cx.data_mut().nested = Some(r.clone());
            r
        })
        .unwrap();
    linker
}

#[test]
fn reentering_an_instance_from_its_host_import_traps_cannot_enter() {
    let wat = r#"(component
      (import "cb" (func $cb))
      (core func $cb' (canon lower (func $cb)))
      (core module $m
        (import "" "cb" (func $cb))
        (func (export "run") (call $cb))
        (func (export "other") (result i32) (i32.const 5)))
      (core instance $i (instantiate $m (with "" (instance (export "cb" (func $cb'))))))
      (func (export "run") (canon lift (core func $i "run")))
      (func (export "other") (result u32) (canon lift (core func $i "other")))
    )"#;
    let engine = Engine::default();
    let linker = reentering_linker(&engine);
    let (mut store, inst) = instantiate_with(&engine, &linker, wat, Reenter::default());
    // Not on the stack: the call is fine.
    assert_eq!(call_u32(&mut store, &inst, "other", &[]), 5);
    let other = inst.get_func(&mut store, "other").unwrap();
    store.data_mut().target = Some(other);
    assert_trap(call(&mut store, &inst, "run", &[]), TrapKind::CannotEnter);
    let nested = store.data_mut().nested.take().expect("cb was not called");
    assert_trap(nested, TrapKind::CannotEnter);
}

#[test]
fn calling_a_child_of_an_instance_on_the_stack_from_the_host_traps_cannot_enter() {
    let wat = r#"(component
      (import "cb" (func $cb))
      (component $Child
        (core module $m (func (export "f") (result i32) (i32.const 9)))
        (core instance $i (instantiate $m))
        (func (export "f") (result u32) (canon lift (core func $i "f"))))
      (instance $child (instantiate $Child))
      (core func $cb' (canon lower (func $cb)))
      (core module $m
        (import "" "cb" (func $cb))
        (func (export "run") (call $cb)))
      (core instance $i (instantiate $m (with "" (instance (export "cb" (func $cb'))))))
      (func (export "run") (canon lift (core func $i "run")))
      (export "child-f" (func $child "f"))
    )"#;
    let engine = Engine::default();
    let linker = reentering_linker(&engine);
    let (mut store, inst) = instantiate_with(&engine, &linker, wat, Reenter::default());
    assert_eq!(call_u32(&mut store, &inst, "child-f", &[]), 9);
    let child_f = inst.get_func(&mut store, "child-f").unwrap();
    store.data_mut().target = Some(child_f);
    // The child's entering set from the host includes the parent, which
    // is on the stack.
    assert_trap(call(&mut store, &inst, "run", &[]), TrapKind::CannotEnter);
    let nested = store.data_mut().nested.take().expect("cb was not called");
    assert_trap(nested, TrapKind::CannotEnter);
}

/// host → P (core `$m1`) → child C → P (core `$m2`, lifted and given to C):
/// the donut wrapping the spec allows. `$m2`'s `cb` calls through a table
/// slot, filled with C's lowered `leaf` once C exists: from inside the
/// chain that re-enters C, which is on the stack.
const DONUT: &str = r#"(component
  (core module $T (table (export "t") 1 funcref))
  (core instance $t (instantiate $T))
  (core module $M2
    (import "" "t" (table 1 funcref))
    (type $ft (func (result i32)))
    (func (export "cb") (result i32) (i32.const 40))
    (func (export "cb-into-child") (result i32) (call_indirect (type $ft) (i32.const 0))))
  (core instance $m2 (instantiate $M2 (with "" (instance $t))))
  (func $cb (result u32) (canon lift (core func $m2 "cb")))
  (func $cb-into-child (result u32) (canon lift (core func $m2 "cb-into-child")))
  (component $C
    (import "cb" (func $cb (result u32)))
    (core func $cb' (canon lower (func $cb)))
    (core module $m
      (import "" "cb" (func $cb (result i32)))
      (func (export "run") (result i32) (i32.add (call $cb) (i32.const 2)))
      (func (export "leaf") (result i32) (i32.const 1)))
    (core instance $i (instantiate $m (with "" (instance (export "cb" (func $cb'))))))
    (func (export "run") (result u32) (canon lift (core func $i "run")))
    (func (export "leaf") (result u32) (canon lift (core func $i "leaf"))))
  (instance $c (instantiate $C (with "cb" (func $cb))))
  (instance $c-reentering (instantiate $C (with "cb" (func $cb-into-child))))
  (core func $leaf' (canon lower (func $c-reentering "leaf")))
  (core module $Fill
    (import "" "t" (table 1 funcref))
    (import "" "leaf" (func $leaf (result i32)))
    (elem (i32.const 0) func $leaf))
  (core instance (instantiate $Fill (with "" (instance
    (export "t" (table $t "t")) (export "leaf" (func $leaf'))))))
  (core func $run' (canon lower (func $c "run")))
  (core func $run-reentering' (canon lower (func $c-reentering "run")))
  (core module $M1
    (import "" "run" (func $run (result i32)))
    (import "" "run-reentering" (func $run-reentering (result i32)))
    (func (export "run") (result i32) (call $run))
    (func (export "run-reentering") (result i32) (call $run-reentering)))
  (core instance $m1 (instantiate $M1 (with "" (instance
    (export "run" (func $run')) (export "run-reentering" (func $run-reentering'))))))
  (func (export "run") (result u32) (canon lift (core func $m1 "run")))
  (func (export "run-reentering") (result u32) (canon lift (core func $m1 "run-reentering")))
  (export "cb-into-child" (func $cb-into-child))
)"#;

#[test]
fn child_calling_back_into_its_parent_is_allowed() {
    let (mut store, inst) = instantiate(DONUT);
    assert_eq!(call_u32(&mut store, &inst, "run", &[]), 42);
    assert_eq!(call_u32(&mut store, &inst, "run", &[]), 42);
}

#[test]
fn parent_calling_into_a_child_not_on_the_stack_is_allowed() {
    let (mut store, inst) = instantiate(DONUT);
    assert_eq!(call_u32(&mut store, &inst, "cb-into-child", &[]), 1);
}

#[test]
fn parent_calling_back_into_a_child_on_the_stack_traps_cannot_enter() {
    let (mut store, inst) = instantiate(DONUT);
    assert_trap(
        call(&mut store, &inst, "run-reentering", &[]),
        TrapKind::CannotEnter,
    );
}

// -------------------------------------------------------------- poisoning

const POISON: &str = r#"(component
  (component $C
    (core module $m
      (func (export "boom") unreachable)
      (func (export "ok") (result i32) (i32.const 7)))
    (core instance $i (instantiate $m))
    (func (export "boom") (canon lift (core func $i "boom")))
    (func (export "ok") (result u32) (canon lift (core func $i "ok"))))
  (instance $c (instantiate $C))
  (core func $boom' (canon lower (func $c "boom")))
  (core module $m
    (import "" "boom" (func $boom))
    (func (export "run") (call $boom))
    (func (export "own") (result i32) (i32.const 1)))
  (core instance $i (instantiate $m (with "" (instance (export "boom" (func $boom'))))))
  (func (export "run") (canon lift (core func $i "run")))
  (func (export "own") (result u32) (canon lift (core func $i "own")))
  (export "child-ok" (func $c "ok"))
  (export "child-boom" (func $c "boom"))
)"#;

#[test]
fn trap_in_a_nested_child_poisons_the_parent() {
    let (mut store, inst) = instantiate(POISON);
    assert_eq!(call_u32(&mut store, &inst, "own", &[]), 1);
    assert_trap(call(&mut store, &inst, "run", &[]), TrapKind::Unreachable);
    assert_trap(call(&mut store, &inst, "own", &[]), TrapKind::Poisoned);
    assert_trap(call(&mut store, &inst, "run", &[]), TrapKind::Poisoned);
}

#[test]
fn trap_in_a_nested_child_poisons_the_child() {
    let (mut store, inst) = instantiate(POISON);
    assert_eq!(call_u32(&mut store, &inst, "child-ok", &[]), 7);
    assert_trap(call(&mut store, &inst, "run", &[]), TrapKind::Unreachable);
    assert_trap(call(&mut store, &inst, "child-ok", &[]), TrapKind::Poisoned);
}

#[test]
fn trap_in_a_child_called_directly_by_the_host_poisons_its_parent() {
    let (mut store, inst) = instantiate(POISON);
    assert_trap(
        call(&mut store, &inst, "child-boom", &[]),
        TrapKind::Unreachable,
    );
    assert_trap(call(&mut store, &inst, "own", &[]), TrapKind::Poisoned);
}

// ----------------------------------------- realloc and post-return owners

/// Caller `$A` passes "hello" to callee `$B`'s `greet`, which returns
/// "world!" and has a post-return that counts its calls, records its
/// argument and overwrites the returned bytes (so a result copied after
/// post-return would come out as "XXXXXX"). Each side counts its realloc
/// calls; `$A`'s own `run` has a counting post-return too.
const REALLOC_OWNERS: &str = r#"(component
  (component $B
    (core module $m
      LIBC_LOGGED
      (global $pr-calls (mut i32) (i32.const 0))
      (global $pr-arg (mut i32) (i32.const -1))
      (global $got-len (mut i32) (i32.const -1))
      (data (i32.const 160) "world!")
      (func (export "greet") (param $ptr i32) (param $len i32) (result i32)
        (global.set $got-len (local.get $len))
        (memory.copy (i32.const 128) (i32.const 160) (i32.const 6))
        (i32.store (i32.const 16) (i32.const 128))
        (i32.store (i32.const 20) (i32.const 6))
        (i32.const 16))
      (func (export "pr") (param $ret i32)
        (global.set $pr-calls (i32.add (global.get $pr-calls) (i32.const 1)))
        (global.set $pr-arg (local.get $ret))
        (memory.fill (i32.const 128) (i32.const 0x58) (i32.const 6)))
      (func (export "pr-calls") (result i32) (global.get $pr-calls))
      (func (export "pr-arg") (result i32) (global.get $pr-arg))
      (func (export "got-len") (result i32) (global.get $got-len)))
    (core instance $i (instantiate $m))
    (func (export "greet") (param "s" string) (result string)
      (canon lift (core func $i "greet") (memory (core memory $i "mem"))
        (realloc (core func $i "realloc")) (post-return (core func $i "pr"))))
    (func (export "realloc-calls") (result u32) (canon lift (core func $i "realloc-calls")))
    (func (export "pr-calls") (result u32) (canon lift (core func $i "pr-calls")))
    (func (export "pr-arg") (result u32) (canon lift (core func $i "pr-arg")))
    (func (export "got-len") (result u32) (canon lift (core func $i "got-len"))))
  (component $A
    (import "greet" (func $greet (param "s" string) (result string)))
    (core module $Libc LIBC_LOGGED)
    (core instance $libc (instantiate $Libc))
    (core func $greet' (canon lower (func $greet) (memory (core memory $libc "mem"))
      (realloc (core func $libc "realloc"))))
    (core module $m
      (import "libc" "mem" (memory 1))
      (import "" "greet" (func $greet (param i32 i32 i32)))
      (global $pr-calls (mut i32) (i32.const 0))
      (data (i32.const 256) "hello")
      (func (export "run") (result i32)
        (call $greet (i32.const 256) (i32.const 5) (i32.const 48))
        (i32.const 48))
      (func (export "pr") (param i32)
        (global.set $pr-calls (i32.add (global.get $pr-calls) (i32.const 1))))
      (func (export "pr-calls") (result i32) (global.get $pr-calls)))
    (core instance $i (instantiate $m (with "libc" (instance $libc))
      (with "" (instance (export "greet" (func $greet'))))))
    (func (export "run") (result string)
      (canon lift (core func $i "run") (memory (core memory $libc "mem"))
        (post-return (core func $i "pr"))))
    (func (export "realloc-calls") (result u32) (canon lift (core func $libc "realloc-calls")))
    (func (export "pr-calls") (result u32) (canon lift (core func $i "pr-calls"))))
  (instance $b (instantiate $B))
  (instance $a (instantiate $A (with "greet" (func $b "greet"))))
  (export "run" (func $a "run"))
  (export "a-realloc-calls" (func $a "realloc-calls"))
  (export "a-pr-calls" (func $a "pr-calls"))
  (export "b-realloc-calls" (func $b "realloc-calls"))
  (export "b-pr-calls" (func $b "pr-calls"))
  (export "b-pr-arg" (func $b "pr-arg"))
  (export "b-got-len" (func $b "got-len"))
)"#;

fn realloc_owners() -> (Store<()>, Instance) {
    instantiate(&REALLOC_OWNERS.replace("LIBC_LOGGED", LIBC_LOGGED))
}

#[test]
fn callee_realloc_allocates_params_and_caller_realloc_allocates_results() {
    let (mut store, inst) = realloc_owners();
    assert_eq!(call_u32(&mut store, &inst, "a-realloc-calls", &[]), 0);
    assert_eq!(call_u32(&mut store, &inst, "b-realloc-calls", &[]), 0);
    call(&mut store, &inst, "run", &[]).unwrap();
    assert_eq!(call_u32(&mut store, &inst, "b-got-len", &[]), 5);
    // One utf8 → utf8 copy each way: one realloc call on each side.
    assert_eq!(call_u32(&mut store, &inst, "b-realloc-calls", &[]), 1);
    assert_eq!(call_u32(&mut store, &inst, "a-realloc-calls", &[]), 1);
    call(&mut store, &inst, "run", &[]).unwrap();
    assert_eq!(call_u32(&mut store, &inst, "b-realloc-calls", &[]), 2);
    assert_eq!(call_u32(&mut store, &inst, "a-realloc-calls", &[]), 2);
}

#[test]
fn callee_post_return_runs_once_after_the_result_is_copied_to_the_caller() {
    let (mut store, inst) = realloc_owners();
    assert_eq!(
        call(&mut store, &inst, "run", &[]),
        Ok(Some(Val::String("world!".into())))
    );
    assert_eq!(call_u32(&mut store, &inst, "b-pr-calls", &[]), 1);
    // Post-return receives the callee's core results: the return area.
    assert_eq!(call_u32(&mut store, &inst, "b-pr-arg", &[]), 16);
    assert_eq!(
        call(&mut store, &inst, "run", &[]),
        Ok(Some(Val::String("world!".into())))
    );
    assert_eq!(call_u32(&mut store, &inst, "b-pr-calls", &[]), 2);
}

#[test]
fn caller_post_return_runs_only_for_its_own_export() {
    let (mut store, inst) = realloc_owners();
    call(&mut store, &inst, "run", &[]).unwrap();
    assert_eq!(call_u32(&mut store, &inst, "a-pr-calls", &[]), 1);
    assert_eq!(call_u32(&mut store, &inst, "b-pr-calls", &[]), 1);
}

#[test]
fn host_import_shared_state_sees_calls_from_two_instances_of_one_definition() {
    let wat = r#"(component
      (import "log" (func $log (param "x" u32)))
      (component $C
        (import "log" (func $log (param "x" u32)))
        (core func $log' (canon lower (func $log)))
        (core module $m
          (import "" "log" (func $log (param i32)))
          (global $n (mut i32) (i32.const 0))
          (func (export "tick") (param i32)
            (global.set $n (i32.add (global.get $n) (i32.const 1)))
            (call $log (i32.add (i32.mul (local.get 0) (i32.const 100)) (global.get $n)))))
        (core instance $i (instantiate $m (with "" (instance (export "log" (func $log'))))))
        (func (export "tick") (param "who" u32) (canon lift (core func $i "tick"))))
      (instance $a (instantiate $C (with "log" (func $log))))
      (instance $b (instantiate $C (with "log" (func $log))))
      (export "tick-a" (func $a "tick"))
      (export "tick-b" (func $b "tick"))
    )"#;
    let engine = Engine::default();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut linker = Linker::<()>::new(&engine);
    let s = seen.clone();
    linker
        .root()
        .func_new("log", move |_cx, params, _results| {
            if let Val::U32(x) = params[0] {
                s.lock().unwrap().push(x);
            }
            Ok(())
        })
        .unwrap();
    let (mut store, inst) = instantiate_with(&engine, &linker, wat, ());
    call(&mut store, &inst, "tick-a", &[Val::U32(1)]).unwrap();
    call(&mut store, &inst, "tick-a", &[Val::U32(1)]).unwrap();
    call(&mut store, &inst, "tick-b", &[Val::U32(2)]).unwrap();
    assert_eq!(*seen.lock().unwrap(), vec![101, 102, 201]);
}

#[test]
fn type_export_of_an_exported_instance_is_found_by_name() {
    let wat = r#"(component
      (type $t u32)
      (core module $m (func (export "f") (result i32) i32.const 1))
      (core instance $i (instantiate $m))
      (func $f (result u32) (canon lift (core func $i "f")))
      (instance $api (export "f" (func $f)) (export "t" (type $t)))
      (export "api" (instance $api)))"#;
    let (mut store, inst) = instantiate(wat);
    let api = inst
        .get_export(&mut store, None, "api")
        .expect("`api` exported");
    assert!(inst.get_export(&mut store, Some(&api), "t").is_some());
    assert!(inst.get_export(&mut store, Some(&api), "f").is_some());
    assert!(inst.get_export(&mut store, Some(&api), "g").is_none());
}

#[test]
fn shorter_string_after_a_longer_one_crosses_components_intact() {
    // The adapter reuses one buffer for strings between memories.
    let wat = r#"(component
      (component $C
        (core module $m
          (memory (export "memory") 1)
          (global $heap (mut i32) (i32.const 1024))
          (func (export "realloc") (param i32 i32 i32 i32) (result i32)
            (local $p i32)
            (local.set $p (global.get $heap))
            (global.set $heap (i32.add (global.get $heap) (local.get 3)))
            (local.get $p))
          (func (export "echo") (param i32 i32) (result i32)
            (i32.store (i32.const 8) (local.get 0))
            (i32.store (i32.const 12) (local.get 1))
            (i32.const 8)))
        (core instance $i (instantiate $m))
        (func (export "echo") (param "s" string) (result string)
          (canon lift (core func $i "echo") (memory (core memory $i "memory"))
            (realloc (core func $i "realloc")))))
      (component $D
        (import "echo" (func $echo (param "s" string) (result string)))
        (core module $libc
          (memory (export "memory") 1)
          (data (i32.const 4096) "abcdefghijklmnopqrstuvwxyz")
          (global $heap (mut i32) (i32.const 8192))
          (func (export "realloc") (param i32 i32 i32 i32) (result i32)
            (local $p i32)
            (local.set $p (global.get $heap))
            (global.set $heap (i32.add (global.get $heap) (local.get 3)))
            (local.get $p)))
        (core instance $libc (instantiate $libc))
        (core func $echo' (canon lower (func $echo) (memory (core memory $libc "memory"))
          (realloc (core func $libc "realloc"))))
        (core module $m
          (import "" "echo" (func $echo (param i32 i32 i32)))
          (func (export "run") (param $len i32) (result i32)
            (call $echo (i32.const 4096) (local.get $len) (i32.const 16))
            (i32.const 16)))
        (core instance $i (instantiate $m (with "" (instance (export "echo" (func $echo'))))))
        (func (export "run") (param "len" u32) (result string)
          (canon lift (core func $i "run") (memory (core memory $libc "memory")))))
      (instance $c (instantiate $C))
      (instance $d (instantiate $D (with "echo" (func $c "echo"))))
      (export "run" (func $d "run")))"#;
    let (mut store, inst) = instantiate(wat);
    for (len, want) in [(26, "abcdefghijklmnopqrstuvwxyz"), (3, "abc"), (0, "")] {
        assert_eq!(
            call(&mut store, &inst, "run", &[Val::U32(len)]),
            Ok(Some(Val::String(want.into())))
        );
    }
}
