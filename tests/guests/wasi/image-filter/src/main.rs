//! `image-filter INPUT OUTPUT FILTER [PARAMS...]`: the image-filters library
//! (`examples/image-filter/filters`) as an ordinary wasm32-wasip2 command.
//! INPUT and OUTPUT are binary PPM files, `-` for stdin and stdout; progress
//! goes to stderr. The same filters the `example:image` component exports,
//! with WASI doing the input and output instead of a custom WIT interface.
//!
//! ```text
//! image-filter in.ppm out.ppm grayscale
//! image-filter - - box-blur 3 < in.ppm > out.ppm
//! image-filter in.ppm out.ppm resize 640 480 [nearest|bilinear]
//! image-filter in.ppm out.ppm brightness-contrast 20 1.3
//! ```

use std::io::{Read, Write};
use std::process::ExitCode;

use image_filters::{apply, Error, Filter, Image, ResizeMethod};

const USAGE: &str = "usage: image-filter INPUT.ppm OUTPUT.ppm FILTER  (`-`: stdin/stdout)
filters:
  grayscale
  box-blur RADIUS
  resize WIDTH HEIGHT [nearest|bilinear]   (default bilinear)
  brightness-contrast BRIGHTNESS CONTRAST  (e.g. 20 1.3)";

fn number<T: std::str::FromStr>(what: &str, s: Option<&String>) -> Result<T, String> {
    let s = s.ok_or_else(|| format!("{what} is missing\n{USAGE}"))?;
    s.parse()
        .map_err(|_| format!("{what}: `{s}` is not a valid number"))
}

fn parse_filter(args: &[String]) -> Result<Filter, String> {
    let name = args.first().ok_or(USAGE)?;
    Ok(match name.as_str() {
        "grayscale" => Filter::Grayscale,
        "box-blur" | "blur" => Filter::BoxBlur(number("RADIUS", args.get(1))?),
        "resize" => Filter::Resize {
            width: number("WIDTH", args.get(1))?,
            height: number("HEIGHT", args.get(2))?,
            method: match args.get(3).map(String::as_str) {
                None | Some("bilinear") => ResizeMethod::Bilinear,
                Some("nearest") => ResizeMethod::Nearest,
                Some(m) => return Err(format!("unknown resize method `{m}`\n{USAGE}")),
            },
        },
        "brightness-contrast" => Filter::BrightnessContrast {
            brightness: number("BRIGHTNESS", args.get(1))?,
            contrast: number("CONTRAST", args.get(2))?,
        },
        _ => return Err(format!("unknown filter `{name}`\n{USAGE}")),
    })
}

/// Reads a binary PPM (P6, maxval 1..=255, `#` comments) as opaque RGBA.
fn read_ppm(bytes: &[u8]) -> Result<Image, String> {
    let mut pos = 0;
    let mut field = |what: &str| -> Result<String, String> {
        loop {
            match bytes.get(pos) {
                Some(b) if b.is_ascii_whitespace() => pos += 1,
                Some(b'#') => {
                    while bytes.get(pos).is_some_and(|&b| b != b'\n') {
                        pos += 1;
                    }
                }
                Some(_) => break,
                None => return Err(format!("not a PPM file: no {what}")),
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
    let parse = |s: String, what: &str| -> Result<u32, String> {
        s.parse().map_err(|_| format!("not a PPM file: bad {what} `{s}`"))
    };
    let width = parse(field("width")?, "width")?;
    let height = parse(field("height")?, "height")?;
    let maxval = parse(field("maxval")?, "maxval")?;
    if !(1..=255).contains(&maxval) {
        return Err(format!("unsupported PPM maxval {maxval} (only 8-bit PPM files)"));
    }
    let raster = bytes.get(pos + 1..).unwrap_or_default();
    let n = (width as usize)
        .checked_mul(height as usize)
        .filter(|n| n.checked_mul(4).is_some())
        .ok_or("not a PPM file: too many pixels")?;
    if raster.len() / 3 < n {
        return Err(format!(
            "truncated PPM file: {width}x{height} needs {} bytes of pixels, it has {}",
            n as u64 * 3,
            raster.len()
        ));
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

/// RGBA as a binary PPM, alpha dropped.
fn write_ppm(img: &Image) -> Vec<u8> {
    let mut out = format!("P6\n{} {}\n255\n", img.width, img.height).into_bytes();
    for px in img.pixels.chunks_exact(4) {
        out.extend_from_slice(&px[..3]);
    }
    out
}

fn run(args: &[String]) -> Result<(), String> {
    let [input, output, filter @ ..] = args else {
        return Err(USAGE.into());
    };
    let filter = parse_filter(filter)?;
    let bytes = if input == "-" {
        let mut b = Vec::new();
        std::io::stdin()
            .read_to_end(&mut b)
            .map_err(|e| format!("reading stdin: {e}"))?;
        b
    } else {
        std::fs::read(input).map_err(|e| format!("reading {input}: {e}"))?
    };
    let img = read_ppm(&bytes).map_err(|e| format!("{input}: {e}"))?;
    eprintln!("{input}: {}x{} pixels", img.width, img.height);
    let out = apply(&img, &filter, &mut |done, total| {
        eprintln!("progress: {done}/{total} rows");
    })
    .map_err(|e| match e {
        Error::BadDimensions => "bad dimensions".to_string(),
        Error::BufferLengthMismatch { expected, actual } => {
            format!("expected {expected} bytes of pixels, got {actual}")
        }
    })?;
    let ppm = write_ppm(&out);
    if output == "-" {
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(&ppm)
            .and_then(|()| stdout.flush())
            .map_err(|e| format!("writing stdout: {e}"))?;
    } else {
        std::fs::write(output, &ppm).map_err(|e| format!("writing {output}: {e}"))?;
    }
    eprintln!("{filter:?}: wrote {output} ({}x{})", out.width, out.height);
    Ok(())
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
