//! The host side of the `example:image` component, shared by
//! `examples/image_filter.rs`, `tests/image_filter.rs` and
//! `benches/image_filter.rs` (each includes this file with `#[path]`):
//! the component's bytes, Rust types mirroring its WIT types for the typed
//! API, conversions from and to the `image-filters` library's types, and
//! loading with a `progress` import that records its calls.
#![allow(dead_code)]

use componentry::{
    Component, ComponentType, Engine, Lift, Linker, Lower, Result, Store, TypedFunc,
};

/// The component, built from `guest/` by `tools/build-guests.sh`.
pub const COMPONENT: &[u8] = include_bytes!("image-filter.wasm");

/// WIT `image`.
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq, Eq)]
pub struct Image {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

/// WIT `resize-method`.
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResizeMethod {
    Nearest,
    Bilinear,
}

/// WIT `resize-args`.
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResizeArgs {
    pub width: u32,
    pub height: u32,
    pub method: ResizeMethod,
}

/// WIT `brightness-contrast-args`.
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq)]
pub struct BrightnessContrastArgs {
    pub brightness: i32,
    pub contrast: f32,
}

/// WIT `filter`.
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq)]
pub enum Filter {
    Grayscale,
    BoxBlur(u32),
    Resize(ResizeArgs),
    BrightnessContrast(BrightnessContrastArgs),
}

/// WIT `length-mismatch`.
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq, Eq)]
pub struct LengthMismatch {
    pub expected: u32,
    pub actual: u32,
}

/// WIT `error`.
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterError {
    BadDimensions,
    BufferLengthMismatch(LengthMismatch),
}

/// The typed `apply` export.
pub type Apply = TypedFunc<(Image, Filter), std::result::Result<Image, FilterError>>;

/// Progress calls `(done, total)` the guest made, kept in the store.
pub type Progress = Vec<(u32, u32)>;

/// An instance of the component in its own store, whose `progress` import
/// appends to the store's data.
pub struct Filters {
    pub store: Store<Progress>,
    pub apply: Apply,
}

impl Filters {
    pub fn new(engine: &Engine) -> Result<Filters> {
        let component = Component::new(engine, COMPONENT)?;
        Filters::with_component(engine, &component)
    }

    pub fn with_component(engine: &Engine, component: &Component) -> Result<Filters> {
        let mut linker = Linker::<Progress>::new(engine);
        linker
            .root()
            .func_wrap("progress", |mut cx, (done, total): (u32, u32)| {
                cx.data_mut().push((done, total));
                Ok(())
            })?;
        let mut store = Store::new(engine, Vec::new());
        let instance = linker.instantiate(&mut store, component)?;
        let apply = instance
            .get_func(&mut store, "apply")
            .ok_or_else(|| componentry::Error::usage("the component has no `apply` export"))?
            .typed(&mut store)?;
        Ok(Filters { store, apply })
    }

    /// Calls `apply`; the progress calls it made are in `self.store.data()`.
    pub fn apply(
        &mut self,
        img: Image,
        filter: Filter,
    ) -> Result<std::result::Result<Image, FilterError>> {
        self.store.data_mut().clear();
        self.apply.call(&mut self.store, (img, filter))
    }
}

impl From<image_filters::Image> for Image {
    fn from(i: image_filters::Image) -> Self {
        Image {
            width: i.width,
            height: i.height,
            pixels: i.pixels,
        }
    }
}

impl From<Image> for image_filters::Image {
    fn from(i: Image) -> Self {
        image_filters::Image {
            width: i.width,
            height: i.height,
            pixels: i.pixels,
        }
    }
}

impl From<Filter> for image_filters::Filter {
    fn from(f: Filter) -> Self {
        use image_filters::Filter as F;
        match f {
            Filter::Grayscale => F::Grayscale,
            Filter::BoxBlur(r) => F::BoxBlur(r),
            Filter::Resize(a) => F::Resize {
                width: a.width,
                height: a.height,
                method: match a.method {
                    ResizeMethod::Nearest => image_filters::ResizeMethod::Nearest,
                    ResizeMethod::Bilinear => image_filters::ResizeMethod::Bilinear,
                },
            },
            Filter::BrightnessContrast(a) => F::BrightnessContrast {
                brightness: a.brightness,
                contrast: a.contrast,
            },
        }
    }
}

impl From<image_filters::Error> for FilterError {
    fn from(e: image_filters::Error) -> Self {
        match e {
            image_filters::Error::BadDimensions => FilterError::BadDimensions,
            image_filters::Error::BufferLengthMismatch { expected, actual } => {
                FilterError::BufferLengthMismatch(LengthMismatch { expected, actual })
            }
        }
    }
}

/// The same filter run natively by the library, with its progress calls.
pub fn native(img: &Image, filter: Filter) -> (std::result::Result<Image, FilterError>, Progress) {
    let lib_img = image_filters::Image {
        width: img.width,
        height: img.height,
        pixels: img.pixels.clone(),
    };
    let mut calls = Vec::new();
    let r = image_filters::apply(&lib_img, &filter.into(), &mut |d, t| calls.push((d, t)));
    (r.map(Image::from).map_err(FilterError::from), calls)
}
