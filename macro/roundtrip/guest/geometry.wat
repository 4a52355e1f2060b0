;; A component for the bindings' grouping and docs test: it exports the
;; interface `rivet:geometry/shapes` with a record type `point`, a function
;; `flip: func(p: point) -> point` and a resource `counter` (constructor and
;; `get`), plus a top-level `version: func() -> u32`. Its `package-docs`
;; section documents them as wit-component would.
(component
  (type $counter (resource (rep i32)))
  (core func $counter-new (canon resource.new $counter))
  (core module $M
    (import "r" "new" (func $new (param i32) (result i32)))
    (memory (export "memory") 1)
    ;; The record comes back through memory: two fields exceed one flat result.
    (func (export "flip") (param i32 i32) (result i32)
      (i32.store (i32.const 16) (local.get 1))
      (i32.store (i32.const 20) (local.get 0))
      (i32.const 16))
    ;; A counter's representation is its value.
    (func (export "new") (param i32) (result i32) (call $new (local.get 0)))
    (func (export "get") (param i32) (result i32) (local.get 0))
    (func (export "version") (result i32) (i32.const 2)))
  (core instance $r (export "new" (func $counter-new)))
  (core instance $i (instantiate $M (with "r" (instance $r))))
  (type $point (record (field "x" u32) (field "y" u32)))
  (func $flip (param "p" $point) (result $point)
    (canon lift (core func $i "flip") (memory (core memory $i "memory"))))
  (func $new (param "start" u32) (result (own $counter))
    (canon lift (core func $i "new")))
  (func $get (param "self" (borrow $counter)) (result u32)
    (canon lift (core func $i "get")))
  (func $version (result u32) (canon lift (core func $i "version")))
  ;; As wit-component builds an exported interface: a component that
  ;; imports the items and exports them under their WIT names.
  (component $Shapes
    (type $point' (record (field "x" u32) (field "y" u32)))
    (import "import-type-point" (type $p (eq $point')))
    (import "import-type-counter" (type $c (sub resource)))
    (import "import-func-flip" (func $flip (param "p" $p) (result $p)))
    (import "import-constructor-counter" (func $new (param "start" u32) (result (own $c))))
    (import "import-method-counter-get" (func $get (param "self" (borrow $c)) (result u32)))
    (export $p2 "point" (type $p))
    (export $c2 "counter" (type $c))
    (export "flip" (func $flip) (func (param "p" $p2) (result $p2)))
    (export "[constructor]counter" (func $new) (func (param "start" u32) (result (own $c2))))
    (export "[method]counter.get" (func $get) (func (param "self" (borrow $c2)) (result u32))))
  (instance $shapes (instantiate $Shapes
    (with "import-type-point" (type $point))
    (with "import-type-counter" (type $counter))
    (with "import-func-flip" (func $flip))
    (with "import-constructor-counter" (func $new))
    (with "import-method-counter-get" (func $get))))
  (export "rivet:geometry/shapes" (instance $shapes))
  (export "version" (func $version))
  (@custom "package-docs" "\01{\"package\": \"rivet:geometry\", \"interfaces\": {\"shapes\": {\"docs\": \"Plane shapes.\", \"funcs\": {\"flip\": {\"docs\": \"Mirrors a point across the diagonal.\"}, \"[constructor]counter\": {\"docs\": \"A counter starting at `start`.\"}, \"[method]counter.get\": {\"docs\": \"The counter's value.\"}}, \"types\": {\"point\": {\"docs\": \"A point of the plane.\"}, \"counter\": {\"docs\": \"Counts.\"}}}}, \"worlds\": {\"geometry\": {\"func_exports\": {\"version\": {\"docs\": \"The interface version.\"}}}}}")
)
