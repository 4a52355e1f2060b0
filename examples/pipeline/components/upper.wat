;; The `upper` plug of the pipeline example: exports `rivet:pipeline/text`,
;; whose `upper` upper-cases ASCII letters. The string arrives in this
;; component's memory through a fused adapter (allocated with `realloc`), is
;; changed in place and returned; `post-return` frees everything at once.
(component
  (core module $m
    (memory (export "mem") 1)
    ;; Bump allocator above the 16-byte return area.
    (global $next (mut i32) (i32.const 16))
    (func (export "realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
      (local $p i32)
      (local.set $p
        (i32.and
          (i32.add (global.get $next) (i32.sub (local.get $align) (i32.const 1)))
          (i32.sub (i32.const 0) (local.get $align))))
      (global.set $next (i32.add (local.get $p) (local.get $size)))
      (block $fits
        (br_if $fits (i32.le_u (global.get $next) (i32.mul (memory.size) (i32.const 65536))))
        (br_if $fits
          (i32.ne
            (memory.grow (i32.add (i32.shr_u (global.get $next) (i32.const 16)) (i32.const 1)))
            (i32.const -1)))
        unreachable)
      (local.get $p))
    (func (export "upper") (param $ptr i32) (param $len i32) (result i32)
      (local $i i32) (local $c i32)
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
          (local.set $c (i32.load8_u (i32.add (local.get $ptr) (local.get $i))))
          (if (i32.and (i32.ge_u (local.get $c) (i32.const 97)) (i32.le_u (local.get $c) (i32.const 122)))
            (then (i32.store8 (i32.add (local.get $ptr) (local.get $i)) (i32.sub (local.get $c) (i32.const 32)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (i32.store (i32.const 0) (local.get $ptr))
      (i32.store (i32.const 4) (local.get $len))
      (i32.const 0))
    (func (export "free") (param i32)
      (global.set $next (i32.const 16))))
  (core instance $i (instantiate $m))
  (func $upper (param "s" string) (result string)
    (canon lift (core func $i "upper") (memory (core memory $i "mem"))
      (realloc (core func $i "realloc")) (post-return (core func $i "free"))))
  (instance $text (export "upper" (func $upper)))
  (export "rivet:pipeline/text" (instance $text)))
