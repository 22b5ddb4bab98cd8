//! The image-filter example: a Rust library (`examples/image-filter/filters`)
//! compiled to a WebAssembly component with wit-bindgen
//! (`examples/image-filter/guest`, WIT in `examples/image-filter/wit`), run
//! by componentry through bindings generated from that WIT (`bindgen!`).
//! The host reads a binary PPM (P6) image, calls the component's `apply`,
//! shows the `progress` the guest reports through its import, and writes
//! the result as PPM.
//!
//! ```text
//! cargo run --example image-filter -- input.ppm output.ppm grayscale
//! cargo run --example image-filter -- input.ppm output.ppm box-blur 3
//! cargo run --example image-filter -- input.ppm output.ppm resize 640 480 [nearest|bilinear]
//! cargo run --example image-filter -- input.ppm output.ppm brightness-contrast 20 1.3
//! ```

#[path = "image-filter/host.rs"]
mod host;

use std::process::ExitCode;
use std::time::Instant;

use componentry::{Component, Engine, Linker, Store};
use host::{
    BrightnessContrastArgs, Filter, FilterError, Image, ImageFilter, ImageFilterImports,
    LengthMismatch, ResizeArgs, ResizeMethod,
};

type BoxError = Box<dyn std::error::Error>;

const USAGE: &str = "usage: image-filter INPUT.ppm OUTPUT.ppm FILTER
filters:
  grayscale
  box-blur RADIUS
  resize WIDTH HEIGHT [nearest|bilinear]   (default bilinear)
  brightness-contrast BRIGHTNESS CONTRAST  (e.g. 20 1.3)";

fn number<T: std::str::FromStr>(what: &str, s: Option<&String>) -> Result<T, BoxError> {
    let s = s.ok_or_else(|| format!("{what} is missing\n{USAGE}"))?;
    s.parse()
        .map_err(|_| format!("{what}: `{s}` is not a valid number").into())
}

fn parse_filter(args: &[String]) -> Result<Filter, BoxError> {
    let name = args.first().ok_or(USAGE)?;
    let filter = match name.as_str() {
        "grayscale" => Filter::Grayscale,
        "box-blur" | "blur" => Filter::BoxBlur(number("RADIUS", args.get(1))?),
        "resize" => Filter::Resize(ResizeArgs {
            width: number("WIDTH", args.get(1))?,
            height: number("HEIGHT", args.get(2))?,
            method: match args.get(3).map(String::as_str) {
                None | Some("bilinear") => ResizeMethod::Bilinear,
                Some("nearest") => ResizeMethod::Nearest,
                Some(m) => return Err(format!("unknown resize method `{m}`\n{USAGE}").into()),
            },
        }),
        "brightness-contrast" => Filter::BrightnessContrast(BrightnessContrastArgs {
            brightness: number("BRIGHTNESS", args.get(1))?,
            contrast: number("CONTRAST", args.get(2))?,
        }),
        _ => return Err(format!("unknown filter `{name}`\n{USAGE}").into()),
    };
    Ok(filter)
}

/// Reads a binary PPM (P6, maxval 1..=255; `#` comments in the header) as
/// RGBA with opaque alpha.
fn read_ppm(bytes: &[u8]) -> Result<Image, BoxError> {
    let mut pos = 0;
    let mut field = |what: &str| -> Result<String, BoxError> {
        // Skip whitespace and comments, then read one token.
        loop {
            match bytes.get(pos) {
                Some(b) if b.is_ascii_whitespace() => pos += 1,
                Some(b'#') => {
                    while bytes.get(pos).is_some_and(|&b| b != b'\n') {
                        pos += 1;
                    }
                }
                Some(_) => break,
                None => return Err(format!("not a PPM file: no {what}").into()),
            }
        }
        let start = pos;
        while bytes.get(pos).is_some_and(|b| !b.is_ascii_whitespace()) {
            pos += 1;
        }
        Ok(String::from_utf8_lossy(&bytes[start..pos]).into_owned())
    };
    if field("magic number")? != "P6" {
        return Err("not a binary PPM file (P6)".into());
    }
    let parse = |s: String, what: &str| -> Result<u32, BoxError> {
        s.parse()
            .map_err(|_| format!("not a PPM file: bad {what} `{s}`").into())
    };
    let width = parse(field("width")?, "width")?;
    let height = parse(field("height")?, "height")?;
    let maxval = parse(field("maxval")?, "maxval")?;
    if !(1..=255).contains(&maxval) {
        return Err(format!("unsupported PPM maxval {maxval} (only 8-bit PPM files)").into());
    }
    // Exactly one whitespace byte separates the header from the raster.
    let raster = bytes.get(pos + 1..).unwrap_or_default();
    let n = width as usize * height as usize;
    if raster.len() < n * 3 {
        return Err(format!(
            "truncated PPM file: {width}x{height} needs {} bytes of pixels, it has {}",
            n * 3,
            raster.len()
        )
        .into());
    }
    let mut pixels = Vec::with_capacity(n * 4);
    for rgb in raster[..n * 3].chunks_exact(3) {
        for &c in rgb {
            pixels.push((u32::from(c).min(maxval) * 255 / maxval) as u8);
        }
        pixels.push(255);
    }
    Ok(Image {
        width,
        height,
        pixels,
    })
}

/// Writes RGBA as a binary PPM, dropping alpha.
fn write_ppm(img: &Image) -> Vec<u8> {
    let mut out = format!("P6\n{} {}\n255\n", img.width, img.height).into_bytes();
    for px in img.pixels.chunks_exact(4) {
        out.extend_from_slice(&px[..3]);
    }
    out
}

/// The store's data: how many times the guest reported progress.
struct Progress {
    calls: u32,
}

impl ImageFilterImports for Progress {
    fn progress(&mut self, done: u32, total: u32) {
        self.calls += 1;
        eprint!("\rprogress: {done}/{total} rows");
        if done == total {
            eprintln!();
        }
    }
}

fn run(args: &[String]) -> Result<(), BoxError> {
    let [input, output, filter @ ..] = args else {
        return Err(USAGE.into());
    };
    let filter = parse_filter(filter)?;
    let bytes = std::fs::read(input).map_err(|e| format!("reading {input}: {e}"))?;
    let img = read_ppm(&bytes).map_err(|e| format!("{input}: {e}"))?;
    println!("{input}: {}x{} pixels", img.width, img.height);

    // Load the component and give it its one import, `progress` (the
    // bindings' `ImageFilterImports` trait, implemented by the store's data).
    let engine = Engine::default();
    let component = Component::new(&engine, host::COMPONENT)?;
    let mut linker = Linker::<Progress>::new(&engine);
    ImageFilter::add_to_linker(&mut linker, |p| p)?;
    let mut store = Store::new(&engine, Progress { calls: 0 });
    // `apply: func(img: image, f: filter) -> result<image, error>`, found and
    // type-checked once, here.
    let filters = ImageFilter::instantiate(&mut store, &component, &linker)?;

    let started = Instant::now();
    let result = filters.call_apply(&mut store, &img, filter)?;
    let elapsed = started.elapsed();
    println!("the guest called progress {} times", store.data().calls);
    match result {
        Ok(out) => {
            std::fs::write(output, write_ppm(&out))
                .map_err(|e| format!("writing {output}: {e}"))?;
            println!(
                "{filter:?}: wrote {output} ({}x{}) in {:.1} ms",
                out.width,
                out.height,
                elapsed.as_secs_f64() * 1e3
            );
            Ok(())
        }
        Err(FilterError::BadDimensions) => Err("the component says: bad dimensions".into()),
        Err(FilterError::BufferLengthMismatch(LengthMismatch { expected, actual })) => Err(
            format!("the component says: expected {expected} bytes of pixels, got {actual}").into(),
        ),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("image-filter: {e}");
            ExitCode::FAILURE
        }
    }
}
