;; The firmware's component (build.rs expands the ;;@include lines).
;;
;;   import log: func(msg: string)
;;   import read-sensor: func(channel: u8) -> f32
;;   export summary: record { min: f32, max: f32, mean: f32 }
;;   export summarize: func(samples: list<f32>) -> summary
;;   export sample-and-summarize: func(channel: u8, n: u32) -> summary
;;
;; The record is 3 flat f32s, more than MAX_FLAT_RESULTS = 1, so it is
;; spilled: the core functions return a pointer to a 12-byte return area.
(component
  (import "log" (func $log (param "msg" string)))
  (import "read-sensor" (func $read-sensor (param "channel" u8) (result f32)))

  (core module $Libc
    ;;@include libc.wat
    (export "memory" (memory $memory))
    (export "realloc" (func $realloc))
    (export "reset" (func $reset)))
  (core instance $libc (instantiate $Libc))

  (core func $log
    (canon lower (func $log) (memory (core memory $libc "memory"))))
  (core func $read-sensor
    (canon lower (func $read-sensor)))

  (core module $Main
    (import "libc" "memory" (memory 1))
    (import "libc" "realloc" (func $realloc (param i32 i32 i32 i32) (result i32)))
    (import "host" "log" (func $log (param i32 i32)))
    (import "host" "read-sensor" (func $read_sensor (param i32) (result f32)))
    ;;@include guest.wat
    (export "summarize" (func $summarize))
    (export "sample-and-summarize" (func $sample_and_summarize)))
  (core instance $main (instantiate $Main
    (with "libc" (instance $libc))
    (with "host" (instance
      (export "log" (func $log))
      (export "read-sensor" (func $read-sensor))))))

  (type $summary (record (field "min" f32) (field "max" f32) (field "mean" f32)))
  (export $summary-t "summary" (type $summary))

  (func (export "summarize") (param "samples" (list f32)) (result $summary-t)
    (canon lift (core func $main "summarize")
      (memory (core memory $libc "memory"))
      (realloc (core func $libc "realloc"))
      (post-return (core func $libc "reset"))))
  (func (export "sample-and-summarize") (param "channel" u8) (param "n" u32) (result $summary-t)
    (canon lift (core func $main "sample-and-summarize")
      (memory (core memory $libc "memory"))
      (realloc (core func $libc "realloc"))
      (post-return (core func $libc "reset"))))
)
