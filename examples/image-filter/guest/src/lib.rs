//! The `example:image` component: the `image-filters` library behind the
//! world's `apply` export, reporting progress through the `progress` import.

wit_bindgen::generate!({
    path: "../wit",
    world: "image-filter",
});

use image_filters as lib;

struct ImageFilter;

impl Guest for ImageFilter {
    fn apply(img: Image, f: Filter) -> Result<Image, Error> {
        let img = lib::Image {
            width: img.width,
            height: img.height,
            pixels: img.pixels,
        };
        let f = match f {
            Filter::Grayscale => lib::Filter::Grayscale,
            Filter::BoxBlur(r) => lib::Filter::BoxBlur(r),
            Filter::Resize(a) => lib::Filter::Resize {
                width: a.width,
                height: a.height,
                method: match a.method {
                    ResizeMethod::Nearest => lib::ResizeMethod::Nearest,
                    ResizeMethod::Bilinear => lib::ResizeMethod::Bilinear,
                },
            },
            Filter::BrightnessContrast(a) => lib::Filter::BrightnessContrast {
                brightness: a.brightness,
                contrast: a.contrast,
            },
        };
        match lib::apply(&img, &f, &mut progress) {
            Ok(out) => Ok(Image {
                width: out.width,
                height: out.height,
                pixels: out.pixels,
            }),
            Err(lib::Error::BadDimensions) => Err(Error::BadDimensions),
            Err(lib::Error::BufferLengthMismatch { expected, actual }) => {
                Err(Error::BufferLengthMismatch(LengthMismatch {
                    expected,
                    actual,
                }))
            }
        }
    }
}

export!(ImageFilter);
