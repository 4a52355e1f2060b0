//! Every kind of component value type through the generated bindings: each
//! `round_T` export passes its argument to the host's `echo_T` import and
//! returns what the host answers. The host records what it received (guest to
//! host) and answers with a changed value (host to guest), so both directions
//! are checked against known values.
#![deny(warnings)]

use rivet::{BoundsMode, Store, Trap};
use rivet_macro_roundtrip::*;
use std::sync::{Arc, Mutex};

/// What the host's imports received, rendered with `Debug`, in call order;
/// and the reps of host-defined `thing`s the guest dropped.
#[derive(Default)]
struct Seen {
    args: Vec<String>,
    dropped: Vec<u32>,
}

struct Host(Arc<Mutex<Seen>>);

impl Host {
    fn saw<T: std::fmt::Debug>(&self, x: &T) {
        self.0.lock().unwrap().args.push(format!("{x:?}"));
    }
}

impl AllWorldHost for Host {
    fn echo_bool(&mut self, x: bool) -> Result<bool, Trap> {
        self.saw(&x);
        Ok(!x)
    }
    fn echo_s8(&mut self, x: i8) -> Result<i8, Trap> {
        self.saw(&x);
        Ok(x.wrapping_sub(1))
    }
    fn echo_u8(&mut self, x: u8) -> Result<u8, Trap> {
        self.saw(&x);
        Ok(x.wrapping_add(1))
    }
    fn echo_s16(&mut self, x: i16) -> Result<i16, Trap> {
        self.saw(&x);
        Ok(x.wrapping_sub(1))
    }
    fn echo_u16(&mut self, x: u16) -> Result<u16, Trap> {
        self.saw(&x);
        Ok(x.wrapping_add(1))
    }
    fn echo_s32(&mut self, x: i32) -> Result<i32, Trap> {
        self.saw(&x);
        Ok(x.wrapping_sub(1))
    }
    fn echo_u32(&mut self, x: u32) -> Result<u32, Trap> {
        self.saw(&x);
        Ok(x.wrapping_add(1))
    }
    fn echo_s64(&mut self, x: i64) -> Result<i64, Trap> {
        self.saw(&x);
        Ok(x.wrapping_sub(1))
    }
    fn echo_u64(&mut self, x: u64) -> Result<u64, Trap> {
        self.saw(&x);
        Ok(x.wrapping_add(1))
    }
    fn echo_f32(&mut self, x: f32) -> Result<f32, Trap> {
        self.saw(&x);
        Ok(x * 2.0)
    }
    fn echo_f64(&mut self, x: f64) -> Result<f64, Trap> {
        self.saw(&x);
        Ok(-x)
    }
    fn echo_char(&mut self, x: char) -> Result<char, Trap> {
        self.saw(&x);
        Ok(x.to_ascii_uppercase())
    }
    fn echo_string(&mut self, x: String) -> Result<String, Trap> {
        self.saw(&x);
        Ok(format!("{x}!"))
    }
    fn echo_list(&mut self, x: Vec<u32>) -> Result<Vec<u32>, Trap> {
        self.saw(&x);
        Ok(x.into_iter().rev().collect())
    }
    fn echo_bytes(&mut self, x: Vec<u8>) -> Result<Vec<u8>, Trap> {
        self.saw(&x);
        Ok(x.iter().map(|b| b ^ 0xff).collect())
    }
    fn echo_person(&mut self, x: AllPerson) -> Result<AllPerson, Trap> {
        self.saw(&x);
        Ok(AllPerson {
            name: x.name.to_uppercase(),
            age: x.age + 1,
        })
    }
    fn echo_people(&mut self, x: Vec<AllPerson>) -> Result<Vec<AllPerson>, Trap> {
        self.saw(&x);
        Ok(x.into_iter().rev().collect())
    }
    fn echo_tuple(&mut self, x: (u8, String, f64)) -> Result<(u8, String, f64), Trap> {
        self.saw(&x);
        Ok((x.0 + 1, x.1.repeat(2), x.2 / 2.0))
    }
    fn echo_shape(&mut self, x: AllShape) -> Result<AllShape, Trap> {
        self.saw(&x);
        Ok(match x {
            AllShape::None => AllShape::Text("none".into()),
            AllShape::Num(n) => AllShape::Text(n.to_string()),
            AllShape::Text(s) => AllShape::Num(s.len() as u32),
        })
    }
    fn echo_color(&mut self, x: AllColor) -> Result<AllColor, Trap> {
        self.saw(&x);
        Ok(match x {
            AllColor::Red => AllColor::Green,
            AllColor::Green => AllColor::Blue,
            AllColor::Blue => AllColor::Red,
        })
    }
    fn echo_maybe(&mut self, x: Option<String>) -> Result<Option<String>, Trap> {
        self.saw(&x);
        Ok(match x {
            Some(_) => None,
            None => Some("was none".into()),
        })
    }
    fn echo_outcome(&mut self, x: Result<String, u32>) -> Result<Result<String, u32>, Trap> {
        self.saw(&x);
        Ok(match x {
            Ok(s) => Err(s.len() as u32),
            Err(n) => Ok(n.to_string()),
        })
    }
    fn echo_perms(&mut self, x: AllPerms) -> Result<AllPerms, Trap> {
        self.saw(&x);
        Ok(AllPerms {
            read: !x.read,
            write: !x.write,
            exec: !x.exec,
        })
    }
    fn echo_thing(&mut self, x: AllThing) -> Result<AllThing, Trap> {
        self.saw(&x.rep());
        Ok(AllThing::new(x.rep() + 100))
    }
    fn thing_drop(&mut self, handle: AllThing) -> Result<(), Trap> {
        self.0.lock().unwrap().dropped.push(handle.rep());
        Ok(())
    }
}

fn setup() -> (Store, All, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut store = Store::new(BoundsMode::Guard);
    let all = All::instantiate(&mut store, Host(seen.clone())).expect("instantiates");
    (store, all, seen)
}

/// The arguments the host received since the last call, rendered.
fn received(seen: &Arc<Mutex<Seen>>) -> Vec<String> {
    std::mem::take(&mut seen.lock().unwrap().args)
}

#[test]
fn scalars_cross_both_ways() -> Result<(), Trap> {
    let (mut s, all, seen) = setup();
    assert!(!all.round_bool(&mut s, true)?);
    assert_eq!(all.round_s8(&mut s, -128)?, 127);
    assert_eq!(all.round_u8(&mut s, 255)?, 0);
    assert_eq!(all.round_s16(&mut s, -5)?, -6);
    assert_eq!(all.round_u16(&mut s, 65534)?, 65535);
    assert_eq!(all.round_s32(&mut s, i32::MIN)?, i32::MAX);
    assert_eq!(all.round_u32(&mut s, 41)?, 42);
    assert_eq!(all.round_s64(&mut s, -1 << 40)?, (-1 << 40) - 1);
    assert_eq!(all.round_u64(&mut s, u64::MAX - 1)?, u64::MAX);
    assert_eq!(all.round_f32(&mut s, 1.25)?, 2.5);
    assert_eq!(all.round_f64(&mut s, 3.5)?, -3.5);
    assert_eq!(all.round_char(&mut s, 'q')?, 'Q');
    assert_eq!(all.round_char(&mut s, '☃')?, '☃');
    assert_eq!(
        received(&seen),
        [
            "true",
            "-128",
            "255",
            "-5",
            "65534",
            "-2147483648",
            "41",
            "-1099511627776",
            "18446744073709551614",
            "1.25",
            "3.5",
            "'q'",
            "'☃'"
        ]
    );
    Ok(())
}

#[test]
fn strings_and_lists_cross_both_ways() -> Result<(), Trap> {
    let (mut s, all, seen) = setup();
    assert_eq!(all.round_string(&mut s, "wörld")?, "wörld!");
    assert_eq!(all.round_string(&mut s, "")?, "!");
    assert_eq!(all.round_list(&mut s, &[1, 2, 3])?, [3, 2, 1]);
    assert_eq!(all.round_list(&mut s, &[])?, Vec::<u32>::new());
    assert_eq!(all.round_bytes(&mut s, &[0, 0x0f])?, [0xff, 0xf0]);
    assert_eq!(
        received(&seen),
        ["\"wörld\"", "\"\"", "[1, 2, 3]", "[]", "[0, 15]"]
    );
    Ok(())
}

#[test]
fn records_tuples_and_lists_of_records_cross_both_ways() -> Result<(), Trap> {
    let (mut s, all, seen) = setup();
    let ada = AllPerson {
        name: "ada".into(),
        age: 36,
    };
    let bob = AllPerson {
        name: "bob".into(),
        age: 7,
    };
    let older = all.round_person(&mut s, ada.clone())?;
    assert_eq!(
        older,
        AllPerson {
            name: "ADA".into(),
            age: 37
        }
    );
    let people = all.round_people(&mut s, &[ada.clone(), bob.clone()])?;
    assert_eq!(people, [bob.clone(), ada.clone()]);
    assert_eq!(
        all.round_tuple(&mut s, (9, "ab".into(), 5.0))?,
        (10, "abab".into(), 2.5)
    );
    assert_eq!(
        received(&seen),
        [
            format!("{ada:?}"),
            format!("{:?}", [ada, bob]),
            "(9, \"ab\", 5.0)".into()
        ]
    );
    Ok(())
}

#[test]
fn variants_enums_options_results_and_flags_cross_both_ways() -> Result<(), Trap> {
    let (mut s, all, seen) = setup();
    assert_eq!(
        all.round_shape(&mut s, AllShape::Num(12))?,
        AllShape::Text("12".into())
    );
    assert_eq!(
        all.round_shape(&mut s, AllShape::Text("four".into()))?,
        AllShape::Num(4)
    );
    assert_eq!(
        all.round_shape(&mut s, AllShape::None)?,
        AllShape::Text("none".into())
    );
    assert_eq!(all.round_color(&mut s, AllColor::Blue)?, AllColor::Red);
    assert_eq!(all.round_maybe(&mut s, Some("x".into()))?, None);
    assert_eq!(all.round_maybe(&mut s, None)?, Some("was none".into()));
    assert_eq!(all.round_outcome(&mut s, Ok("abc".into()))?, Err(3));
    assert_eq!(all.round_outcome(&mut s, Err(7))?, Ok("7".into()));
    let rw = AllPerms {
        read: true,
        write: true,
        exec: false,
    };
    let x = AllPerms {
        read: false,
        write: false,
        exec: true,
    };
    assert_eq!(all.round_perms(&mut s, rw)?, x);
    assert_eq!(
        received(&seen),
        [
            "Num(12)",
            "Text(\"four\")",
            "None",
            "Blue",
            "Some(\"x\")",
            "None",
            "Ok(\"abc\")",
            "Err(7)",
            &format!("{rw:?}")
        ]
    );
    Ok(())
}

#[test]
fn host_defined_resources_cross_both_ways_and_drop_in_the_host() -> Result<(), Trap> {
    let (mut s, all, seen) = setup();
    let back = all.round_thing(&mut s, AllThing::new(5))?;
    assert_eq!(back.rep(), 105);
    assert_eq!(received(&seen), ["5"]);
    // The host owns the returned handle again; dropping it runs the host's
    // destructor.
    all.resource_drop(&mut s, back)?;
    assert_eq!(seen.lock().unwrap().dropped, [105]);
    Ok(())
}

/// The bindings load the component from the metadata static that
/// `rivet_build` wrote beside the object; the object's descriptor carries
/// the same metadata encoded. Both must describe the same component.
#[test]
fn static_metadata_agrees_with_the_descriptor() {
    extern "C" {
        static rivet_component_all_types: rivet::RawDescriptor;
    }
    let from_static = All::component().unwrap();
    // SAFETY: the descriptor the build linked for `all-types`.
    let decoded =
        unsafe { rivet::Component::from_descriptor(std::ptr::addr_of!(rivet_component_all_types)) }
            .unwrap();
    assert!(!from_static.exports().is_empty());
    assert_eq!(from_static.exports(), decoded.exports());
    assert_eq!(from_static.imports(), decoded.imports());
    assert_eq!(
        from_static.imported_resources(),
        decoded.imported_resources()
    );
}
