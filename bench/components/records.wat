;; Workload 4, lists: component A calls component B's
;; `echo(list<record>) -> list<record>` with 100 small records, through one adapter.
(component
  (component $B
    (type $point-def (record (field "id" u32) (field "score" f32) (field "flag" bool)))
    (export $point "point" (type $point-def))
    (core module $BM
      (memory (export "mem") 1)
      (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
      (func (export "echo") (param $ptr i32) (param $len i32) (result i32)
        (i32.store (i32.const 16) (local.get $ptr))
        (i32.store (i32.const 20) (local.get $len))
        (i32.const 16)))
    (core instance $bm (instantiate $BM))
    (func (export "echo") (param "points" (list $point)) (result (list $point))
      (canon lift (core func $bm "echo") (memory (core memory $bm "mem")) (realloc (core func $bm "realloc")))))
  (component $A
    (type $point-def (record (field "id" u32) (field "score" f32) (field "flag" bool)))
    (import "point" (type $point (eq $point-def)))
    (import "echo" (func $echo (param "points" (list $point)) (result (list $point))))
    (core module $AMem
      (memory (export "mem") 1)
      (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024)))
    (core instance $amem (instantiate $AMem))
    (core func $echo-lowered (canon lower (func $echo) (memory (core memory $amem "mem")) (realloc (core func $amem "realloc"))))
    (core module $AM
      (import "env" "mem" (memory 1))
      (import "env" "echo" (func $echo (param i32 i32 i32)))
      ;; Builds 100 records (12 bytes each) at 8192, then calls echo `n` times
      ;; with them; returns the sum of the returned lengths.
      (func (export "run") (param $n i32) (result i32)
        (local $sum i32) (local $i i32)
        (block $built
          (loop $fill
            (br_if $built (i32.eq (local.get $i) (i32.const 100)))
            (i32.store (i32.add (i32.const 8192) (i32.mul (local.get $i) (i32.const 12))) (local.get $i))
            (f32.store (i32.add (i32.const 8196) (i32.mul (local.get $i) (i32.const 12))) (f32.convert_i32_u (local.get $i)))
            (i32.store8 (i32.add (i32.const 8200) (i32.mul (local.get $i) (i32.const 12))) (i32.and (local.get $i) (i32.const 1)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $fill)))
        (block $done
          (loop $next
            (br_if $done (i32.eqz (local.get $n)))
            (call $echo (i32.const 8192) (i32.const 100) (i32.const 32))
            (local.set $sum (i32.add (local.get $sum) (i32.load (i32.const 36))))
            (local.set $n (i32.sub (local.get $n) (i32.const 1)))
            (br $next)))
        (local.get $sum)))
    (core instance $am (instantiate $AM
      (with "env" (instance
        (export "mem" (memory $amem "mem"))
        (export "echo" (func $echo-lowered))))))
    (func (export "run") (param "n" u32) (result u32)
      (canon lift (core func $am "run"))))
  (instance $b (instantiate $B))
  (instance $a (instantiate $A (with "point" (type $b "point")) (with "echo" (func $b "echo"))))
  (export "run" (func $a "run")))
