;; `echo(string) -> string` in `$C`; `$D` imports it and exports
;; `run(len: u32, n: u32)`, which calls it `n` times with a `len`-byte string
;; of its own memory; the root exports both. Used by benches/composition.rs
;; and benches/boundary.rs (the component-to-component row).
(component
  (component $C
    (core module $m
      (memory (export "memory") 1)
      (global $heap (mut i32) (i32.const 1024))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $p i32)
        ;; A bump allocator that starts over when the page is half used.
        (if (i32.gt_u (global.get $heap) (i32.const 32768)) (then (global.set $heap (i32.const 1024))))
        (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                               (i32.sub (i32.const 0) (local.get 2))))
        (global.set $heap (i32.add (local.get $p) (local.get 3)))
        (local.get $p))
      (func (export "echo") (param i32 i32) (result i32)
        (i32.store (i32.const 8) (local.get 0))
        (i32.store (i32.const 12) (local.get 1))
        (i32.const 8)))
    (core instance $i (instantiate $m))
    (func (export "echo") (param "s" string) (result string)
      (canon lift (core func $i "echo") (memory (core memory $i "memory")) (realloc (core func $i "realloc")))))
  (component $D
    (import "echo" (func $echo (param "s" string) (result string)))
    (core module $libc
      (memory (export "memory") 1)
      (global $heap (mut i32) (i32.const 8192))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $p i32)
        (if (i32.gt_u (global.get $heap) (i32.const 40000)) (then (global.set $heap (i32.const 8192))))
        (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                               (i32.sub (i32.const 0) (local.get 2))))
        (global.set $heap (i32.add (local.get $p) (local.get 3)))
        (local.get $p)))
    (core instance $libc (instantiate $libc))
    (core func $echo' (canon lower (func $echo) (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
    (core module $m
      (import "libc" "memory" (memory 1))
      (import "" "echo" (func $echo (param i32 i32 i32)))
      (func (export "run") (param $len i32) (param $n i32)
        (block $done (loop $l
          (br_if $done (i32.eqz (local.get $n)))
          (call $echo (i32.const 4096) (local.get $len) (i32.const 16))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $l)))))
    (core instance $i (instantiate $m (with "libc" (instance $libc)) (with "" (instance (export "echo" (func $echo'))))))
    (func (export "run") (param "len" u32) (param "n" u32) (canon lift (core func $i "run"))))
  (instance $c (instantiate $C))
  (instance $d (instantiate $D (with "echo" (func $c "echo"))))
  (export "echo" (func $c "echo"))
  (export "run" (func $d "run")))
