;; Memory-heavy kernel: fill `len` bytes with a linear congruential sequence, then
;; fold them with an FNV-1a style hash, reading 8 bytes at a time.
(module
  (memory (export "memory") 17)
  (func (export "checksum") (param $len i32) (param $seed i32) (result i64)
    (local $i i32) (local $x i32) (local $h i64)
    ;; fill
    (local.set $x (local.get $seed))
    (block $done
      (loop $fill
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $x (i32.add (i32.mul (local.get $x) (i32.const 1664525)) (i32.const 1013904223)))
        (i32.store (local.get $i) (local.get $x))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $fill)))
    ;; hash
    (local.set $h (i64.const 0xcbf29ce484222325))
    (local.set $i (i32.const 0))
    (block $end
      (loop $fold
        (br_if $end (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $h
          (i64.mul
            (i64.xor (local.get $h) (i64.load (local.get $i)))
            (i64.const 0x100000001b3)))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $fold)))
    (local.get $h)))
