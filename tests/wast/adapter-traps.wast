;; Every kind of trap a fused adapter raises, each from a pair of components whose
;; caller hands its callee a bad value (or whose `realloc` answers badly). Run by
;; tests/tests/components.rs in every mode: each must reach the host as the trap the
;; Canonical ABI names, with its message.

;; string contents beyond the source memory
(component
  (component $C
    (core module $CM
      (memory (export "mem") 1)
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (i32.const 16))
      (func (export "f") (param i32 i32)))
    (core instance $cm (instantiate $CM))
    (func (export "f") (param "a" string)
      (canon lift (core func $cm "f") (memory (core memory $cm "mem")) (realloc (core func $cm "realloc")) string-encoding=latin1+utf16)))
  (component $D
    (import "f" (func $f' (param "a" string)))
    (core module $DM
      (memory (export "mem") 1)
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (i32.const 16)))
    (core instance $dm (instantiate $DM))
    (core func $f (canon lower (func $f') (memory (core memory $dm "mem")) string-encoding=utf16))
    (core module $Run
      (import "" "f" (func $f (param i32 i32)))
      (func (export "run") (call $f (i32.const 65530) (i32.const 100))))
    (core instance $run (instantiate $Run (with "" (instance (export "f" (func $f))))))
    (func (export "run") (canon lift (core func $run "run"))))
  (instance $c (instantiate $C))
  (instance $d (instantiate $D (with "f" (func $c "f"))))
  (export "run" (func $d "run")))
(assert_trap (invoke "run") "string content out-of-bounds")

;; a string longer than MAX_STRING_BYTE_LENGTH
(component
  (component $C
    (core module $CM
      (memory (export "mem") 1)
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (i32.const 16))
      (func (export "f") (param i32 i32)))
    (core instance $cm (instantiate $CM))
    (func (export "f") (param "a" string)
      (canon lift (core func $cm "f") (memory (core memory $cm "mem")) (realloc (core func $cm "realloc")))))
  (component $D
    (import "f" (func $f' (param "a" string)))
    (core module $DM
      (memory (export "mem") 1)
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (i32.const 16)))
    (core instance $dm (instantiate $DM))
    (core func $f (canon lower (func $f') (memory (core memory $dm "mem"))))
    (core module $Run
      (import "" "f" (func $f (param i32 i32)))
      (func (export "run") (call $f (i32.const 0) (i32.const 268435456))))
    (core instance $run (instantiate $Run (with "" (instance (export "f" (func $f))))))
    (func (export "run") (canon lift (core func $run "run"))))
  (instance $c (instantiate $C))
  (instance $d (instantiate $D (with "f" (func $c "f"))))
  (export "run" (func $d "run")))
(assert_trap (invoke "run") "string too long")

;; a UTF-16 string at an odd address
(component
  (component $C
    (core module $CM
      (memory (export "mem") 1)
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (i32.const 16))
      (func (export "f") (param i32 i32)))
    (core instance $cm (instantiate $CM))
    (func (export "f") (param "a" string)
      (canon lift (core func $cm "f") (memory (core memory $cm "mem")) (realloc (core func $cm "realloc")))))
  (component $D
    (import "f" (func $f' (param "a" string)))
    (core module $DM
      (memory (export "mem") 1)
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (i32.const 16)))
    (core instance $dm (instantiate $DM))
    (core func $f (canon lower (func $f') (memory (core memory $dm "mem")) string-encoding=utf16))
    (core module $Run
      (import "" "f" (func $f (param i32 i32)))
      (func (export "run") (call $f (i32.const 1) (i32.const 1))))
    (core instance $run (instantiate $Run (with "" (instance (export "f" (func $f))))))
    (func (export "run") (canon lift (core func $run "run"))))
  (instance $c (instantiate $C))
  (instance $d (instantiate $D (with "f" (func $c "f"))))
  (export "run" (func $d "run")))
(assert_trap (invoke "run") "unaligned pointer")

;; invalid UTF-8
(component
  (component $C
    (core module $CM
      (memory (export "mem") 1)
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (i32.const 16))
      (func (export "f") (param i32 i32)))
    (core instance $cm (instantiate $CM))
    (func (export "f") (param "a" string)
      (canon lift (core func $cm "f") (memory (core memory $cm "mem")) (realloc (core func $cm "realloc")) string-encoding=utf16)))
  (component $D
    (import "f" (func $f' (param "a" string)))
    (core module $DM
      (memory (export "mem") 1) (data (i32.const 0) "\c0\80")
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (i32.const 16)))
    (core instance $dm (instantiate $DM))
    (core func $f (canon lower (func $f') (memory (core memory $dm "mem"))))
    (core module $Run
      (import "" "f" (func $f (param i32 i32)))
      (func (export "run") (call $f (i32.const 0) (i32.const 2))))
    (core instance $run (instantiate $Run (with "" (instance (export "f" (func $f))))))
    (func (export "run") (canon lift (core func $run "run"))))
  (instance $c (instantiate $C))
  (instance $d (instantiate $D (with "f" (func $c "f"))))
  (export "run" (func $d "run")))
(assert_trap (invoke "run") "invalid utf-8")

;; an unpaired UTF-16 surrogate
(component
  (component $C
    (core module $CM
      (memory (export "mem") 1)
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (i32.const 16))
      (func (export "f") (param i32 i32)))
    (core instance $cm (instantiate $CM))
    (func (export "f") (param "a" string)
      (canon lift (core func $cm "f") (memory (core memory $cm "mem")) (realloc (core func $cm "realloc")))))
  (component $D
    (import "f" (func $f' (param "a" string)))
    (core module $DM
      (memory (export "mem") 1) (data (i32.const 0) "\00\d8")
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (i32.const 16)))
    (core instance $dm (instantiate $DM))
    (core func $f (canon lower (func $f') (memory (core memory $dm "mem")) string-encoding=utf16))
    (core module $Run
      (import "" "f" (func $f (param i32 i32)))
      (func (export "run") (call $f (i32.const 0) (i32.const 1))))
    (core instance $run (instantiate $Run (with "" (instance (export "f" (func $f))))))
    (func (export "run") (canon lift (core func $run "run"))))
  (instance $c (instantiate $C))
  (instance $d (instantiate $D (with "f" (func $c "f"))))
  (export "run" (func $d "run")))
(assert_trap (invoke "run") "invalid utf-16")

;; UTF-16 beyond Latin-1 into latin1+utf16: the growing realloc returns an odd pointer
(component
  (component $C
    (core module $CM
      (memory (export "mem") 1)
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (if (result i32) (i32.eq (global.get $calls) (i32.const 1)) (then (i32.const 16)) (else (i32.const 17))))
      (func (export "f") (param i32 i32)))
    (core instance $cm (instantiate $CM))
    (func (export "f") (param "a" string)
      (canon lift (core func $cm "f") (memory (core memory $cm "mem")) (realloc (core func $cm "realloc")) string-encoding=latin1+utf16)))
  (component $D
    (import "f" (func $f' (param "a" string)))
    (core module $DM
      (memory (export "mem") 1) (data (i32.const 0) "a\00\01\01")
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (i32.const 16)))
    (core instance $dm (instantiate $DM))
    (core func $f (canon lower (func $f') (memory (core memory $dm "mem")) string-encoding=utf16))
    (core module $Run
      (import "" "f" (func $f (param i32 i32)))
      (func (export "run") (call $f (i32.const 0) (i32.const 2))))
    (core instance $run (instantiate $Run (with "" (instance (export "f" (func $f))))))
    (func (export "run") (canon lift (core func $run "run"))))
  (instance $c (instantiate $C))
  (instance $d (instantiate $D (with "f" (func $c "f"))))
  (export "run" (func $d "run")))
(assert_trap (invoke "run") "unaligned pointer")

;; UTF-8 beyond Latin-1 into latin1+utf16: the growing realloc returns a pointer past memory
(component
  (component $C
    (core module $CM
      (memory (export "mem") 1)
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (if (result i32) (i32.eq (global.get $calls) (i32.const 1)) (then (i32.const 16)) (else (i32.const 65534))))
      (func (export "f") (param i32 i32)))
    (core instance $cm (instantiate $CM))
    (func (export "f") (param "a" string)
      (canon lift (core func $cm "f") (memory (core memory $cm "mem")) (realloc (core func $cm "realloc")) string-encoding=latin1+utf16)))
  (component $D
    (import "f" (func $f' (param "a" string)))
    (core module $DM
      (memory (export "mem") 1) (data (i32.const 0) "a\c4\81")
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (i32.const 16)))
    (core instance $dm (instantiate $DM))
    (core func $f (canon lower (func $f') (memory (core memory $dm "mem"))))
    (core module $Run
      (import "" "f" (func $f (param i32 i32)))
      (func (export "run") (call $f (i32.const 0) (i32.const 3))))
    (core instance $run (instantiate $Run (with "" (instance (export "f" (func $f))))))
    (func (export "run") (canon lift (core func $run "run"))))
  (instance $c (instantiate $C))
  (instance $d (instantiate $D (with "f" (func $c "f"))))
  (export "run" (func $d "run")))
(assert_trap (invoke "run") "string content out-of-bounds")

;; UTF-8 into UTF-16: the shrinking realloc returns an odd pointer
(component
  (component $C
    (core module $CM
      (memory (export "mem") 1)
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (if (result i32) (i32.eq (global.get $calls) (i32.const 1)) (then (i32.const 16)) (else (i32.const 17))))
      (func (export "f") (param i32 i32)))
    (core instance $cm (instantiate $CM))
    (func (export "f") (param "a" string)
      (canon lift (core func $cm "f") (memory (core memory $cm "mem")) (realloc (core func $cm "realloc")) string-encoding=utf16)))
  (component $D
    (import "f" (func $f' (param "a" string)))
    (core module $DM
      (memory (export "mem") 1) (data (i32.const 0) "a\c4\81")
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (i32.const 16)))
    (core instance $dm (instantiate $DM))
    (core func $f (canon lower (func $f') (memory (core memory $dm "mem"))))
    (core module $Run
      (import "" "f" (func $f (param i32 i32)))
      (func (export "run") (call $f (i32.const 0) (i32.const 3))))
    (core instance $run (instantiate $Run (with "" (instance (export "f" (func $f))))))
    (func (export "run") (canon lift (core func $run "run"))))
  (instance $c (instantiate $C))
  (instance $d (instantiate $D (with "f" (func $c "f"))))
  (export "run" (func $d "run")))
(assert_trap (invoke "run") "unaligned pointer")

;; the first realloc of a string returns a pointer past memory
(component
  (component $C
    (core module $CM
      (memory (export "mem") 1)
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (i32.const 65536))
      (func (export "f") (param i32 i32)))
    (core instance $cm (instantiate $CM))
    (func (export "f") (param "a" string)
      (canon lift (core func $cm "f") (memory (core memory $cm "mem")) (realloc (core func $cm "realloc")))))
  (component $D
    (import "f" (func $f' (param "a" string)))
    (core module $DM
      (memory (export "mem") 1) (data (i32.const 0) "a")
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (i32.const 16)))
    (core instance $dm (instantiate $DM))
    (core func $f (canon lower (func $f') (memory (core memory $dm "mem"))))
    (core module $Run
      (import "" "f" (func $f (param i32 i32)))
      (func (export "run") (call $f (i32.const 0) (i32.const 1))))
    (core instance $run (instantiate $Run (with "" (instance (export "f" (func $f))))))
    (func (export "run") (canon lift (core func $run "run"))))
  (instance $c (instantiate $C))
  (instance $d (instantiate $D (with "f" (func $c "f"))))
  (export "run" (func $d "run")))
(assert_trap (invoke "run") "string content out-of-bounds")

;; list contents beyond the source memory
(component
  (component $C
    (core module $CM
      (memory (export "mem") 1)
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (i32.const 16))
      (func (export "f") (param i32 i32)))
    (core instance $cm (instantiate $CM))
    (func (export "f") (param "a" (list u32))
      (canon lift (core func $cm "f") (memory (core memory $cm "mem")) (realloc (core func $cm "realloc")))))
  (component $D
    (import "f" (func $f' (param "a" (list u32))))
    (core module $DM
      (memory (export "mem") 1)
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (i32.const 16)))
    (core instance $dm (instantiate $DM))
    (core func $f (canon lower (func $f') (memory (core memory $dm "mem"))))
    (core module $Run
      (import "" "f" (func $f (param i32 i32)))
      (func (export "run") (call $f (i32.const 65532) (i32.const 2))))
    (core instance $run (instantiate $Run (with "" (instance (export "f" (func $f))))))
    (func (export "run") (canon lift (core func $run "run"))))
  (instance $c (instantiate $C))
  (instance $d (instantiate $D (with "f" (func $c "f"))))
  (export "run" (func $d "run")))
(assert_trap (invoke "run") "list content out-of-bounds")

;; a list whose byte length overflows 32 bits
(component
  (component $C
    (core module $CM
      (memory (export "mem") 1)
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (i32.const 16))
      (func (export "f") (param i32 i32)))
    (core instance $cm (instantiate $CM))
    (func (export "f") (param "a" (list u64))
      (canon lift (core func $cm "f") (memory (core memory $cm "mem")) (realloc (core func $cm "realloc")))))
  (component $D
    (import "f" (func $f' (param "a" (list u64))))
    (core module $DM
      (memory (export "mem") 1)
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (i32.const 16)))
    (core instance $dm (instantiate $DM))
    (core func $f (canon lower (func $f') (memory (core memory $dm "mem"))))
    (core module $Run
      (import "" "f" (func $f (param i32 i32)))
      (func (export "run") (call $f (i32.const 0) (i32.const 536870912))))
    (core instance $run (instantiate $Run (with "" (instance (export "f" (func $f))))))
    (func (export "run") (canon lift (core func $run "run"))))
  (instance $c (instantiate $C))
  (instance $d (instantiate $D (with "f" (func $c "f"))))
  (export "run" (func $d "run")))
(assert_trap (invoke "run") "list content out-of-bounds")

;; a list realloc returning a misaligned pointer
(component
  (component $C
    (core module $CM
      (memory (export "mem") 1)
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (i32.const 2))
      (func (export "f") (param i32 i32)))
    (core instance $cm (instantiate $CM))
    (func (export "f") (param "a" (list u32))
      (canon lift (core func $cm "f") (memory (core memory $cm "mem")) (realloc (core func $cm "realloc")))))
  (component $D
    (import "f" (func $f' (param "a" (list u32))))
    (core module $DM
      (memory (export "mem") 1)
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (i32.const 16)))
    (core instance $dm (instantiate $DM))
    (core func $f (canon lower (func $f') (memory (core memory $dm "mem"))))
    (core module $Run
      (import "" "f" (func $f (param i32 i32)))
      (func (export "run") (call $f (i32.const 0) (i32.const 1))))
    (core instance $run (instantiate $Run (with "" (instance (export "f" (func $f))))))
    (func (export "run") (canon lift (core func $run "run"))))
  (instance $c (instantiate $C))
  (instance $d (instantiate $D (with "f" (func $c "f"))))
  (export "run" (func $d "run")))
(assert_trap (invoke "run") "unaligned pointer")

;; a list realloc returning a pointer past memory
(component
  (component $C
    (core module $CM
      (memory (export "mem") 1)
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (i32.const 65536))
      (func (export "f") (param i32 i32)))
    (core instance $cm (instantiate $CM))
    (func (export "f") (param "a" (list u32))
      (canon lift (core func $cm "f") (memory (core memory $cm "mem")) (realloc (core func $cm "realloc")))))
  (component $D
    (import "f" (func $f' (param "a" (list u32))))
    (core module $DM
      (memory (export "mem") 1)
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (i32.const 16)))
    (core instance $dm (instantiate $DM))
    (core func $f (canon lower (func $f') (memory (core memory $dm "mem"))))
    (core module $Run
      (import "" "f" (func $f (param i32 i32)))
      (func (export "run") (call $f (i32.const 0) (i32.const 1))))
    (core instance $run (instantiate $Run (with "" (instance (export "f" (func $f))))))
    (func (export "run") (canon lift (core func $run "run"))))
  (instance $c (instantiate $C))
  (instance $d (instantiate $D (with "f" (func $c "f"))))
  (export "run" (func $d "run")))
(assert_trap (invoke "run") "list content out-of-bounds")

;; a surrogate as a char
(component
  (component $C
    (core module $CM
      (memory (export "mem") 1)
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (i32.const 16))
      (func (export "f") (param i32)))
    (core instance $cm (instantiate $CM))
    (func (export "f") (param "a" char)
      (canon lift (core func $cm "f") (memory (core memory $cm "mem")) (realloc (core func $cm "realloc")))))
  (component $D
    (import "f" (func $f' (param "a" char)))
    (core module $DM
      (memory (export "mem") 1)
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (i32.const 16)))
    (core instance $dm (instantiate $DM))
    (core func $f (canon lower (func $f') (memory (core memory $dm "mem"))))
    (core module $Run
      (import "" "f" (func $f (param i32)))
      (func (export "run") (call $f (i32.const 55296))))
    (core instance $run (instantiate $Run (with "" (instance (export "f" (func $f))))))
    (func (export "run") (canon lift (core func $run "run"))))
  (instance $c (instantiate $C))
  (instance $d (instantiate $D (with "f" (func $c "f"))))
  (export "run" (func $d "run")))
(assert_trap (invoke "run") "invalid `char` bit pattern")

;; an option discriminant of 2
(component
  (component $C
    (core module $CM
      (memory (export "mem") 1)
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (i32.const 16))
      (func (export "f") (param i32 i32)))
    (core instance $cm (instantiate $CM))
    (func (export "f") (param "a" (option u32))
      (canon lift (core func $cm "f") (memory (core memory $cm "mem")) (realloc (core func $cm "realloc")))))
  (component $D
    (import "f" (func $f' (param "a" (option u32))))
    (core module $DM
      (memory (export "mem") 1)
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (i32.const 16)))
    (core instance $dm (instantiate $DM))
    (core func $f (canon lower (func $f') (memory (core memory $dm "mem"))))
    (core module $Run
      (import "" "f" (func $f (param i32 i32)))
      (func (export "run") (call $f (i32.const 2) (i32.const 0))))
    (core instance $run (instantiate $Run (with "" (instance (export "f" (func $f))))))
    (func (export "run") (canon lift (core func $run "run"))))
  (instance $c (instantiate $C))
  (instance $d (instantiate $D (with "f" (func $c "f"))))
  (export "run" (func $d "run")))
(assert_trap (invoke "run") "invalid variant discriminant")

;; a returned string beyond the callee's memory
(component
  (component $C
    (core module $CM
      (memory (export "mem") 1)
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (i32.const 16))
      (func (export "f") (result i32)
        (i32.store (i32.const 1024) (i32.const 65530))
        (i32.store (i32.const 1028) (i32.const 100))
        (i32.const 1024)))
    (core instance $cm (instantiate $CM))
    (func (export "f") (result string)
      (canon lift (core func $cm "f") (memory (core memory $cm "mem")))))
  (component $D
    (import "f" (func $f' (result string)))
    (core module $DM
      (memory (export "mem") 1)
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (i32.const 16)))
    (core instance $dm (instantiate $DM))
    (core func $f (canon lower (func $f') (memory (core memory $dm "mem")) (realloc (core func $dm "realloc")) string-encoding=utf16))
    (core module $Run
      (import "" "f" (func $f (param i32)))
      (func (export "run") (call $f (i32.const 64))))
    (core instance $run (instantiate $Run (with "" (instance (export "f" (func $f))))))
    (func (export "run") (canon lift (core func $run "run"))))
  (instance $c (instantiate $C))
  (instance $d (instantiate $D (with "f" (func $c "f"))))
  (export "run" (func $d "run")))
(assert_trap (invoke "run") "string content out-of-bounds")

;; a returned UTF-16 string beyond Latin-1 into latin1+utf16: the caller's growing realloc returns an odd pointer
(component
  (component $C
    (core module $CM
      (memory (export "mem") 1) (data (i32.const 0) "a\00\01\01")
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (i32.const 16))
      (func (export "f") (result i32)
        (i32.store (i32.const 1024) (i32.const 0))
        (i32.store (i32.const 1028) (i32.const 2))
        (i32.const 1024)))
    (core instance $cm (instantiate $CM))
    (func (export "f") (result string)
      (canon lift (core func $cm "f") (memory (core memory $cm "mem")) string-encoding=utf16)))
  (component $D
    (import "f" (func $f' (result string)))
    (core module $DM
      (memory (export "mem") 1)
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (if (result i32) (i32.eq (global.get $calls) (i32.const 1)) (then (i32.const 16)) (else (i32.const 17)))))
    (core instance $dm (instantiate $DM))
    (core func $f (canon lower (func $f') (memory (core memory $dm "mem")) (realloc (core func $dm "realloc")) string-encoding=latin1+utf16))
    (core module $Run
      (import "" "f" (func $f (param i32)))
      (func (export "run") (call $f (i32.const 64))))
    (core instance $run (instantiate $Run (with "" (instance (export "f" (func $f))))))
    (func (export "run") (canon lift (core func $run "run"))))
  (instance $c (instantiate $C))
  (instance $d (instantiate $D (with "f" (func $c "f"))))
  (export "run" (func $d "run")))
(assert_trap (invoke "run") "unaligned pointer")

;; A trap in the callee's code, compiled beside a string adapter that stays out of
;; line: the caller's module has functions placed before and after the adapter, so
;; the address range of its code surrounds the adapter's (explicit bounds checks make
;; the out-of-bounds load a trap instruction rather than a fault).
(component
  (component $C
    (core module $CM
      (memory (export "mem") 1)
      (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 16))
      (func (export "f") (param i32 i32) (result i32)
        (i32.load (i32.add (local.get 0) (i32.mul (local.get 1) (i32.const 4096))))))
    (core instance $cm (instantiate $CM))
    (func (export "f") (param "a" string) (result u32)
      (canon lift (core func $cm "f") (memory (core memory $cm "mem")) (realloc (core func $cm "realloc")))))
  (component $D
    (import "f" (func $f' (param "a" string) (result u32)))
    (core module $Mem (memory (export "mem") 1))
    (core instance $mem (instantiate $Mem))
    (core func $f (canon lower (func $f') (memory (core memory $mem "mem")) string-encoding=utf16))
    (core module $Run
      (import "" "f" (func $f (param i32 i32) (result i32)))
      (func (export "before") (result i32) (i32.const 1))
      (func (export "run") (result i32) (call $f (i32.const 0) (i32.const 20)))
      (func (export "after") (result i32) (i32.const 2)))
    (core instance $run (instantiate $Run (with "" (instance (export "f" (func $f))))))
    (func (export "run") (result u32) (canon lift (core func $run "run"))))
  (instance $c (instantiate $C))
  (instance $d (instantiate $D (with "f" (func $c "f"))))
  (export "run" (func $d "run")))
(assert_trap (invoke "run") "out of bounds memory access")
