//! `bindgen!`: Rust bindings for a WIT world, parsed at compile time.
//!
//! The output, at the invocation site:
//! - the world's own types, the world struct (exports, `instantiate`,
//!   `new`, `add_to_linker`) and, for world-level imports, a
//!   `{World}Imports` trait (and `Host{Resource}` traits);
//! - per imported interface `ns:pkg/iface`, a module `ns::pkg::iface`
//!   with its types, a `Host` trait, `Host{Resource}` traits and
//!   `add_to_linker`;
//! - per exported interface, a module `exports::ns::pkg::iface` with its
//!   types and a `Guest` struct holding its typed functions.

mod exports;
mod imports;
mod names;
mod options;
mod types;

#[cfg(test)]
mod tests;

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;
use syn::{LitStr, Path};
use wit_parser::{
    InterfaceId, PackageId, Resolve, TypeId, TypeOwner, WorldId, WorldItem, WorldKey,
};

pub use options::Options;
use options::Trappable;

/// Which side of the world a module is generated for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Import,
    Export,
}

/// Where code is generated: the module's depth below the invocation site
/// (for relative paths) and its side.
pub struct Ctx {
    pub depth: usize,
    pub side: Side,
}

/// An interface of the world on one side.
pub struct IfaceInfo {
    /// The instance name: `ns:pkg/iface@version`, or a plain name.
    pub name: String,
    /// The module path below the invocation site.
    pub path: Vec<Ident>,
    /// A `with` mapping to an existing module (imports only).
    pub with: Option<Path>,
}

pub struct Gen<'a> {
    pub resolve: &'a Resolve,
    pub world: WorldId,
    pub opts: &'a Options,
    pub imports: HashMap<InterfaceId, IfaceInfo>,
    pub exports: HashMap<InterfaceId, IfaceInfo>,
    /// Which `with` entries were used.
    with_used: Vec<Cell<bool>>,
    /// Which `trappable_imports` names were used.
    trap_used: Vec<Cell<bool>>,
}

/// A module of the output.
#[derive(Default)]
struct Tree {
    doc: String,
    items: TokenStream,
    children: BTreeMap<String, Tree>,
}

impl Tree {
    fn at(&mut self, path: &[Ident]) -> &mut Tree {
        let mut t = self;
        for seg in path {
            t = t.children.entry(seg.to_string()).or_default();
        }
        t
    }

    fn render(self) -> TokenStream {
        let mut out = self.items;
        for (name, child) in self.children {
            let ident = Ident::new(&name, Span::call_site());
            let doc = if child.doc.is_empty() {
                format!(" Bindings under `{name}`.")
            } else {
                child.doc.clone()
            };
            let inner = child.render();
            out.extend(quote! {
                #[doc = #doc]
                #[allow(clippy::all, unused_imports, unused_variables, unused_mut, non_camel_case_types)]
                pub mod #ident { #inner }
            });
        }
        out
    }
}

pub fn expand(opts: Options) -> syn::Result<TokenStream> {
    let (resolve, world, files) = load(&opts)?;
    let mut g = Gen::new(&resolve, world, &opts);
    let out = g.generate()?;
    g.check_unused()?;
    let files = files.iter().map(|f| f.display().to_string());
    Ok(quote! {
        #(const _: &[u8] = include_bytes!(#files);)*
        #out
    })
}

/// Parses the WIT and selects the world; returns the files read.
fn load(opts: &Options) -> syn::Result<(Resolve, WorldId, Vec<PathBuf>)> {
    let mut resolve = Resolve::default();
    let mut pkgs: Vec<PackageId> = Vec::new();
    let mut files = Vec::new();
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let (path, span) = match (&opts.path, &opts.inline) {
        (Some(p), _) => (Some(p.value()), p.span()),
        (None, None) => (Some(String::from("wit")), opts.span),
        (None, Some(_)) => (None, opts.span),
    };
    if let Some(path) = path {
        let full = root.join(&path);
        if !full.exists() {
            return Err(syn::Error::new(
                span,
                format!(
                    "WIT path `{path}` not found (looked for {})",
                    full.display()
                ),
            ));
        }
        let (pkg, map) = resolve
            .push_path(&full)
            .map_err(|e| syn::Error::new(span, format!("{e:#}")))?;
        pkgs.push(pkg);
        files.extend(map.paths().map(PathBuf::from));
    }
    if let Some(inline) = &opts.inline {
        let pkg = resolve
            .push_str("inline.wit", &inline.value())
            .map_err(|e| syn::Error::new(inline.span(), format!("{e:#}")))?;
        pkgs.push(pkg);
    }
    let world = resolve
        .select_world(&pkgs, opts.world.as_ref().map(LitStr::value).as_deref())
        .map_err(|e| {
            let span = opts.world.as_ref().map_or(opts.span, LitStr::span);
            syn::Error::new(span, format!("{e:#}"))
        })?;
    Ok((resolve, world, files))
}

impl<'a> Gen<'a> {
    fn new(resolve: &'a Resolve, world: WorldId, opts: &'a Options) -> Self {
        let trap_n = match &opts.trappable {
            Trappable::Only(v) => v.len(),
            _ => 0,
        };
        let mut g = Gen {
            resolve,
            world,
            opts,
            imports: HashMap::new(),
            exports: HashMap::new(),
            with_used: (0..opts.with.len()).map(|_| Cell::new(false)).collect(),
            trap_used: (0..trap_n).map(|_| Cell::new(false)).collect(),
        };
        let w = &resolve.worlds[world];
        for (key, item) in &w.imports {
            if let WorldItem::Interface { id, .. } = item {
                let info = g.iface_info(key, *id, Side::Import);
                g.imports.insert(*id, info);
            }
        }
        for (key, item) in &w.exports {
            if let WorldItem::Interface { id, .. } = item {
                let info = g.iface_info(key, *id, Side::Export);
                g.exports.insert(*id, info);
            }
        }
        g
    }

    fn iface_info(&self, key: &WorldKey, id: InterfaceId, side: Side) -> IfaceInfo {
        let name = self.resolve.name_world_key(key);
        let mut path = Vec::new();
        if side == Side::Export {
            path.push(Ident::new("exports", Span::call_site()));
        }
        match key {
            WorldKey::Name(n) => path.push(names::snake(n)),
            WorldKey::Interface(_) => {
                let iface = &self.resolve.interfaces[id];
                if let Some(pkg) = iface.package {
                    let p = &self.resolve.packages[pkg].name;
                    path.push(names::snake(&p.namespace));
                    let same = self
                        .resolve
                        .packages
                        .iter()
                        .filter(|(_, q)| q.name.namespace == p.namespace && q.name.name == p.name)
                        .count();
                    match (&p.version, same > 1) {
                        (Some(v), true) => {
                            let v = v.to_string().replace(['.', '-', '+'], "_");
                            path.push(names::snake(&format!("{}{v}", p.name)));
                        }
                        _ => path.push(names::snake(&p.name)),
                    }
                }
                path.push(names::snake(iface.name.as_deref().unwrap_or("interface")));
            }
        }
        let with = if side == Side::Import {
            self.with_for(&[name.clone(), self.resolve.id_of(id).unwrap_or_default()])
        } else {
            None
        };
        IfaceInfo { name, path, with }
    }

    /// The `with` path for the first of `keys` it names.
    fn with_for(&self, keys: &[String]) -> Option<Path> {
        for (i, (k, p)) in self.opts.with.iter().enumerate() {
            if keys.iter().any(|key| !key.is_empty() && *key == k.value()) {
                self.with_used[i].set(true);
                return Some(p.clone());
            }
        }
        None
    }

    /// The `with` path for named type `id` (`ns:pkg/iface/name`, or the
    /// plain name of a world's type).
    pub fn with_type(&self, id: TypeId) -> Option<Path> {
        let def = &self.resolve.types[id];
        let name = def.name.as_deref()?;
        let keys = match def.owner {
            TypeOwner::Interface(i) => {
                let mut keys = Vec::new();
                if let Some(info) = self.imports.get(&i) {
                    keys.push(format!("{}/{name}", info.name));
                }
                if let Some(base) = self.resolve.id_of(i) {
                    keys.push(format!("{base}/{name}"));
                }
                keys
            }
            _ => vec![name.to_string()],
        };
        // Exported interfaces' types are generated, not mapped.
        if let TypeOwner::Interface(i) = def.owner {
            if !self.imports.contains_key(&i) {
                return None;
            }
        }
        self.with_for(&keys)
    }

    /// Whether imported function `f` returns `componentry::Result`.
    pub fn trappable(&self, f: &wit_parser::Function) -> bool {
        match &self.opts.trappable {
            Trappable::None => false,
            Trappable::All => true,
            Trappable::Only(names) => {
                let mut hit = false;
                for (i, n) in names.iter().enumerate() {
                    if n.value() == f.name {
                        self.trap_used[i].set(true);
                        hit = true;
                    }
                }
                hit
            }
        }
    }

    fn check_unused(&self) -> syn::Result<()> {
        for (i, (k, _)) in self.opts.with.iter().enumerate() {
            if !self.with_used[i].get() {
                return Err(syn::Error::new(
                    k.span(),
                    format!(
                        "`with` key `{}` names no imported interface or type of this world",
                        k.value()
                    ),
                ));
            }
        }
        if let Trappable::Only(names) = &self.opts.trappable {
            for (i, n) in names.iter().enumerate() {
                if !self.trap_used[i].get() {
                    return Err(syn::Error::new(
                        n.span(),
                        format!("`{}` is no imported function of this world", n.value()),
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn err(&self, msg: impl std::fmt::Display) -> syn::Error {
        syn::Error::new(self.opts.span, msg.to_string())
    }

    /// The relative path prefix from `ctx`'s module to the module `path`
    /// (below the invocation site), ending in `::` unless empty.
    pub fn rel(&self, ctx: &Ctx, path: &[Ident]) -> TokenStream {
        let supers = (0..ctx.depth).map(|_| quote!(super::));
        quote!(#(#supers)* #(#path::)*)
    }

    fn generate(&mut self) -> syn::Result<TokenStream> {
        let mut tree = Tree::default();
        let w = &self.resolve.worlds[self.world];
        let mut imported: Vec<(&WorldKey, InterfaceId)> = Vec::new();
        for (key, item) in &w.imports {
            if let WorldItem::Interface { id, .. } = item {
                imported.push((key, *id));
            }
        }
        for (_, id) in &imported {
            let info = &self.imports[id];
            if info.with.is_some() {
                continue;
            }
            let ctx = Ctx {
                depth: info.path.len(),
                side: Side::Import,
            };
            let items = self.import_interface(&ctx, *id, info)?;
            let t = tree.at(&info.path);
            t.items.extend(items);
            t.doc = iface_doc(self.resolve, *id, &info.name, "imported");
        }
        let mut exported = Vec::new();
        for (key, item) in &w.exports {
            if let WorldItem::Interface { id, .. } = item {
                exported.push((key, *id));
            }
        }
        for (_, id) in &exported {
            let info = &self.exports[id];
            let ctx = Ctx {
                depth: info.path.len(),
                side: Side::Export,
            };
            let items = self.export_interface(&ctx, *id, info)?;
            let t = tree.at(&info.path);
            t.items.extend(items);
            t.doc = iface_doc(self.resolve, *id, &info.name, "exported");
        }
        if !exported.is_empty() {
            tree.at(&[Ident::new("exports", Span::call_site())]).doc =
                String::from(" The world's exported interfaces.");
        }
        let root = Ctx {
            depth: 0,
            side: Side::Import,
        };
        // World-level types (imported types and `use`s).
        let world_types: Vec<(&String, &TypeId)> = w
            .imports
            .iter()
            .filter_map(|(k, item)| match (k, item) {
                (WorldKey::Name(n), WorldItem::Type { id, .. }) => Some((n, id)),
                _ => None,
            })
            .collect();
        tree.items
            .extend(self.define_types(&root, world_types.into_iter())?);
        tree.items.extend(self.world_imports(&root)?);
        tree.items
            .extend(self.world_struct(&root, &imported, &exported)?);
        Ok(tree.render())
    }
}

fn iface_doc(resolve: &Resolve, id: InterfaceId, name: &str, side: &str) -> String {
    match &resolve.interfaces[id].docs.contents {
        Some(d) if !d.trim().is_empty() => d.lines().map(|l| format!(" {l}\n")).collect(),
        _ => format!(" The {side} interface `{name}`."),
    }
}
