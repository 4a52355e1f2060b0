;; Workloads 2 and 3: the host calls `add(u32, u32) -> u32` and
;; `echo(string) -> string` on one component with one memory and a realloc.
(component
  (core module $M
    (memory (export "mem") 1)
    ;; One scratch area: the host lowers one string per call and lifts the
    ;; result before the next call, so a fixed address is a correct allocator here.
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
    (func (export "add") (param i32 i32) (result i32)
      (i32.add (local.get 0) (local.get 1)))
    ;; Returns its argument: the result (pointer, length) goes to a return area.
    (func (export "echo") (param $ptr i32) (param $len i32) (result i32)
      (i32.store (i32.const 16) (local.get $ptr))
      (i32.store (i32.const 20) (local.get $len))
      (i32.const 16)))
  (core instance $m (instantiate $M))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $m "add")))
  (func (export "echo") (param "s" string) (result string)
    (canon lift (core func $m "echo") (memory (core memory $m "mem")) (realloc (core func $m "realloc")))))
