  ;; libc.wat: the guest's memory and allocator, shared by component.wat (in
  ;; its own core module) and core.wat (inline). Included by build.rs.

  ;; One 64 KiB page of linear memory. Layout: the 12-byte return area at 16,
  ;; constant strings at 64..256, the bump heap from 1024 up.
  (memory $memory 1)
  (global $heap (mut i32) (i32.const 1024))

  ;; A bump allocator with the canonical ABI's realloc signature. Traps when
  ;; the page is full; a real realloc (old_ptr != 0) copies the old bytes.
  (func $realloc (param $old_ptr i32) (param $old_size i32) (param $align i32) (param $new_size i32) (result i32)
    (local $ptr i32)
    (local $end i32)
    (local.set $ptr
      (i32.and
        (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
    (local.set $end (i32.add (local.get $ptr) (local.get $new_size)))
    (if (i32.or
          (i32.lt_u (local.get $end) (local.get $ptr))
          (i32.gt_u (local.get $end) (i32.shl (memory.size) (i32.const 16))))
      (then unreachable))
    (if (local.get $old_ptr)
      (then
        (memory.copy (local.get $ptr) (local.get $old_ptr)
          (select (local.get $old_size) (local.get $new_size)
            (i32.lt_u (local.get $old_size) (local.get $new_size))))))
    (global.set $heap (local.get $end))
    (local.get $ptr))

  ;; Frees everything the last call allocated (the component's post-return;
  ;; the wasmi-only host calls it after reading the results).
  (func $reset (param $ret i32)
    (global.set $heap (i32.const 1024)))
