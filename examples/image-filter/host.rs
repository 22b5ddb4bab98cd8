//! The host side of the `example:image` component, shared by
//! `examples/image_filter.rs`, `tests/image_filter.rs` and
//! `benches/image_filter.rs` (each includes this file with `#[path]`):
//! the component's bytes, its bindings generated from its WIT by
//! `componentry::bindgen!`, conversions from and to the `image-filters`
//! library's types, and loading with a `progress` import that records its
//! calls.
#![allow(dead_code)]

use componentry::{Component, Engine, Linker, Result, Store};

mod bindings {
    // The WIT types, the world's `progress` import as a trait, and the
    // `apply` export, generated from the guest's WIT.
    componentry::bindgen!({
        path: "examples/image-filter/wit",
        world: "image-filter",
        additional_derives: [PartialEq],
    });
}

pub use bindings::{
    BrightnessContrastArgs, Error as FilterError, Filter, Image, ImageFilter, ImageFilterImports,
    LengthMismatch, ResizeArgs, ResizeMethod,
};

/// The component, built from `guest/` by `tools/build-guests.sh`.
pub const COMPONENT: &[u8] = include_bytes!("image-filter.wasm");

/// Progress calls `(done, total)` the guest made, kept in the store.
pub type Progress = Vec<(u32, u32)>;

impl ImageFilterImports for Progress {
    fn progress(&mut self, done: u32, total: u32) {
        self.push((done, total));
    }
}

/// An instance of the component in its own store, whose `progress` import
/// appends to the store's data.
pub struct Filters {
    pub store: Store<Progress>,
    pub world: ImageFilter,
}

impl Filters {
    pub fn new(engine: &Engine) -> Result<Filters> {
        let component = Component::new(engine, COMPONENT)?;
        Filters::with_component(engine, &component)
    }

    pub fn with_component(engine: &Engine, component: &Component) -> Result<Filters> {
        let mut linker = Linker::<Progress>::new(engine);
        ImageFilter::add_to_linker(&mut linker, |p| p)?;
        let mut store = Store::new(engine, Vec::new());
        let world = ImageFilter::instantiate(&mut store, component, &linker)?;
        Ok(Filters { store, world })
    }

    /// Calls `apply`; the progress calls it made are in `self.store.data()`.
    pub fn apply(
        &mut self,
        img: Image,
        filter: Filter,
    ) -> Result<std::result::Result<Image, FilterError>> {
        self.store.data_mut().clear();
        self.world.call_apply(&mut self.store, &img, filter)
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
