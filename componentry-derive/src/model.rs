//! The shape of a derive input: a record, a variant or an enum.

use crate::names::component_name;
use syn::{Data, DeriveInput, Fields, Ident, Type};

/// A record field or a variant case.
pub struct Member {
    pub ident: Ident,
    pub name: String,
    /// The field's type, or the case's payload type.
    pub ty: Option<Type>,
}

pub enum Shape {
    /// A struct with named fields.
    Record(Vec<Member>),
    /// An enum with at least one case carrying a payload.
    Variant(Vec<Member>),
    /// An enum whose cases all carry nothing.
    Enum(Vec<Member>),
}

impl Shape {
    pub fn of(input: &DeriveInput) -> syn::Result<Shape> {
        match &input.data {
            Data::Struct(s) => {
                let Fields::Named(named) = &s.fields else {
                    return Err(syn::Error::new_spanned(
                        &input.ident,
                        "a component record needs named fields",
                    ));
                };
                if named.named.is_empty() {
                    return Err(syn::Error::new_spanned(
                        &input.ident,
                        "a component record needs at least one field",
                    ));
                }
                let fields = named
                    .named
                    .iter()
                    .map(|f| {
                        let ident = f.ident.clone().expect("named field");
                        Ok(Member {
                            name: component_name(&ident.to_string(), &f.attrs)?,
                            ident,
                            ty: Some(f.ty.clone()),
                        })
                    })
                    .collect::<syn::Result<_>>()?;
                Ok(Shape::Record(fields))
            }
            Data::Enum(e) => {
                if e.variants.is_empty() {
                    return Err(syn::Error::new_spanned(
                        &input.ident,
                        "a component variant or enum needs at least one case",
                    ));
                }
                let mut cases = Vec::new();
                for v in &e.variants {
                    let ty = match &v.fields {
                        Fields::Unit => None,
                        Fields::Unnamed(f) if f.unnamed.len() == 1 => Some(f.unnamed[0].ty.clone()),
                        _ => {
                            return Err(syn::Error::new_spanned(
                                v,
                                "a component variant case carries at most one unnamed payload",
                            ))
                        }
                    };
                    cases.push(Member {
                        name: component_name(&v.ident.to_string(), &v.attrs)?,
                        ident: v.ident.clone(),
                        ty,
                    });
                }
                if cases.iter().all(|c| c.ty.is_none()) {
                    Ok(Shape::Enum(cases))
                } else {
                    Ok(Shape::Variant(cases))
                }
            }
            Data::Union(_) => Err(syn::Error::new_spanned(
                &input.ident,
                "unions have no component type",
            )),
        }
    }

    /// The types of the fields or payloads, in order.
    pub fn types(&self) -> impl Iterator<Item = &Type> {
        let members = match self {
            Shape::Record(m) | Shape::Variant(m) | Shape::Enum(m) => m,
        };
        members.iter().filter_map(|m| m.ty.as_ref())
    }
}
