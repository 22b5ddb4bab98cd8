;; The wasmi-only baseline: the same guest as component.wat in one core
;; module (build.rs expands the ;;@include lines). The host marshals by hand:
;; it copies samples in through `realloc`, reads the 12-byte result at the
;; returned pointer, then calls `reset`, as componentry does with the
;; component's canonical options.
(module
  (import "host" "log" (func $log (param i32 i32)))
  (import "host" "read-sensor" (func $read_sensor (param i32) (result f32)))
  ;;@include libc.wat
  ;;@include guest.wat
  (export "memory" (memory $memory))
  (export "realloc" (func $realloc))
  (export "reset" (func $reset))
  (export "summarize" (func $summarize))
  (export "sample-and-summarize" (func $sample_and_summarize)))
