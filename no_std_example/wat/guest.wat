  ;; guest.wat: the guest's work, shared by component.wat and core.wat.
  ;; Included by build.rs into a module that has in scope: memory 0,
  ;; $realloc, $log (param ptr len) and $read_sensor (param channel) (result f32).

  (data (i32.const 64) "sample-and-summarize: start")
  (data (i32.const 128) "sample-and-summarize: done")

  ;; summarize(ptr, len): min, max and mean of the `len` f32s at `ptr`,
  ;; written as three f32s to the return area at 16, whose address it returns.
  ;; An empty list gives all zeros.
  (func $summarize (param $ptr i32) (param $len i32) (result i32)
    (local $i i32)
    (local $x f32)
    (local $min f32)
    (local $max f32)
    (local $sum f32)
    (if (i32.eqz (local.get $len))
      (then
        (f32.store (i32.const 16) (f32.const 0))
        (f32.store (i32.const 20) (f32.const 0))
        (f32.store (i32.const 24) (f32.const 0))
        (return (i32.const 16))))
    (local.set $min (f32.load (local.get $ptr)))
    (local.set $max (local.get $min))
    (loop $next
      (local.set $x
        (f32.load (i32.add (local.get $ptr) (i32.shl (local.get $i) (i32.const 2)))))
      (local.set $min (f32.min (local.get $min) (local.get $x)))
      (local.set $max (f32.max (local.get $max) (local.get $x)))
      (local.set $sum (f32.add (local.get $sum) (local.get $x)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (local.get $len))))
    (f32.store (i32.const 16) (local.get $min))
    (f32.store (i32.const 20) (local.get $max))
    (f32.store (i32.const 24)
      (f32.div (local.get $sum) (f32.convert_i32_u (local.get $len))))
    (i32.const 16))

  ;; sample_and_summarize(channel, n): logs, reads `n` samples of `channel`
  ;; through the host's read-sensor into a buffer from $realloc, logs again,
  ;; and summarizes them.
  (func $sample_and_summarize (param $channel i32) (param $n i32) (result i32)
    (local $buf i32)
    (local $i i32)
    (call $log (i32.const 64) (i32.const 27))
    (local.set $buf
      (call $realloc (i32.const 0) (i32.const 0) (i32.const 4)
        (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (f32.store
          (i32.add (local.get $buf) (i32.shl (local.get $i) (i32.const 2)))
          (call $read_sensor (local.get $channel)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (call $log (i32.const 128) (i32.const 26))
    (call $summarize (local.get $buf) (local.get $n)))
