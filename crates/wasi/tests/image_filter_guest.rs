//! The image-filters library built the standard way (wasm32-wasip2, std,
//! PPM files through WASI) runs unchanged: its output equals the same
//! library run natively, through stdin/stdout and through files.

mod common;

use common::*;
use componentry_wasi::{DirAccess, MemoryDir};
use image_filters::{apply, Filter, Image, ResizeMethod};

fn test_image(w: u32, h: u32) -> Image {
    let mut pixels = Vec::new();
    for y in 0..h {
        for x in 0..w {
            pixels.extend_from_slice(&[(x * 7) as u8, (y * 5) as u8, (x ^ y) as u8, 255]);
        }
    }
    Image {
        width: w,
        height: h,
        pixels,
    }
}

fn ppm(img: &Image) -> Vec<u8> {
    let mut out = format!("P6\n{} {}\n255\n", img.width, img.height).into_bytes();
    for px in img.pixels.chunks_exact(4) {
        out.extend_from_slice(&px[..3]);
    }
    out
}

fn native(img: &Image, f: &Filter) -> Vec<u8> {
    ppm(&apply(img, f, &mut |_, _| {}).unwrap())
}

#[test]
fn filters_through_stdin_and_stdout_match_native() {
    let img = test_image(97, 70);
    for (args, filter) in [
        (&["grayscale"][..], Filter::Grayscale),
        (&["box-blur", "2"], Filter::BoxBlur(2)),
        (
            &["resize", "40", "31", "bilinear"],
            Filter::Resize {
                width: 40,
                height: 31,
                method: ResizeMethod::Bilinear,
            },
        ),
        (
            &["brightness-contrast", "20", "1.3"],
            Filter::BrightnessContrast {
                brightness: 20,
                contrast: 1.3,
            },
        ),
    ] {
        let mut all = vec!["-", "-"];
        all.extend_from_slice(args);
        let mut b = cmd(&all);
        b.stdin_bytes(ppm(&img));
        let r = run(&guest("image-filter.wasm"), &mut b);
        assert_eq!(r.code.as_ref().unwrap(), &0, "{args:?}: {}", r.stderr);
        assert_eq!(
            r.ctx.stdout().unwrap(),
            &native(&img, &filter)[..],
            "{args:?}"
        );
        assert!(r.stderr.contains("-: 97x70 pixels"), "{}", r.stderr);
    }
}

#[test]
fn filters_through_files() {
    let img = test_image(64, 64);
    let mut mem = MemoryDir::new();
    mem.add_file("in.ppm", &ppm(&img)).unwrap();
    let mut b = cmd(&["/work/in.ppm", "/work/out.ppm", "grayscale"]);
    b.preopened_memory_dir(mem, "/work", DirAccess::ReadWrite);
    let r = run(&guest("image-filter.wasm"), &mut b);
    assert_eq!(r.code.as_ref().unwrap(), &0, "{}", r.stderr);
    assert_eq!(
        r.ctx
            .memory_dir("/work")
            .unwrap()
            .read_file("out.ppm")
            .unwrap(),
        &native(&img, &Filter::Grayscale)[..]
    );
    // A bad input is the guest's error, reported with exit code 1.
    let mut b = cmd(&["-", "-", "grayscale"]);
    b.stdin_bytes(&b"P3\n1 1\n255\n"[..]);
    let r = run(&guest("image-filter.wasm"), &mut b);
    assert_eq!(r.code.unwrap(), 1);
    assert!(r.stderr.contains("not a binary PPM"), "{}", r.stderr);
}
