;; The guest of the `host-resources` example: a component written by hand in
;; the text format, so the example needs no guest toolchain.
;;
;; Imports:
;;   example:kv/store   a key-value `store` resource the host defines:
;;                        constructor(name: string), get(key) -> option<string>,
;;                        set(key, value)
;;   log(msg: string)   a line for the host to print
;; Exports:
;;   remember(key: string, value: string)   sets a key in the guest's store
;;                                          (opened on first use)
;;   recall(key: string) -> option<string>  reads a key from that store
;;   peek(s: borrow<store>, key: string) -> option<string>
;;                                          reads a key from a store the host lends
;;   adopt(s: own<store>)                   makes a host's store the guest's own
;;   close()                                drops the guest's store
(component
  (import "example:kv/store" (instance $kv
    (export "store" (type $store (sub resource)))
    (export "[constructor]store" (func (param "name" string) (result (own $store))))
    (export "[method]store.get"
      (func (param "self" (borrow $store)) (param "key" string) (result (option string))))
    (export "[method]store.set"
      (func (param "self" (borrow $store)) (param "key" string) (param "value" string)))))
  (import "log" (func $log (param "msg" string)))
  (alias export $kv "store" (type $store))
  (alias export $kv "[constructor]store" (func $store-new))
  (alias export $kv "[method]store.get" (func $store-get))
  (alias export $kv "[method]store.set" (func $store-set))

  ;; Memory and allocator first: lowering the imports needs them.
  (core module $Mem
    (memory (export "memory") 1)
    ;; Bump allocator above the data and the return area; it never frees, which
    ;; is enough for a short example.
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $ptr i32)
      (local.set $ptr
        (i32.and
          (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
          (i32.sub (i32.const 0) (local.get 2))))
      (global.set $next (i32.add (local.get $ptr) (local.get 3)))
      (if (i32.gt_u (global.get $next) (i32.mul (memory.size) (i32.const 65536)))
        (then
          (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1))
            (then unreachable))))
      (local.get $ptr)))
  (core instance $m (instantiate $Mem))

  (core func $c-new (canon lower (func $store-new) (memory (core memory $m "memory"))))
  (core func $c-get (canon lower (func $store-get)
    (memory (core memory $m "memory")) (realloc (core func $m "realloc"))))
  (core func $c-set (canon lower (func $store-set) (memory (core memory $m "memory"))))
  (core func $c-drop (canon resource.drop $store))
  (core func $c-log (canon lower (func $log) (memory (core memory $m "memory"))))

  (core module $Guest
    (import "m" "memory" (memory 1))
    (import "kv" "new" (func $new (param i32 i32) (result i32)))
    (import "kv" "get" (func $get (param i32 i32 i32 i32)))
    (import "kv" "set" (func $set (param i32 i32 i32 i32 i32)))
    (import "kv" "drop" (func $drop (param i32)))
    (import "host" "log" (func $log (param i32 i32)))
    ;; The guest's store handle; 0 while it has none.
    (global $store (mut i32) (i32.const 0))
    (data (i32.const 128) "guest-store")
    (data (i32.const 144) "opening a store")
    (data (i32.const 160) "dropping my store")

    (func $ensure
      (if (i32.eqz (global.get $store))
        (then
          (call $log (i32.const 144) (i32.const 15))
          (global.set $store (call $new (i32.const 128) (i32.const 11))))))

    (func $close (export "close")
      (if (global.get $store)
        (then
          (call $log (i32.const 160) (i32.const 17))
          (call $drop (global.get $store))
          (global.set $store (i32.const 0)))))

    (func (export "remember") (param i32 i32 i32 i32)
      (call $ensure)
      (call $set (global.get $store) (local.get 0) (local.get 1) (local.get 2) (local.get 3)))

    ;; option<string> comes back through the return area at 64.
    (func (export "recall") (param i32 i32) (result i32)
      (call $ensure)
      (call $get (global.get $store) (local.get 0) (local.get 1) (i32.const 64))
      (i32.const 64))

    ;; The borrow must be dropped before returning (the Canonical ABI checks).
    (func (export "peek") (param i32 i32 i32) (result i32)
      (call $get (local.get 0) (local.get 1) (local.get 2) (i32.const 64))
      (call $drop (local.get 0))
      (i32.const 64))

    (func (export "adopt") (param i32)
      (call $close)
      (global.set $store (local.get 0))))

  (core instance $g (instantiate $Guest
    (with "m" (instance $m))
    (with "kv" (instance
      (export "new" (func $c-new))
      (export "get" (func $c-get))
      (export "set" (func $c-set))
      (export "drop" (func $c-drop))))
    (with "host" (instance (export "log" (func $c-log))))))

  (func (export "remember") (param "key" string) (param "value" string)
    (canon lift (core func $g "remember")
      (memory (core memory $m "memory")) (realloc (core func $m "realloc"))))
  (func (export "recall") (param "key" string) (result (option string))
    (canon lift (core func $g "recall")
      (memory (core memory $m "memory")) (realloc (core func $m "realloc"))))
  (func (export "peek") (param "s" (borrow $store)) (param "key" string) (result (option string))
    (canon lift (core func $g "peek")
      (memory (core memory $m "memory")) (realloc (core func $m "realloc"))))
  (func (export "adopt") (param "s" (own $store))
    (canon lift (core func $g "adopt")))
  (func (export "close")
    (canon lift (core func $g "close"))))
