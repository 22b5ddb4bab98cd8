//! `--invoke 'name(arg, ...)'`: finds the exported function, parses the
//! arguments in WAVE against its parameter types, calls it and prints the
//! result in WAVE.

use componentry::{Component, ComponentItem, Func, Instance, Store, Val};
use componentry_wasi::WasiCtx;

use crate::failure::Failure;
use crate::wave::{self, Call};

/// Calls the function `text` names with its arguments; prints the result
/// (if the function has one) on stdout. The exit code is 0, or the guest's
/// if it called `wasi:cli/exit`.
pub fn invoke(
    store: &mut Store<WasiCtx>,
    component: &Component,
    instance: &Instance,
    text: &str,
) -> Result<i32, Failure> {
    let (interface, call_text) = split_interface(text);
    let call = Call::parse(call_text).map_err(|e| Failure::Setup(format!("--invoke: {e}")))?;
    let func = find(store, component, instance, interface, call.name())?;
    let ty = func.ty();
    let params = call
        .args(&ty.params)
        .map_err(|e| Failure::Setup(format!("--invoke: {e}")))?;
    let mut results = vec![Val::Bool(false); usize::from(ty.result.is_some())];
    if let Err(e) = func.call(&mut *store, &params, &mut results) {
        if componentry_wasi::is_exit(&e) {
            return Ok(store.data().exit_code().unwrap_or(1));
        }
        return Err(Failure::Run(e));
    }
    if let (Some(t), Some(v)) = (&ty.result, results.first()) {
        let text =
            wave::to_text(v, t).map_err(|e| Failure::Setup(format!("printing the result: {e}")))?;
        println!("{text}");
    }
    Ok(0)
}

/// `ns:pkg/iface#name(...)` → (`Some("ns:pkg/iface")`, `name(...)`).
fn split_interface(text: &str) -> (Option<&str>, &str) {
    let head = text.split('(').next().unwrap_or(text);
    match head.rfind('#') {
        Some(i) => (Some(text[..i].trim()), &text[i + 1..]),
        None => (None, text),
    }
}

/// The function: in `interface` if given; else a root export, else the one
/// exported instance's function of that name.
fn find(
    store: &mut Store<WasiCtx>,
    component: &Component,
    instance: &Instance,
    interface: Option<&str>,
    name: &str,
) -> Result<Func, Failure> {
    let not_found = |what: String| {
        Failure::Setup(format!(
            "--invoke: {what}; the component exports:{}",
            describe_exports(component)
        ))
    };
    if let Some(iface) = interface {
        return instance
            .get_instance_func(&mut *store, iface, name)
            .ok_or_else(|| not_found(format!("no function `{name}` in export `{iface}`")));
    }
    if let Some(f) = instance.get_func(&mut *store, name) {
        return Ok(f);
    }
    let holders: Vec<String> = component
        .exports()
        .into_iter()
        .filter(|(_, item)| match item {
            ComponentItem::Instance(items) => items
                .iter()
                .any(|(n, i)| n == name && matches!(i, ComponentItem::Func(_))),
            _ => false,
        })
        .map(|(n, _)| n)
        .collect();
    match holders.as_slice() {
        [iface] => instance
            .get_instance_func(&mut *store, iface, name)
            .ok_or_else(|| not_found(format!("no function `{name}`"))),
        [] => Err(not_found(format!("no exported function `{name}`"))),
        many => Err(Failure::Setup(format!(
            "--invoke: `{name}` is exported by {}; say which with INTERFACE#{name}(...)",
            many.join(", ")
        ))),
    }
}

/// The component's exported functions with their types, for messages.
pub fn describe_exports(component: &Component) -> String {
    let mut out = Vec::new();
    for (name, item) in component.exports() {
        match item {
            ComponentItem::Func(ty) => out.push(format!("{name}: {ty}")),
            ComponentItem::Instance(items) => {
                for (n, i) in items {
                    if let ComponentItem::Func(ty) = i {
                        out.push(format!("{name}#{n}: {ty}"));
                    }
                }
            }
            _ => {}
        }
    }
    if out.is_empty() {
        "no functions".to_string()
    } else {
        out.iter().map(|f| format!("\n  {f}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::split_interface;

    #[test]
    fn interface_prefix() {
        assert_eq!(split_interface("f(1)"), (None, "f(1)"));
        assert_eq!(
            split_interface("ns:pkg/iface@1.0.0#f(\"#\")"),
            (Some("ns:pkg/iface@1.0.0"), "f(\"#\")")
        );
        assert_eq!(split_interface("f(\"a#b\")"), (None, "f(\"a#b\")"));
    }
}
