//! Loading, instantiating and calling an arbitrary component: what the
//! `load` and `valid_modules` targets share.

use std::sync::Arc;

use arbitrary::Unstructured;
use componentry::{
    Component, ComponentItem, Config, Engine, Error, ErrorKind, ExportIndex, Func, FuncType,
    Instance, Linker, LinkerInstance, Resource, ResourceAny, ResourceType, Store, StoreContextMut,
    StoreLimitsBuilder, Type, Val,
};

use super::values::{arb_val, conforms, default_val, resources_in, VALUE_BUDGET};

/// The host resource type every resource import is defined as.
pub struct FuzzRes;

/// Fuel for instantiation and for each call: enough for real work, little
/// enough that an endless loop ends in milliseconds.
pub const FUEL: u64 = 100_000;

/// At most this many export calls per input.
const MAX_CALLS: usize = 24;

/// At most this many exported functions are collected.
const MAX_FUNCS: usize = 64;

/// What one host function does when called.
#[derive(Clone, Copy)]
enum HostMode {
    Trap,
    Default,
    Arbitrary,
}

/// A fuel-metered engine, with the lift budget of the host-memory oracle.
pub fn engine() -> Engine {
    let mut config = Config::new();
    config
        .consume_fuel(true)
        .max_lifted_bytes_per_call(super::host_memory::LIFT_BYTES);
    Engine::new(&config)
}

/// What [`exercise`] got to, for harnesses that expect a given depth.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Reached {
    /// Why loading failed, if it did.
    pub load_error: Option<ErrorKind>,
    pub loaded: bool,
    pub instantiated: bool,
    pub calls: usize,
    pub calls_ok: usize,
}

/// Loads `bytes`; for what loads, defines every import as a host function
/// (trapping, or answering default or arbitrary values of the right
/// type), instantiates, and calls every exported function with arbitrary
/// arguments of the right type drawn from `u`. Panics only when
/// componentry breaks an invariant (a lifted value that is not of its
/// type, an export listed but not found, a well-typed argument refused).
pub fn exercise(engine: &Engine, bytes: &[u8], u: &mut Unstructured<'_>) -> Reached {
    let mut reached = Reached::default();
    let component = match Component::new(engine, bytes) {
        Ok(c) => c,
        Err(e) => {
            check_error(&e);
            reached.load_error = Some(e.kind().clone());
            return reached;
        }
    };
    reached.loaded = true;

    let mut linker: Linker<()> = Linker::new(engine);
    let imports: Vec<(String, ComponentItem)> = component
        .imports()
        .map(|(n, i)| (n.to_string(), i))
        .collect();
    for (name, item) in &imports {
        define_root(&mut linker, name, item, u);
    }

    let mut store = Store::new(engine, ());
    store.limiter(
        StoreLimitsBuilder::new()
            .store_bytes(super::host_memory::STORE_BYTES)
            .build(),
    );
    store.set_fuel(FUEL).expect("fuel is enabled");
    let instance = match linker.instantiate(&mut store, &component) {
        Ok(i) => i,
        Err(e) => {
            check_error(&e);
            return reached;
        }
    };
    reached.instantiated = true;

    let mut funcs = Vec::new();
    for (name, item) in component.exports() {
        if !matches!(item, ComponentItem::Func(_) | ComponentItem::Instance(_)) {
            continue;
        }
        let idx = instance
            .get_export(&mut store, None, &name)
            .unwrap_or_else(|| panic!("export `{name}` is listed but get_export finds nothing"));
        collect_funcs(&instance, &mut store, &name, idx, &item, &mut funcs);
    }

    // Owned handles that exports returned, passed back to later calls.
    let mut pool = Vec::new();
    for _ in 0..MAX_CALLS {
        if funcs.is_empty() || u.is_empty() {
            break;
        }
        let i = u.int_in_range(0..=funcs.len() - 1).unwrap_or(0);
        let (path, func, ty) = &funcs[i];
        reached.calls += 1;
        if call(&mut store, path, func, ty, u, &mut pool) {
            reached.calls_ok += 1;
        }
    }
    // Calls with no bytes left, once each, so every export runs at least once.
    if reached.calls == 0 {
        for (path, func, ty) in funcs.iter().take(MAX_CALLS) {
            reached.calls += 1;
            if call(&mut store, path, func, ty, u, &mut pool) {
                reached.calls_ok += 1;
            }
        }
    }
    // Dropping what is left runs destructors.
    for h in pool {
        store.set_fuel(FUEL).expect("fuel is enabled");
        let _ = h.resource_drop(&mut store);
    }
    reached
}

/// At most this many returned handles are kept for later calls.
const MAX_POOL: usize = 8;

/// Errors are fine; their messages must be printable (no panics inside
/// `Display`).
fn check_error(e: &Error) {
    let _ = format!("{e} {:?} {}", e.kind(), e.message());
}

fn collect_funcs(
    instance: &Instance,
    store: &mut Store<()>,
    path: &str,
    idx: ExportIndex,
    item: &ComponentItem,
    out: &mut Vec<(String, Func, FuncType)>,
) {
    if out.len() >= MAX_FUNCS {
        return;
    }
    match item {
        ComponentItem::Func(ty) => {
            let f = instance
                .get_func(&mut *store, &idx)
                .unwrap_or_else(|| panic!("export `{path}` is listed as a function but is none"));
            assert_eq!(
                &f.ty(),
                ty,
                "`{path}`: Func::ty differs from Component::exports"
            );
            out.push((path.to_string(), f, ty.clone()));
        }
        ComponentItem::Instance(items) => {
            for (name, item) in items {
                let inner = instance
                    .get_export(&mut *store, Some(&idx), name)
                    .unwrap_or_else(|| panic!("export `{path}#{name}` is listed but not found"));
                collect_funcs(instance, store, &format!("{path}#{name}"), inner, item, out);
            }
        }
        _ => {}
    }
}

/// Calls `func` once with arbitrary arguments; true if it returned.
fn call(
    store: &mut Store<()>,
    path: &str,
    func: &Func,
    ty: &FuncType,
    u: &mut Unstructured<'_>,
    pool: &mut Vec<ResourceAny>,
) -> bool {
    let mut budget = VALUE_BUDGET;
    let mut params = Vec::with_capacity(ty.params.len());
    // Which handles come from the pool (bit set) or are new host handles.
    let mut picks: u32 = u.arbitrary().unwrap_or(0);
    for (_, t) in &ty.params {
        let v = arb_val(u, t, &mut budget, &mut |own| {
            let from_pool = picks & 1 == 1;
            let i = (picks >> 1) as usize;
            picks = picks.rotate_right(3);
            if from_pool && !pool.is_empty() {
                let i = i % pool.len();
                // An owned handle moves into the callee; a borrow lends it.
                let h = if own { pool.swap_remove(i) } else { pool[i] };
                return Some(Val::Resource(h));
            }
            let rep = 1;
            let r = if own {
                Resource::<FuzzRes>::new_own(rep)
            } else {
                Resource::<FuzzRes>::new_borrow(rep)
            };
            ResourceAny::try_from_resource(r, &mut *store)
                .ok()
                .map(Val::Resource)
        });
        params.push(v);
    }
    let mut results = vec![Val::Bool(false); usize::from(ty.result.is_some())];
    store.set_fuel(FUEL).expect("fuel is enabled");
    match func.call(&mut *store, &params, &mut results) {
        Ok(()) => {
            if let Some(t) = &ty.result {
                assert!(
                    conforms(&results[0], t),
                    "`{path}` returned {:?}, not a value of {t}",
                    results[0]
                );
                let mut handles = Vec::new();
                resources_in(&results[0], &mut handles);
                for h in handles {
                    if h.owned() {
                        if pool.len() < MAX_POOL {
                            pool.push(h);
                        } else {
                            store.set_fuel(FUEL).expect("fuel is enabled");
                            let _ = h.resource_drop(&mut *store);
                        }
                    }
                }
            }
            true
        }
        Err(e) => {
            check_error(&e);
            let typed_ok = ty.params.iter().all(|(_, t)| !has_handles(t))
                && params
                    .iter()
                    .zip(&ty.params)
                    .all(|(v, (_, t))| conforms(v, t));
            if typed_ok {
                assert!(
                    *e.kind() != ErrorKind::Usage,
                    "`{path}` refused well-typed arguments {params:?}: {e}"
                );
            }
            false
        }
    }
}

fn has_handles(t: &Type) -> bool {
    match t {
        Type::Own(_) | Type::Borrow(_) => true,
        Type::List(t) | Type::Option(t) => has_handles(t),
        Type::Record(fs) => fs.iter().any(|(_, t)| has_handles(t)),
        Type::Tuple(ts) => ts.iter().any(has_handles),
        Type::Variant(cs) => cs.iter().any(|(_, t)| t.as_ref().is_some_and(has_handles)),
        Type::Result { ok, err } => {
            ok.as_deref().is_some_and(has_handles) || err.as_deref().is_some_and(has_handles)
        }
        _ => false,
    }
}

fn define_root(
    linker: &mut Linker<()>,
    name: &str,
    item: &ComponentItem,
    u: &mut Unstructured<'_>,
) {
    match item {
        ComponentItem::Instance(items) => {
            if let Ok(mut inst) = linker.instance(name) {
                for (n, i) in items {
                    define(&mut inst, n, i, u);
                }
            }
        }
        _ => define(&mut linker.root(), name, item, u),
    }
}

fn define(
    ns: &mut LinkerInstance<'_, ()>,
    name: &str,
    item: &ComponentItem,
    u: &mut Unstructured<'_>,
) {
    match item {
        ComponentItem::Func(ty) => {
            let mode = match u.arbitrary::<u8>().unwrap_or(1) % 4 {
                0 => HostMode::Trap,
                1 | 2 => HostMode::Default,
                _ => HostMode::Arbitrary,
            };
            let len = u.int_in_range(0..=64usize).unwrap_or(0);
            let seed: Arc<[u8]> = u.bytes(len).unwrap_or(&[]).into();
            let ty = ty.clone();
            let path = name.to_string();
            let _ = ns.func_new(name, move |cx, params, results| {
                host(cx, &path, &ty, mode, &seed, params, results)
            });
        }
        ComponentItem::Instance(items) => {
            if let Ok(mut inner) = ns.instance(name) {
                for (n, i) in items {
                    define(&mut inner, n, i, u);
                }
            }
        }
        // Type imports need nothing; resource type imports need a resource.
        ComponentItem::Type => {
            let _ = ns.resource(name, ResourceType::host::<FuzzRes>(), |_, _| Ok(()));
        }
        _ => {}
    }
}

fn host(
    mut cx: StoreContextMut<'_, ()>,
    path: &str,
    ty: &FuncType,
    mode: HostMode,
    seed: &[u8],
    params: &[Val],
    results: &mut [Val],
) -> componentry::Result<()> {
    assert_eq!(
        params.len(),
        ty.params.len(),
        "host `{path}`: argument count"
    );
    for (v, (n, t)) in params.iter().zip(&ty.params) {
        assert!(
            conforms(v, t),
            "host `{path}`: argument `{n}` = {v:?} is not a value of {t}"
        );
    }
    assert_eq!(
        results.len(),
        usize::from(ty.result.is_some()),
        "host `{path}`: result slots"
    );
    // Drop the owned handles we were given, as a host would.
    let mut handles = Vec::new();
    params.iter().for_each(|v| resources_in(v, &mut handles));
    for h in handles {
        if h.owned() {
            let _ = h.resource_drop(&mut cx);
        }
    }
    let Some(rt) = &ty.result else {
        return match mode {
            HostMode::Trap => Err(Error::host("fuzz host trap")),
            _ => Ok(()),
        };
    };
    let mut res = |own: bool| {
        let r = if own {
            Resource::<FuzzRes>::new_own(2)
        } else {
            Resource::<FuzzRes>::new_borrow(2)
        };
        ResourceAny::try_from_resource(r, &mut cx)
            .ok()
            .map(Val::Resource)
    };
    results[0] = match mode {
        HostMode::Trap => return Err(Error::host("fuzz host trap")),
        HostMode::Default => default_val(rt, &mut res),
        HostMode::Arbitrary => {
            let mut u = Unstructured::new(seed);
            let mut budget = VALUE_BUDGET;
            arb_val(&mut u, rt, &mut budget, &mut res)
        }
    };
    Ok(())
}
