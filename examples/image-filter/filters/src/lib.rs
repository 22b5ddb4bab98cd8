//! The image filters behind the `example:image` component, as a plain Rust
//! library: the guest crate compiles it to wasm, and componentry's tests and
//! benchmarks compile it natively to compare with the component's results
//! bit for bit.
//!
//! Everything is integer or plain IEEE `f32` arithmetic (`+ - * /` and
//! saturating `as` casts, no `floor`, no fused multiply-add), so the wasm
//! and native builds give the same bytes.
#![no_std]

extern crate alloc;

use alloc::vec;
use alloc::vec::Vec;

/// The largest image, in pixels, for inputs and resize targets: 64 Mi
/// pixels (256 MiB of RGBA), so that byte lengths fit in a `u32`.
pub const MAX_PIXELS: u64 = 1 << 26;

/// Progress is reported every this many rows, and at the end.
pub const PROGRESS_ROWS: u32 = 64;

/// An RGBA image: `width * height` pixels of 4 bytes, rows top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

/// How [`Filter::Resize`] samples the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResizeMethod {
    /// The source pixel whose centre is nearest.
    Nearest,
    /// Linear interpolation between the four nearest source pixels.
    Bilinear,
}

/// A filter, as the WIT `filter` variant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Filter {
    /// Luma `(77 R + 150 G + 29 B + 128) >> 8` into R, G and B; alpha kept.
    Grayscale,
    /// The mean of the `(2r+1)²` box around each pixel, on all four
    /// channels, with edge pixels repeated; rounded to nearest.
    BoxBlur(u32),
    /// Resample to `width` × `height`.
    Resize {
        width: u32,
        height: u32,
        method: ResizeMethod,
    },
    /// `(c - 128) * contrast + 128 + brightness`, clamped and rounded, on
    /// R, G and B; alpha kept.
    BrightnessContrast { brightness: i32, contrast: f32 },
}

/// Why a filter was not applied, as the WIT `error` variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// A zero width or height, or more than [`MAX_PIXELS`] pixels (in the
    /// input or the resize target).
    BadDimensions,
    /// `pixels` does not hold `width * height * 4` bytes.
    BufferLengthMismatch { expected: u32, actual: u32 },
}

/// Reports rows done to a callback: after every [`PROGRESS_ROWS`] rows and
/// after the last one.
struct Progress<'a> {
    done: u32,
    total: u32,
    report: &'a mut dyn FnMut(u32, u32),
}

impl Progress<'_> {
    fn row(&mut self) {
        self.done += 1;
        if self.done.is_multiple_of(PROGRESS_ROWS) || self.done == self.total {
            (self.report)(self.done, self.total);
        }
    }
}

fn check_dimensions(width: u32, height: u32) -> Result<u32, Error> {
    let pixels = u64::from(width) * u64::from(height);
    if width == 0 || height == 0 || pixels > MAX_PIXELS {
        return Err(Error::BadDimensions);
    }
    Ok(pixels as u32 * 4)
}

/// The calls [`apply`] makes to its progress callback, in order, for an
/// input of `height` rows (without running the filter).
pub fn progress_calls(height: u32, filter: &Filter) -> Vec<(u32, u32)> {
    let total = match *filter {
        Filter::BoxBlur(_) => height * 2,
        Filter::Resize { height, .. } => height,
        _ => height,
    };
    (1..=total)
        .filter(|d| d.is_multiple_of(PROGRESS_ROWS) || *d == total)
        .map(|d| (d, total))
        .collect()
}

/// Applies `filter` to `img`, calling `progress(done, total)` as rows are
/// finished (see [`progress_calls`]).
pub fn apply(
    img: &Image,
    filter: &Filter,
    progress: &mut dyn FnMut(u32, u32),
) -> Result<Image, Error> {
    let expected = check_dimensions(img.width, img.height)?;
    if img.pixels.len() != expected as usize {
        return Err(Error::BufferLengthMismatch {
            expected,
            actual: u32::try_from(img.pixels.len()).unwrap_or(u32::MAX),
        });
    }
    match *filter {
        Filter::Grayscale => {
            let mut p = Progress {
                done: 0,
                total: img.height,
                report: progress,
            };
            Ok(map_rows(img, &mut p, |px| {
                let l =
                    (77 * u32::from(px[0]) + 150 * u32::from(px[1]) + 29 * u32::from(px[2]) + 128)
                        >> 8;
                [l as u8, l as u8, l as u8, px[3]]
            }))
        }
        Filter::BrightnessContrast {
            brightness,
            contrast,
        } => {
            let lut = brightness_contrast_table(brightness, contrast);
            let mut p = Progress {
                done: 0,
                total: img.height,
                report: progress,
            };
            Ok(map_rows(img, &mut p, |px| {
                [
                    lut[px[0] as usize],
                    lut[px[1] as usize],
                    lut[px[2] as usize],
                    px[3],
                ]
            }))
        }
        Filter::BoxBlur(radius) => {
            let mut p = Progress {
                done: 0,
                total: img.height * 2,
                report: progress,
            };
            Ok(box_blur(img, radius, &mut p))
        }
        Filter::Resize {
            width,
            height,
            method,
        } => {
            check_dimensions(width, height)?;
            let mut p = Progress {
                done: 0,
                total: height,
                report: progress,
            };
            Ok(match method {
                ResizeMethod::Nearest => resize_nearest(img, width, height, &mut p),
                ResizeMethod::Bilinear => resize_bilinear(img, width, height, &mut p),
            })
        }
    }
}

fn map_rows(img: &Image, p: &mut Progress<'_>, f: impl Fn(&[u8]) -> [u8; 4]) -> Image {
    let mut out = Vec::with_capacity(img.pixels.len());
    for row in img.pixels.chunks_exact(img.width as usize * 4) {
        for px in row.chunks_exact(4) {
            out.extend_from_slice(&f(px));
        }
        p.row();
    }
    Image {
        width: img.width,
        height: img.height,
        pixels: out,
    }
}

/// The brightness/contrast mapping of each channel value.
pub fn brightness_contrast_table(brightness: i32, contrast: f32) -> [u8; 256] {
    let mut lut = [0u8; 256];
    for (v, out) in lut.iter_mut().enumerate() {
        let x = (v as f32 - 128.0) * contrast + 128.0 + brightness as f32;
        // Saturating casts: NaN gives 0, out-of-range values clamp.
        *out = (x + 0.5) as u8;
    }
    lut
}

/// Sliding box sums along a line of `n` items `stride` apart, 4 channels
/// each: `out[x] = round(Σ line[clamp(x + k)] / (2r + 1))` for `k` in
/// `-r..=r`.
fn blur_line(src: &[u8], dst: &mut [u8], n: usize, stride: usize, radius: u32) {
    let r = u64::from(radius);
    let window = 2 * r + 1;
    let last = n as u64 - 1;
    let at = |i: u64, c: usize| u64::from(src[i as usize * stride + c]);
    for c in 0..4 {
        // The sum for x = 0: r copies of the first item, then items 0..=r
        // with the last one repeated past the end.
        let head = r.min(last);
        let mut sum = r * at(0, c) + (r - head) * at(last, c);
        for i in 0..=head {
            sum += at(i, c);
        }
        for x in 0..n as u64 {
            dst[x as usize * stride + c] = ((sum + window / 2) / window) as u8;
            let leaving = x.saturating_sub(r);
            let entering = (x + r + 1).min(last);
            sum = sum + at(entering, c) - at(leaving, c);
        }
    }
}

fn box_blur(img: &Image, radius: u32, p: &mut Progress<'_>) -> Image {
    let (w, h) = (img.width as usize, img.height as usize);
    let mut tmp = vec![0u8; img.pixels.len()];
    for (src, dst) in img
        .pixels
        .chunks_exact(w * 4)
        .zip(tmp.chunks_exact_mut(w * 4))
    {
        blur_line(src, dst, w, 4, radius);
        p.row();
    }
    // Vertical: running sums of whole rows, so memory is read row by row.
    let r = u64::from(radius);
    let window = 2 * r + 1;
    let last = h as u64 - 1;
    let row = |y: u64| &tmp[y as usize * w * 4..(y as usize + 1) * w * 4];
    let head = r.min(last);
    let mut sums: Vec<u64> = row(0).iter().map(|&v| r * u64::from(v)).collect();
    for (s, &v) in sums.iter_mut().zip(row(last)) {
        *s += (r - head) * u64::from(v);
    }
    for y in 0..=head {
        for (s, &v) in sums.iter_mut().zip(row(y)) {
            *s += u64::from(v);
        }
    }
    let mut out = vec![0u8; img.pixels.len()];
    for (y, dst) in out.chunks_exact_mut(w * 4).enumerate() {
        let y = y as u64;
        for (d, s) in dst.iter_mut().zip(&sums) {
            *d = ((s + window / 2) / window) as u8;
        }
        let leaving = row(y.saturating_sub(r));
        let entering = row((y + r + 1).min(last));
        for ((s, &e), &l) in sums.iter_mut().zip(entering).zip(leaving) {
            *s = *s + u64::from(e) - u64::from(l);
        }
        p.row();
    }
    Image {
        width: img.width,
        height: img.height,
        pixels: out,
    }
}

/// The source index whose centre is nearest to destination index `i`.
fn nearest(i: u32, src: u32, dst: u32) -> usize {
    ((2 * u64::from(i) + 1) * u64::from(src) / (2 * u64::from(dst))) as usize
}

fn resize_nearest(img: &Image, width: u32, height: u32, p: &mut Progress<'_>) -> Image {
    let xs: Vec<usize> = (0..width)
        .map(|x| nearest(x, img.width, width) * 4)
        .collect();
    let mut out = Vec::with_capacity(width as usize * height as usize * 4);
    let stride = img.width as usize * 4;
    for y in 0..height {
        let src = &img.pixels[nearest(y, img.height, height) * stride..][..stride];
        for &x in &xs {
            out.extend_from_slice(&src[x..x + 4]);
        }
        p.row();
    }
    Image {
        width,
        height,
        pixels: out,
    }
}

/// For destination index `i`: the two source indices to blend and the
/// weight of the second, sampling at pixel centres.
fn bilinear_taps(i: u32, src: u32, dst: u32) -> (usize, usize, f32) {
    let f = (i as f32 + 0.5) * (src as f32 / dst as f32) - 0.5;
    let f = if f > 0.0 { f } else { 0.0 };
    let i0 = f as u32; // f >= 0: truncation is floor
    if i0 >= src - 1 {
        ((src - 1) as usize, (src - 1) as usize, 0.0)
    } else {
        (i0 as usize, i0 as usize + 1, f - i0 as f32)
    }
}

fn resize_bilinear(img: &Image, width: u32, height: u32, p: &mut Progress<'_>) -> Image {
    let xs: Vec<(usize, usize, f32)> = (0..width)
        .map(|x| bilinear_taps(x, img.width, width))
        .collect();
    let mut out = Vec::with_capacity(width as usize * height as usize * 4);
    let stride = img.width as usize * 4;
    for y in 0..height {
        let (y0, y1, ty) = bilinear_taps(y, img.height, height);
        let top = &img.pixels[y0 * stride..][..stride];
        let bottom = &img.pixels[y1 * stride..][..stride];
        for &(x0, x1, tx) in &xs {
            for c in 0..4 {
                let a = top[x0 * 4 + c] as f32;
                let b = top[x1 * 4 + c] as f32;
                let d = bottom[x0 * 4 + c] as f32;
                let e = bottom[x1 * 4 + c] as f32;
                let upper = a + (b - a) * tx;
                let lower = d + (e - d) * tx;
                out.push((upper + (lower - upper) * ty + 0.5) as u8);
            }
        }
        p.row();
    }
    Image {
        width,
        height,
        pixels: out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(width: u32, height: u32, f: impl Fn(u32, u32, u32) -> u8) -> Image {
        let mut pixels = Vec::new();
        for y in 0..height {
            for x in 0..width {
                for c in 0..4 {
                    pixels.push(f(x, y, c));
                }
            }
        }
        Image {
            width,
            height,
            pixels,
        }
    }

    fn run(i: &Image, f: Filter) -> Result<Image, Error> {
        apply(i, &f, &mut |_, _| {})
    }

    #[test]
    fn blur_matches_naive() {
        let i = img(7, 5, |x, y, c| (x * 37 + y * 91 + c * 13) as u8);
        for r in [0, 1, 2, 3, 9] {
            let got = run(&i, Filter::BoxBlur(r)).unwrap();
            let clamp = |v: i64, n: u32| v.clamp(0, i64::from(n) - 1) as u32;
            let r = i64::from(r);
            let at = |img: &Image, x: u32, y: u32, c: u32| {
                img.pixels[((y * img.width + x) * 4 + c) as usize]
            };
            // Horizontal then vertical, each rounded, as the filter does.
            let n = (2 * r + 1) as u64;
            let h = img(7, 5, |x, y, c| {
                let s: u64 = (-r..=r)
                    .map(|k| u64::from(at(&i, clamp(i64::from(x) + k, 7), y, c)))
                    .sum();
                ((s + n / 2) / n) as u8
            });
            let v = img(7, 5, |x, y, c| {
                let s: u64 = (-r..=r)
                    .map(|k| u64::from(at(&h, x, clamp(i64::from(y) + k, 5), c)))
                    .sum();
                ((s + n / 2) / n) as u8
            });
            assert_eq!(got, v, "radius {r}");
        }
    }

    #[test]
    fn huge_radius_is_the_mean_of_the_edges() {
        let i = img(3, 1, |x, _, _| [10, 50, 90][x as usize]);
        let got = run(&i, Filter::BoxBlur(u32::MAX)).unwrap();
        // Almost all of the window is the clamped edges, half each side.
        assert!(got.pixels.iter().all(|&v| v == 50));
    }

    #[test]
    fn errors() {
        let i = Image {
            width: 2,
            height: 2,
            pixels: vec![0; 15],
        };
        assert_eq!(
            run(&i, Filter::Grayscale),
            Err(Error::BufferLengthMismatch {
                expected: 16,
                actual: 15
            })
        );
        let i = Image {
            width: 0,
            height: 2,
            pixels: vec![],
        };
        assert_eq!(run(&i, Filter::Grayscale), Err(Error::BadDimensions));
        let i = img(2, 2, |_, _, _| 0);
        let r = Filter::Resize {
            width: 1 << 14,
            height: 1 << 14,
            method: ResizeMethod::Nearest,
        };
        assert_eq!(run(&i, r), Err(Error::BadDimensions));
    }

    #[test]
    fn resize_identity_and_progress() {
        let i = img(130, 70, |x, y, c| (x ^ y ^ c) as u8);
        for method in [ResizeMethod::Nearest, ResizeMethod::Bilinear] {
            let f = Filter::Resize {
                width: 130,
                height: 70,
                method,
            };
            let mut calls = Vec::new();
            let got = apply(&i, &f, &mut |d, t| calls.push((d, t))).unwrap();
            assert_eq!(got, i);
            assert_eq!(calls, progress_calls(70, &f));
            assert_eq!(calls, [(64, 70), (70, 70)]);
        }
    }
}
