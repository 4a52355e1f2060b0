//! The `host-resources` example: the host defines a key-value `store` resource
//! (interface `example:kv/store`) and the guest in `guest/kv.wat` uses it. The
//! host keeps the stores in its own table; the guest only ever sees handles,
//! and a store's representation is its index in that table. We watch handles
//! go both ways: stores the guest opens and drops, a store the host lends to
//! the guest for one call, and one the host gives away for good.

use rivet::{BoundsMode, Store, Trap};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

// `Kv` with one method per export; the traits `KvStoreHost` (the interface
// `example:kv/store`, with its resource `store` as handle type `KvStore`) and
// `KvWorldHost` (the top-level `log` import).
rivet::component!(Kv, "kv");

/// One store of the host's table.
struct KvData {
    name: String,
    entries: HashMap<String, String>,
}

/// The host's table of stores; a freed slot is `None`.
#[derive(Default)]
struct Stores(Vec<Option<KvData>>);

impl Stores {
    fn open(&mut self, name: String) -> KvStore {
        println!("host: open store `{name}` as rep {}", self.0.len());
        self.0.push(Some(KvData {
            name,
            entries: HashMap::new(),
        }));
        KvStore::new(self.0.len() as u32 - 1)
    }

    fn get(&mut self, s: KvStore) -> Result<&mut KvData, Trap> {
        self.0
            .get_mut(s.rep() as usize)
            .and_then(Option::as_mut)
            .ok_or_else(|| Trap::host(format!("no store with rep {}", s.rep())))
    }

    fn live(&self) -> usize {
        self.0.iter().flatten().count()
    }
}

/// The host's side of the component's imports, sharing the table with `main`.
struct Host {
    stores: Arc<Mutex<Stores>>,
}

impl KvStoreHost for Host {
    fn store_new(&mut self, name: String) -> Result<KvStore, Trap> {
        Ok(self.stores.lock().unwrap().open(name))
    }

    fn store_get(&mut self, self_: KvStore, key: String) -> Result<Option<String>, Trap> {
        let mut stores = self.stores.lock().unwrap();
        let store = stores.get(self_)?;
        Ok(store.entries.get(&key).cloned())
    }

    fn store_set(&mut self, self_: KvStore, key: String, value: String) -> Result<(), Trap> {
        let mut stores = self.stores.lock().unwrap();
        let store = stores.get(self_)?;
        println!("host: {}[{key}] = {value}", store.name);
        store.entries.insert(key, value);
        Ok(())
    }

    fn store_drop(&mut self, handle: KvStore) -> Result<(), Trap> {
        let mut stores = self.stores.lock().unwrap();
        let name = stores.get(handle)?.name.clone();
        stores.0[handle.rep() as usize] = None;
        println!("host: store `{name}` (rep {}) dropped", handle.rep());
        Ok(())
    }
}

impl KvWorldHost for Host {
    fn log(&mut self, msg: String) -> Result<(), Trap> {
        println!("guest: {msg}");
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let stores = Arc::new(Mutex::new(Stores::default()));
    let mut store = Store::new(BoundsMode::Guard);
    let kv = Kv::instantiate(
        &mut store,
        Host {
            stores: stores.clone(),
        },
    )?;

    // The guest opens a store through the host's constructor and fills it.
    kv.remember(&mut store, "greeting", "hello")?;
    println!("recall greeting: {:?}", kv.recall(&mut store, "greeting")?);
    println!("recall missing: {:?}", kv.recall(&mut store, "missing")?);

    // A store of the host's own, lent to the guest for one call.
    let mine = stores.lock().unwrap().open("host-store".into());
    stores
        .lock()
        .unwrap()
        .get(mine)?
        .entries
        .insert("color".into(), "blue".into());
    println!("peek color: {:?}", kv.peek(&mut store, mine, "color")?);

    // The guest drops its store: the host's destructor runs.
    kv.close(&mut store)?;
    // The host gives its store away; the guest drops it when it closes.
    kv.adopt(&mut store, mine)?;
    println!("recall color: {:?}", kv.recall(&mut store, "color")?);
    kv.close(&mut store)?;
    println!("live stores: {}", stores.lock().unwrap().live());
    Ok(())
}
