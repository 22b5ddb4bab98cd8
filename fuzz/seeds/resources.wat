;; Defines a resource, exports a constructor, a method on a borrow and a consumer.
(component
  (type $r (resource (rep i32)))
  (core func $new (canon resource.new $r))
  (core func $rep (canon resource.rep $r))
  (core func $drop (canon resource.drop $r))
  (core module $m
    (import "r" "new" (func $new (param i32) (result i32)))
    (import "r" "rep" (func $rep (param i32) (result i32)))
    (import "r" "drop" (func $drop (param i32)))
    (func (export "make") (param i32) (result i32) (call $new (local.get 0)))
    (func (export "get") (param i32) (result i32) (call $rep (local.get 0)))
    (func (export "consume") (param i32) (result i32)
      (local $v i32)
      (local.set $v (call $rep (local.get 0)))
      (call $drop (local.get 0))
      (local.get $v)))
  (core instance $i (instantiate $m
    (with "r" (instance (export "new" (func $new)) (export "rep" (func $rep)) (export "drop" (func $drop))))))
  (export $r' "r" (type $r))
  (func (export "make") (param "v" u32) (result (own $r')) (canon lift (core func $i "make")))
  (func (export "get") (param "h" (borrow $r')) (result u32) (canon lift (core func $i "get")))
  (func (export "consume") (param "h" (own $r')) (result u32) (canon lift (core func $i "consume")))
)
