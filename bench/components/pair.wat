;; Workloads 1 and 4: component A calls component B's `echo(string) -> string`
;; through one adapter. Each owns a memory and a realloc.
(component
  (component $B
    (core module $BM
      (memory (export "mem") 2)
      ;; The adapter copies each argument here; B returns it in place.
      (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
      (func (export "echo") (param $ptr i32) (param $len i32) (result i32)
        (i32.store (i32.const 16) (local.get $ptr))
        (i32.store (i32.const 20) (local.get $len))
        (i32.const 16)))
    (core instance $bm (instantiate $BM))
    (func (export "echo") (param "s" string) (result string)
      (canon lift (core func $bm "echo") (memory (core memory $bm "mem")) (realloc (core func $bm "realloc")))))
  (component $A
    (import "echo" (func $echo (param "s" string) (result string)))
    ;; Memory and realloc come first so the lowered `echo` can use them.
    (core module $AMem
      (memory (export "mem") 3)
      ;; Each returned string lands here and is dropped before the next call.
      (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024)))
    (core instance $amem (instantiate $AMem))
    (core func $echo-lowered (canon lower (func $echo) (memory (core memory $amem "mem")) (realloc (core func $amem "realloc"))))
    (core module $AM
      (import "env" "mem" (memory 3))
      (import "env" "echo" (func $echo (param i32 i32 i32)))
      ;; Calls echo `n` times with a `len`-byte string of 'a's at 69632 (past
      ;; the 64 KiB result area); returns the sum of the returned lengths.
      (func (export "run") (param $n i32) (param $len i32) (result i32)
        (local $sum i32)
        (memory.fill (i32.const 69632) (i32.const 97) (local.get $len))
        (block $done
          (loop $next
            (br_if $done (i32.eqz (local.get $n)))
            (call $echo (i32.const 69632) (local.get $len) (i32.const 32))
            (local.set $sum (i32.add (local.get $sum) (i32.load (i32.const 36))))
            (local.set $n (i32.sub (local.get $n) (i32.const 1)))
            (br $next)))
        (local.get $sum)))
    (core instance $am (instantiate $AM
      (with "env" (instance
        (export "mem" (memory $amem "mem"))
        (export "echo" (func $echo-lowered))))))
    (func (export "run") (param "n" u32) (param "len" u32) (result u32)
      (canon lift (core func $am "run"))))
  (instance $b (instantiate $B))
  (instance $a (instantiate $A (with "echo" (func $b "echo"))))
  (export "run" (func $a "run")))
