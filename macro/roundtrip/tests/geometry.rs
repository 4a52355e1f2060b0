//! An exported interface through the generated bindings: its functions are
//! methods of a view (`geometry.shapes()`), its record type keeps its WIT
//! name, its resource's functions are also the handle's, and top-level
//! exports stay methods of the struct.
#![deny(warnings)]

use rivet::{BoundsMode, Store};
use rivet_macro_roundtrip::{Geometry, GeometryCounter, GeometryPoint};

#[test]
fn interface_functions_are_grouped_as_in_the_wit() {
    let mut store = Store::new(BoundsMode::Guard);
    let geometry = Geometry::instantiate(&mut store, ()).unwrap();
    let flipped = geometry
        .shapes()
        .flip(&mut store, GeometryPoint { x: 3, y: 40 })
        .unwrap();
    assert_eq!(flipped, GeometryPoint { x: 40, y: 3 });
    assert_eq!(geometry.version(&mut store).unwrap(), 2);

    let counter = GeometryCounter::new(&geometry, &mut store, 7).unwrap();
    assert_eq!(counter.get(&geometry, &mut store).unwrap(), 7);
    let shapes = geometry.shapes();
    assert_eq!(shapes.counter_get(&mut store, counter).unwrap(), 7);
    let other = shapes.counter_new(&mut store, 9).unwrap();
    assert_eq!(other.get(&geometry, &mut store).unwrap(), 9);
    geometry.resource_drop(&mut store, counter).unwrap();
    geometry.resource_drop(&mut store, other).unwrap();
}
