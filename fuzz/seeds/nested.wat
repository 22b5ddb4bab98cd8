;; A nested component instantiated twice, wired to each other.
(component
  (import "base" (func $base (param "x" u32) (result u32)))
  (component $C
    (import "f" (func $f (param "x" u32) (result u32)))
    (core func $f' (canon lower (func $f)))
    (core module $m
      (import "" "f" (func $f (param i32) (result i32)))
      (func (export "g") (param i32) (result i32) (i32.mul (call $f (local.get 0)) (i32.const 3))))
    (core instance $i (instantiate $m (with "" (instance (export "f" (func $f'))))))
    (func (export "g") (param "x" u32) (result u32) (canon lift (core func $i "g"))))
  (instance $a (instantiate $C (with "f" (func $base))))
  (instance $b (instantiate $C (with "f" (func $a "g"))))
  (export "g" (func $b "g"))
)
