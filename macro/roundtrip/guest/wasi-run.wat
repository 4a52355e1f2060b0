;; A hand-written WASI 0.2.0 command that also imports an interface of the
;; host's own. `run` writes "run\n" to stdout, then does what the host's
;; `test:host/mode.pick` answers: 0 returns ok, 1 returns err, 2 calls
;; exit-with-code(7), 3 traps. It never drops its stdout stream.
(component
  (import "test:host/mode" (instance $mode
    (export "pick" (func (result u8)))))
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

  ;; The imports that need no memory are lowered first; the write, which
  ;; needs the module's memory, goes through a table filled afterwards.
  (core func $pick (canon lower (func $mode "pick")))
  (core func $get (canon lower (func $stdout "get-stdout")))
  (core func $exit (canon lower (func $exit "exit-with-code")))
  (core module $shim
    (table (export "t") 1 funcref)
    (func (export "write") (param i32 i32 i32 i32)
      (call_indirect (param i32 i32 i32 i32)
        (local.get 0) (local.get 1) (local.get 2) (local.get 3) (i32.const 0))))
  (core instance $shim (instantiate $shim))
  (core module $m
    (import "host" "pick" (func $pick (result i32)))
    (import "host" "get-stdout" (func $get (result i32)))
    (import "host" "exit" (func $exit (param i32)))
    (import "shim" "write" (func $write (param i32 i32 i32 i32)))
    (memory (export "mem") 1)
    (data (i32.const 16) "run\n")
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
    (func (export "run") (result i32) (local $mode i32)
      (call $write (call $get) (i32.const 16) (i32.const 4) (i32.const 64))
      (local.set $mode (call $pick))
      (if (i32.eq (local.get $mode) (i32.const 2)) (then (call $exit (i32.const 7))))
      (if (i32.eq (local.get $mode) (i32.const 3)) (then unreachable))
      ;; The discriminant of `result`: 0 is ok, 1 is err.
      (local.get $mode)))
  (core instance $main (instantiate $m
    (with "host" (instance
      (export "pick" (func $pick))
      (export "get-stdout" (func $get))
      (export "exit" (func $exit))))
    (with "shim" (instance $shim))))
  (alias core export $main "mem" (core memory $mem))
  (alias core export $main "realloc" (core func $realloc))
  (core func $write (canon lower (func $streams "[method]output-stream.blocking-write-and-flush")
    (memory $mem) (realloc $realloc)))
  (core module $fill
    (import "" "t" (table 1 funcref))
    (import "" "write" (func $write (param i32 i32 i32 i32)))
    (elem (i32.const 0) func $write))
  (core instance (instantiate $fill (with "" (instance
    (export "t" (table $shim "t"))
    (export "write" (func $write))))))
  (func $run (result (result)) (canon lift (core func $main "run")))
  (instance $run-inst (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $run-inst)))
