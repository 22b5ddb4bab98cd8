;; Imports a resource type and functions over it, passes handles through.
(component
  (import "res" (type $res (sub resource)))
  (import "mk" (func $mk (param "x" u32) (result (own $res))))
  (import "use" (func $use (param "h" (borrow $res)) (result u32)))
  (core func $mk-lower (canon lower (func $mk)))
  (core func $use-lower (canon lower (func $use)))
  (core func $drop (canon resource.drop $res))
  (core module $m
    (import "h" "mk" (func $mk (param i32) (result i32)))
    (import "h" "use" (func $use (param i32) (result i32)))
    (import "h" "drop" (func $drop (param i32)))
    (func (export "run") (param i32) (result i32)
      (local $h i32) (local $v i32)
      (local.set $h (call $mk (local.get 0)))
      (local.set $v (call $use (local.get $h)))
      (call $drop (local.get $h))
      (local.get $v)))
  (core instance $i (instantiate $m
    (with "h" (instance (export "mk" (func $mk-lower)) (export "use" (func $use-lower)) (export "drop" (func $drop))))))
  (func (export "run") (param "x" u32) (result u32) (canon lift (core func $i "run")))
)
