;; The `count` plug of the pipeline example: exports `rivet:pipeline/stats`.
;; `total` sums the counts of a list of records that a fused adapter copied
;; into this component's memory; `judge` returns a variant and logs through
;; `rivet:pipeline/log`, the same host import the socket uses.
(component
  (import "rivet:pipeline/log" (instance $log (export "log" (func (param "line" string)))))
  (core module $mem
    (memory (export "mem") 1)
    (data (i32.const 32) "count: judging"))
  (core instance $mem (instantiate $mem))
  (alias export $log "log" (func $log))
  (core func $log (canon lower (func $log) (memory (core memory $mem "mem"))))
  (core module $m
    (import "env" "mem" (memory 1))
    (import "env" "log" (func $log (param i32 i32)))
    ;; Bump allocator above the return area (0..16) and the message (32..46).
    (global $next (mut i32) (i32.const 64))
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
    ;; Each `word-count` is 12 bytes: the word (pointer, length), then the count.
    (func (export "total") (param $ptr i32) (param $len i32) (result i32)
      (local $i i32) (local $sum i32)
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
          (local.set $sum
            (i32.add (local.get $sum)
              (i32.load offset=8 (i32.add (local.get $ptr) (i32.mul (local.get $i) (i32.const 12))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      ;; The arguments are consumed: free them all.
      (global.set $next (i32.const 64))
      (local.get $sum))
    ;; `verdict`: case index byte at 0, payload at 4; empty, short (< 5), long.
    (func (export "judge") (param $total i32) (result i32)
      (call $log (i32.const 32) (i32.const 14))
      (i32.store (i32.const 4) (local.get $total))
      (i32.store8 (i32.const 0)
        (if (result i32) (i32.eqz (local.get $total))
          (then (i32.const 0))
          (else (select (i32.const 1) (i32.const 2) (i32.lt_u (local.get $total) (i32.const 5))))))
      (i32.const 0)))
  (core instance $env (export "mem" (memory $mem "mem")) (export "log" (func $log)))
  (core instance $i (instantiate $m (with "env" (instance $env))))
  (type $word-count (record (field "word" string) (field "count" u32)))
  (type $verdict (variant (case "empty") (case "short" u32) (case "long" u32)))
  (func $total (param "counts" (list $word-count)) (result u32)
    (canon lift (core func $i "total") (memory (core memory $mem "mem"))
      (realloc (core func $i "realloc"))))
  (func $judge (param "total" u32) (result $verdict)
    (canon lift (core func $i "judge") (memory (core memory $mem "mem"))))
  (instance $stats
    (export "word-count" (type $word-count))
    (export "verdict" (type $verdict))
    (export "total" (func $total))
    (export "judge" (func $judge)))
  (export "rivet:pipeline/stats" (instance $stats)))
