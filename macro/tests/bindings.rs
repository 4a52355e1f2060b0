//! Expands `rivet::component!` on the plan build.rs records and checks the
//! generated API has the documented shape, against the real `rivet` crate.

rivet::component!(Fixture, "fixture");

struct Host;

impl FixtureLogHost for Host {
    fn emit(&mut self, who: String) -> Result<String, rivet::Trap> {
        Ok(who)
    }
}

/// Implementing every interface trait implements the combined one.
fn imports_of(host: Host) -> impl FixtureImports {
    host
}

#[test]
fn generated_api_has_the_documented_shape() {
    type Greet = fn(&Fixture, &mut rivet::Store, &str) -> Result<String, rivet::Trap>;
    let _greet: Greet = Fixture::greet;
    // An exported interface's functions are methods of its view, named as
    // in the WIT.
    let _shapes: fn(&Fixture) -> FixtureShapesExports<'_> = Fixture::shapes;
    type Make<'v> = fn(
        &FixtureShapesExports<'v>,
        &mut rivet::Store,
        FixtureVariant0,
        FixtureFlags0,
        &[String],
    ) -> Result<Result<FixtureRecord0, String>, rivet::Trap>;
    let _make: Make<'_> = FixtureShapesExports::make;
    type Count = fn(
        &Fixture,
        &mut rivet::Store,
        &std::collections::BTreeMap<String, Vec<String>>,
    ) -> Result<u32, rivet::Trap>;
    let _count: Count = Fixture::count;
    let record = FixtureRecord0 {
        name: "a".into(),
        tags: vec!["b".into()],
    };
    assert_eq!(record.clone(), record);
    let flags = FixtureFlags0 {
        bold: true,
        ..Default::default()
    };
    assert!(!flags.italic);
    assert_ne!(FixtureVariant0::Off, FixtureVariant0::Level(3));
    assert_eq!(imports_of(Host).emit("x".into()).unwrap(), "x");
    // A resource the guest defines: its constructor and methods are also
    // functions of its handle type.
    type New = fn(&Fixture, &mut rivet::Store, u8) -> Result<FixtureCounter, rivet::Trap>;
    let _new: New = FixtureCounter::new;
    type Add = fn(&FixtureCounter, &Fixture, &mut rivet::Store, u8) -> Result<u8, rivet::Trap>;
    let _add: Add = FixtureCounter::add;
    type Grouped<'v> = fn(
        &FixtureShapesExports<'v>,
        &mut rivet::Store,
        FixtureCounter,
        u8,
    ) -> Result<u8, rivet::Trap>;
    let _grouped: Grouped<'_> = FixtureShapesExports::counter_add;
}
