;; The guest of the `hello` example: a component written by hand in the text
;; format, so the example needs no guest toolchain.
;;
;; Exports:
;;   greet(name: string) -> string   returns "Hello, <name>!"
;;   fail()                          traps (unreachable)
(component
  (core module $guest
    (memory (export "memory") 1)
    ;; Bump allocator: the heap starts above the return area and the prefix.
    (global $next (mut i32) (i32.const 1024))
    (data (i32.const 16) "Hello, ")

    ;; Canonical ABI realloc: (old_ptr, old_size, align, new_size) -> ptr.
    ;; Allocation only (the host never shrinks or grows a block here).
    (func $realloc (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $ptr i32)
      ;; Round up to the alignment.
      (local.set $ptr
        (i32.and
          (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
          (i32.sub (i32.const 0) (local.get 2))))
      (global.set $next (i32.add (local.get $ptr) (local.get 3)))
      ;; Grow memory when the heap passes its end.
      (if (i32.gt_u (global.get $next) (i32.mul (memory.size) (i32.const 65536)))
        (then
          (if (i32.eq
                (memory.grow
                  (i32.add (i32.shr_u (i32.sub (global.get $next)
                                               (i32.mul (memory.size) (i32.const 65536)))
                                      (i32.const 16))
                           (i32.const 1)))
                (i32.const -1))
            (then unreachable))))
      (local.get $ptr))

    ;; greet(ptr, len) -> pointer to the (ptr, len) of the greeting.
    (func (export "greet") (param $name i32) (param $len i32) (result i32)
      (local $out i32)
      (local $total i32)
      (local.set $total (i32.add (local.get $len) (i32.const 8)))
      (local.set $out (call $realloc (i32.const 0) (i32.const 0) (i32.const 1) (local.get $total)))
      (memory.copy (local.get $out) (i32.const 16) (i32.const 7))
      (memory.copy (i32.add (local.get $out) (i32.const 7)) (local.get $name) (local.get $len))
      (i32.store8 (i32.add (i32.add (local.get $out) (i32.const 7)) (local.get $len)) (i32.const 33))
      ;; The return area sits at address 0.
      (i32.store (i32.const 0) (local.get $out))
      (i32.store (i32.const 4) (local.get $total))
      (i32.const 0))

    ;; After the host has read the result, free the whole heap.
    (func (export "cabi_post_greet") (param i32)
      (global.set $next (i32.const 1024)))

    (func (export "fail") unreachable))

  (core instance $i (instantiate $guest))

  (func (export "greet") (param "name" string) (result string)
    (canon lift (core func $i "greet")
      (memory (core memory $i "memory"))
      (realloc (core func $i "realloc"))
      (post-return (core func $i "cabi_post_greet"))))

  (func (export "fail")
    (canon lift (core func $i "fail"))))
