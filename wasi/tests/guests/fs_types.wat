;; A hand-written component importing the wasi:filesystem functions whose
;; types use records, variants, enums, flags, options, tuples and handles, with
;; their WIT types, beside wall-clock's `now` and stream writes: serving it
;; checks the typed host functions against those types.
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
    (export "[method]output-stream.write"
      (func (param "self" (borrow $os)) (param "contents" (list u8))
            (result (result (error $stream-error)))))
    (export "[method]output-stream.check-write"
      (func (param "self" (borrow $os)) (result (result u64 (error $stream-error)))))))
  (alias export $streams "output-stream" (type $os-t))
  (import "wasi:clocks/wall-clock@0.2.0" (instance $clock
    (type $dt (record (field "seconds" u64) (field "nanoseconds" u32)))
    (export "datetime" (type $datetime (eq $dt)))
    (export "now" (func (result $datetime)))))
  (alias export $clock "datetime" (type $datetime-t))
  (import "wasi:filesystem/types@0.2.0" (instance $fs
    (alias outer 1 $datetime-t (type $dt0))
    (export "datetime" (type $datetime (eq $dt0)))
    (alias outer 1 $os-t (type $os0))
    (export "output-stream" (type $os (eq $os0)))
    (alias outer 1 $error-t (type $e0))
    (export "error" (type $err (eq $e0)))
    (export "descriptor" (type $d (sub resource)))
    (export "directory-entry-stream" (type $des (sub resource)))
    (type $ec (enum "access" "would-block" "already" "bad-descriptor" "busy" "deadlock" "quota" "exist" "file-too-large" "illegal-byte-sequence" "in-progress" "interrupted" "invalid" "io" "is-directory" "loop" "too-many-links" "message-size" "name-too-long" "no-device" "no-entry" "no-lock" "insufficient-memory" "insufficient-space" "not-directory" "not-empty" "not-recoverable" "unsupported" "no-tty" "no-such-device" "overflow" "not-permitted" "pipe" "read-only" "invalid-seek" "text-file-busy" "cross-device"))
    (export "error-code" (type $error-code (eq $ec)))
    (type $dty (enum "unknown" "block-device" "character-device" "directory" "fifo" "symbolic-link" "regular-file" "socket"))
    (export "descriptor-type" (type $descriptor-type (eq $dty)))
    (type $df (flags "read" "write" "file-integrity-sync" "data-integrity-sync"
      "requested-write-sync" "mutate-directory"))
    (export "descriptor-flags" (type $descriptor-flags (eq $df)))
    (type $pf (flags "symlink-follow"))
    (export "path-flags" (type $path-flags (eq $pf)))
    (type $of (flags "create" "directory" "exclusive" "truncate"))
    (export "open-flags" (type $open-flags (eq $of)))
    (type $adv (enum "normal" "sequential" "random" "will-need" "dont-need" "no-reuse"))
    (export "advice" (type $advice (eq $adv)))
    (type $st (record (field "type" $descriptor-type) (field "link-count" u64) (field "size" u64)
      (field "data-access-timestamp" (option $datetime))
      (field "data-modification-timestamp" (option $datetime))
      (field "status-change-timestamp" (option $datetime))))
    (export "descriptor-stat" (type $descriptor-stat (eq $st)))
    (type $nt (variant (case "no-change") (case "now") (case "timestamp" $datetime)))
    (export "new-timestamp" (type $new-timestamp (eq $nt)))
    (type $de (record (field "type" $descriptor-type) (field "name" string)))
    (export "directory-entry" (type $directory-entry (eq $de)))
    (type $mh (record (field "lower" u64) (field "upper" u64)))
    (export "metadata-hash-value" (type $metadata-hash-value (eq $mh)))
    (export "[method]descriptor.write-via-stream"
      (func (param "self" (borrow $d)) (param "offset" u64) (result (result (own $os) (error $error-code)))))
    (export "[method]descriptor.advise"
      (func (param "self" (borrow $d)) (param "offset" u64) (param "length" u64) (param "advice" $advice)
            (result (result (error $error-code)))))
    (export "[method]descriptor.get-flags"
      (func (param "self" (borrow $d)) (result (result $descriptor-flags (error $error-code)))))
    (export "[method]descriptor.set-times"
      (func (param "self" (borrow $d)) (param "data-access-timestamp" $new-timestamp)
            (param "data-modification-timestamp" $new-timestamp) (result (result (error $error-code)))))
    (export "[method]descriptor.read"
      (func (param "self" (borrow $d)) (param "length" u64) (param "offset" u64)
            (result (result (tuple (list u8) bool) (error $error-code)))))
    (export "[method]descriptor.read-directory"
      (func (param "self" (borrow $d)) (result (result (own $des) (error $error-code)))))
    (export "[method]descriptor.stat"
      (func (param "self" (borrow $d)) (result (result $descriptor-stat (error $error-code)))))
    (export "[method]descriptor.stat-at"
      (func (param "self" (borrow $d)) (param "path-flags" $path-flags) (param "path" string)
            (result (result $descriptor-stat (error $error-code)))))
    (export "[method]descriptor.set-times-at"
      (func (param "self" (borrow $d)) (param "path-flags" $path-flags) (param "path" string)
            (param "data-access-timestamp" $new-timestamp) (param "data-modification-timestamp" $new-timestamp)
            (result (result (error $error-code)))))
    (export "[method]descriptor.open-at"
      (func (param "self" (borrow $d)) (param "path-flags" $path-flags) (param "path" string)
            (param "open-flags" $open-flags) (param "flags" $descriptor-flags)
            (result (result (own $d) (error $error-code)))))
    (export "[method]descriptor.metadata-hash-at"
      (func (param "self" (borrow $d)) (param "path-flags" $path-flags) (param "path" string)
            (result (result $metadata-hash-value (error $error-code)))))
    (export "[method]directory-entry-stream.read-directory-entry"
      (func (param "self" (borrow $des)) (result (result (option $directory-entry) (error $error-code)))))
    (export "filesystem-error-code" (func (param "err" (borrow $err)) (result (option $error-code))))))
  (alias export $fs "descriptor" (type $descriptor-t))
  (import "wasi:filesystem/preopens@0.2.0" (instance $preopens
    (alias outer 1 $descriptor-t (type $d0))
    (export "descriptor" (type $d (eq $d0)))
    (export "get-directories" (func (result (list (tuple (own $d) string)))))))
  (core module $m
    (memory (export "mem") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024)))
  (core instance $main (instantiate $m))
  (alias core export $main "mem" (core memory $mem))
  (alias core export $main "realloc" (core func $realloc))
  (core func $f0 (canon lower (func $streams "[method]output-stream.write") (memory $mem) (realloc $realloc)))
  (core func $f1 (canon lower (func $streams "[method]output-stream.check-write") (memory $mem) (realloc $realloc)))
  (core func $f2 (canon lower (func $clock "now") (memory $mem) (realloc $realloc)))
  (core func $f3 (canon lower (func $fs "[method]descriptor.write-via-stream") (memory $mem) (realloc $realloc)))
  (core func $f4 (canon lower (func $fs "[method]descriptor.advise") (memory $mem) (realloc $realloc)))
  (core func $f5 (canon lower (func $fs "[method]descriptor.get-flags") (memory $mem) (realloc $realloc)))
  (core func $f6 (canon lower (func $fs "[method]descriptor.set-times") (memory $mem) (realloc $realloc)))
  (core func $f7 (canon lower (func $fs "[method]descriptor.read") (memory $mem) (realloc $realloc)))
  (core func $f8 (canon lower (func $fs "[method]descriptor.read-directory") (memory $mem) (realloc $realloc)))
  (core func $f9 (canon lower (func $fs "[method]descriptor.stat") (memory $mem) (realloc $realloc)))
  (core func $f10 (canon lower (func $fs "[method]descriptor.stat-at") (memory $mem) (realloc $realloc)))
  (core func $f11 (canon lower (func $fs "[method]descriptor.set-times-at") (memory $mem) (realloc $realloc)))
  (core func $f12 (canon lower (func $fs "[method]descriptor.open-at") (memory $mem) (realloc $realloc)))
  (core func $f13 (canon lower (func $fs "[method]descriptor.metadata-hash-at") (memory $mem) (realloc $realloc)))
  (core func $f14 (canon lower (func $fs "[method]directory-entry-stream.read-directory-entry") (memory $mem) (realloc $realloc)))
  (core func $f15 (canon lower (func $fs "filesystem-error-code") (memory $mem) (realloc $realloc)))
  (core func $f16 (canon lower (func $preopens "get-directories") (memory $mem) (realloc $realloc)))
)
