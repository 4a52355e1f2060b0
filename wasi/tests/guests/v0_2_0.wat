;; A hand-written WASI command importing version 0.2.0: it writes a line to
;; stdout with blocking-write-and-flush, then does what its one byte of
;; `mode` memory (set by the export `set-mode`) says: 0 returns ok, 1 calls
;; exit-with-code(7), 2 writes more than blocking-write-and-flush allows
;; (a trap).
(component
  (import "wasi:io/error@0.2.0" (instance $error
    (export "error" (type (sub resource)))))
  (alias export $error "error" (type $error-t))
  (import "wasi:io/streams@0.2.0" (instance $streams
    (alias outer 1 $error-t (type $e))
    (export "error" (type $err (eq $e)))
    (export "output-stream" (type $os (sub resource)))
    (type $se (variant (case "last-operation-failed" (own $err)) (case "closed")))
    (export "stream-error" (type $stream-error (eq $se)))
    (export "[method]output-stream.blocking-write-and-flush"
      (func (param "self" (borrow $os)) (param "contents" (list u8))
            (result (result (error $stream-error)))))))
  (alias export $streams "output-stream" (type $os-t))
  (import "wasi:cli/stdout@0.2.0" (instance $stdout
    (alias outer 1 $os-t (type $o))
    (export "output-stream" (type $os (eq $o)))
    (export "get-stdout" (func (result (own $os))))))
  (import "wasi:cli/exit@0.2.0" (instance $exit
    (export "exit-with-code" (func (param "status-code" u8)))))

  (core module $m
    (import "host" "get-stdout" (func $get (result i32)))
    (import "host" "write" (func $write (param i32 i32 i32 i32)))
    (import "host" "exit" (func $exit (param i32)))
    (memory (export "mem") 1)
    (data (i32.const 16) "hi from 0.2.0\n")
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
    (func (export "run") (result i32) (local $out i32)
      (local.set $out (call $get))
      (call $write (local.get $out) (i32.const 16) (i32.const 14) (i32.const 64))
      (if (i32.eq (i32.load8_u (i32.const 0)) (i32.const 1))
        (then (call $exit (i32.const 7))))
      (if (i32.eq (i32.load8_u (i32.const 0)) (i32.const 2))
        (then (call $write (local.get $out) (i32.const 0) (i32.const 5000) (i32.const 64))))
      (i32.const 0))
    (func (export "set-mode") (param i32)
      (i32.store8 (i32.const 0) (local.get 0))))
  (core module $shim
    (table (export "t") 3 funcref)
    (func (export "get-stdout") (result i32) (call_indirect (result i32) (i32.const 0)))
    (func (export "write") (param i32 i32 i32 i32)
      (call_indirect (param i32 i32 i32 i32) (local.get 0) (local.get 1) (local.get 2) (local.get 3) (i32.const 1)))
    (func (export "exit") (param i32) (call_indirect (param i32) (local.get 0) (i32.const 2))))
  (core instance $shim (instantiate $shim))
  (core instance $main (instantiate $m (with "host" (instance $shim))))
  (alias core export $main "mem" (core memory $mem))
  (alias core export $main "realloc" (core func $realloc))
  (core func $get (canon lower (func $stdout "get-stdout")))
  (core func $write (canon lower (func $streams "[method]output-stream.blocking-write-and-flush")
    (memory $mem) (realloc $realloc)))
  (core func $exit (canon lower (func $exit "exit-with-code")))
  (core module $fill
    (import "" "t" (table 3 funcref))
    (import "" "get" (func $get (result i32)))
    (import "" "write" (func $write (param i32 i32 i32 i32)))
    (import "" "exit" (func $exit (param i32)))
    (elem (i32.const 0) func $get $write $exit))
  (core instance (instantiate $fill (with "" (instance
    (export "t" (table $shim "t"))
    (export "get" (func $get))
    (export "write" (func $write))
    (export "exit" (func $exit))))))
  (func $run (result (result)) (canon lift (core func $main "run")))
  (func $set-mode (param "mode" u8) (canon lift (core func $main "set-mode")))
  (instance $run-inst (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $run-inst))
  (export "set-mode" (func $set-mode)))
