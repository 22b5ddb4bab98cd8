//! The image-filter example's component (a Rust library compiled with
//! wit-bindgen, built by `tools/build-guests.sh`) run through componentry:
//! every filter on generated images, compared bit for bit with the same
//! library compiled natively; the error variants; the `progress` import.

#[path = "../examples/image-filter/host.rs"]
mod host;

use componentry::{Component, Engine, Linker, Store, Val};
use host::{
    BrightnessContrastArgs, Filter, FilterError, Filters, Image, LengthMismatch, ResizeArgs,
    ResizeMethod,
};

/// A `width` × `height` image of noise from `seed` (xorshift), with a
/// gradient in the red channel so that blurs and resizes see structure.
fn noise(width: u32, height: u32, seed: u32) -> Image {
    let mut s = seed.wrapping_mul(0x9E37_79B9) | 1;
    let mut pixels = Vec::with_capacity(width as usize * height as usize * 4);
    for y in 0..height {
        for x in 0..width {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            let [a, b, c, d] = s.to_le_bytes();
            pixels.extend_from_slice(&[
                ((x * 255) / width.max(2)) as u8 ^ (a & 7),
                b,
                c ^ y as u8,
                d,
            ]);
        }
    }
    Image {
        width,
        height,
        pixels,
    }
}

fn sizes() -> Vec<(u32, u32)> {
    vec![(1, 1), (1, 7), (9, 1), (2, 2), (31, 17), (47, 33), (130, 3)]
}

fn filters() -> Vec<Filter> {
    let resize = |width, height, method| {
        Filter::Resize(ResizeArgs {
            width,
            height,
            method,
        })
    };
    let bc = |brightness, contrast| {
        Filter::BrightnessContrast(BrightnessContrastArgs {
            brightness,
            contrast,
        })
    };
    let mut fs = vec![Filter::Grayscale];
    fs.extend([0, 1, 2, 5, 40, u32::MAX].map(Filter::BoxBlur));
    for method in [ResizeMethod::Nearest, ResizeMethod::Bilinear] {
        fs.extend([
            resize(1, 1, method),
            resize(13, 7, method),
            resize(100, 3, method),
            resize(5, 90, method),
        ]);
    }
    fs.extend([
        bc(0, 1.0),
        bc(40, 1.5),
        bc(-300, 0.2),
        bc(10, -1.0),
        bc(0, f32::NAN),
        bc(i32::MAX, f32::INFINITY),
        bc(i32::MIN, 0.0),
    ]);
    fs
}

#[test]
fn every_filter_matches_the_native_library() {
    let engine = Engine::default();
    let mut f = Filters::new(&engine).unwrap();
    let mut checked = 0;
    for (seed, (w, h)) in sizes().into_iter().enumerate() {
        let img = noise(w, h, seed as u32 + 1);
        for filter in filters() {
            let (expected, expected_progress) = host::native(&img, filter);
            let got = f.apply(img.clone(), filter).unwrap();
            let what = format!("{filter:?} on {w}x{h}");
            let (got, expected) = (got.expect(&what), expected.expect(&what));
            assert_eq!(
                (got.width, got.height),
                (expected.width, expected.height),
                "{what}"
            );
            assert!(got.pixels == expected.pixels, "{what}: pixels differ");
            assert_eq!(f.store.data(), &expected_progress, "{what}: progress");
            checked += 1;
        }
    }
    assert_eq!(checked, sizes().len() * filters().len());
}

#[test]
fn filters_change_the_image() {
    // Guard against a comparison that passes because nothing happened.
    let engine = Engine::default();
    let mut f = Filters::new(&engine).unwrap();
    let img = noise(40, 30, 7);
    for filter in [
        Filter::Grayscale,
        Filter::BoxBlur(2),
        Filter::BrightnessContrast(BrightnessContrastArgs {
            brightness: 20,
            contrast: 1.2,
        }),
    ] {
        let out = f.apply(img.clone(), filter).unwrap().unwrap();
        assert_ne!(out.pixels, img.pixels, "{filter:?}");
    }
    let gray = f.apply(img.clone(), Filter::Grayscale).unwrap().unwrap();
    for (px, orig) in gray.pixels.chunks(4).zip(img.pixels.chunks(4)) {
        assert_eq!((px[0], px[1], px[3]), (px[2], px[2], orig[3]));
    }
    let small = Filter::Resize(ResizeArgs {
        width: 4,
        height: 3,
        method: ResizeMethod::Bilinear,
    });
    let out = f.apply(img, small).unwrap().unwrap();
    assert_eq!((out.width, out.height, out.pixels.len()), (4, 3, 48));
}

#[test]
fn a_larger_image_reports_progress_in_steps() {
    let engine = Engine::default();
    let mut f = Filters::new(&engine).unwrap();
    let img = noise(130, 100, 3);
    let out = f.apply(img.clone(), Filter::BoxBlur(3)).unwrap().unwrap();
    let (expected, _) = host::native(&img, Filter::BoxBlur(3));
    assert!(out == expected.unwrap());
    // Two passes of 100 rows, reported every 64 rows and at the end.
    assert_eq!(
        f.store.data(),
        &[(64, 200), (128, 200), (192, 200), (200, 200)]
    );
    let resize = Filter::Resize(ResizeArgs {
        width: 10,
        height: 130,
        method: ResizeMethod::Nearest,
    });
    f.apply(img, resize).unwrap().unwrap();
    assert_eq!(f.store.data(), &[(64, 130), (128, 130), (130, 130)]);
}

#[test]
fn a_buffer_of_the_wrong_length_is_an_error_variant() {
    let engine = Engine::default();
    let mut f = Filters::new(&engine).unwrap();
    for (w, h, len) in [(3, 2, 23), (3, 2, 25), (3, 2, 0), (1, 1, 400)] {
        let img = Image {
            width: w,
            height: h,
            pixels: vec![9; len],
        };
        let r = f.apply(img, Filter::Grayscale).unwrap();
        let expected = LengthMismatch {
            expected: w * h * 4,
            actual: len as u32,
        };
        assert_eq!(r, Err(FilterError::BufferLengthMismatch(expected)));
        assert_eq!(f.store.data(), &[], "no progress before the check");
    }
    // The instance is not poisoned: errors are values, not traps.
    let ok = f.apply(noise(2, 2, 1), Filter::Grayscale).unwrap();
    assert!(ok.is_ok());
}

#[test]
fn zero_or_huge_dimensions_are_bad_dimensions() {
    let engine = Engine::default();
    let mut f = Filters::new(&engine).unwrap();
    for (w, h) in [(0, 0), (0, 5), (5, 0)] {
        let img = Image {
            width: w,
            height: h,
            pixels: vec![],
        };
        for filter in [Filter::Grayscale, Filter::BoxBlur(1)] {
            assert_eq!(
                f.apply(img.clone(), filter).unwrap(),
                Err(FilterError::BadDimensions)
            );
        }
    }
    // Dimensions whose byte length overflows a u32 are bad, not a mismatch.
    let img = Image {
        width: 1 << 16,
        height: 1 << 15,
        pixels: vec![],
    };
    assert_eq!(
        f.apply(img, Filter::Grayscale).unwrap(),
        Err(FilterError::BadDimensions)
    );
    // So are resize targets of zero or too many pixels.
    for (width, height) in [(0, 4), (4, 0), (1 << 14, 1 << 14)] {
        let r = Filter::Resize(ResizeArgs {
            width,
            height,
            method: ResizeMethod::Bilinear,
        });
        assert_eq!(
            f.apply(noise(3, 3, 1), r).unwrap(),
            Err(FilterError::BadDimensions)
        );
    }
    assert!(f.apply(noise(3, 3, 1), Filter::BoxBlur(1)).unwrap().is_ok());
}

#[test]
fn the_dynamic_api_agrees_with_the_typed_one() {
    let engine = Engine::default();
    let component = Component::new(&engine, host::COMPONENT).unwrap();
    let mut linker = Linker::<Vec<(u32, u32)>>::new(&engine);
    linker
        .root()
        .func_new("progress", |mut cx, params, _results| {
            if let [Val::U32(done), Val::U32(total)] = params {
                cx.data_mut().push((*done, *total));
            }
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(&engine, Vec::new());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let apply = instance.get_func(&mut store, "apply").unwrap();
    let img = noise(5, 4, 11);
    let record = |img: &Image| {
        Val::Record(vec![
            ("width".into(), Val::U32(img.width)),
            ("height".into(), Val::U32(img.height)),
            (
                "pixels".into(),
                Val::List(img.pixels.iter().map(|&b| Val::U8(b)).collect()),
            ),
        ])
    };
    let filter = Val::Variant(
        "resize".into(),
        Some(Box::new(Val::Record(vec![
            ("width".into(), Val::U32(3)),
            ("height".into(), Val::U32(6)),
            ("method".into(), Val::Enum("bilinear".into())),
        ]))),
    );
    let mut result = [Val::Bool(false)];
    apply
        .call(&mut store, &[record(&img), filter], &mut result)
        .unwrap();
    let resize = Filter::Resize(ResizeArgs {
        width: 3,
        height: 6,
        method: ResizeMethod::Bilinear,
    });
    let (expected, progress) = host::native(&img, resize);
    assert_eq!(
        result[0],
        Val::Result(Ok(Some(Box::new(record(&expected.unwrap())))))
    );
    assert_eq!(store.data(), &progress);

    let bad = Val::Record(vec![
        ("width".into(), Val::U32(2)),
        ("height".into(), Val::U32(2)),
        ("pixels".into(), Val::List(vec![Val::U8(0); 3])),
    ]);
    apply
        .call(
            &mut store,
            &[bad, Val::Variant("grayscale".into(), None)],
            &mut result,
        )
        .unwrap();
    let mismatch = Val::Variant(
        "buffer-length-mismatch".into(),
        Some(Box::new(Val::Record(vec![
            ("expected".into(), Val::U32(16)),
            ("actual".into(), Val::U32(3)),
        ]))),
    );
    assert_eq!(result[0], Val::Result(Err(Some(Box::new(mismatch)))));
}

#[test]
fn the_component_has_the_wit_shape() {
    let engine = Engine::default();
    let component = Component::new(&engine, host::COMPONENT).unwrap();
    let imports: Vec<String> = component
        .imports()
        .filter(|(_, item)| !matches!(item, componentry::ComponentItem::Type))
        .map(|(name, item)| format!("{name}: {item:?}"))
        .collect();
    assert_eq!(
        imports,
        ["progress: Func(FuncType { params: [(\"done\", U32), (\"total\", U32)], result: None })"],
        "only `progress`: no WASI"
    );
    let exports: Vec<String> = component.exports().into_iter().map(|(n, _)| n).collect();
    assert!(exports.contains(&"apply".to_string()), "{exports:?}");
}

#[test]
fn a_failing_progress_import_traps_the_call_and_poisons_the_instance() {
    let engine = Engine::default();
    let component = Component::new(&engine, host::COMPONENT).unwrap();
    let mut linker = Linker::<u32>::new(&engine);
    linker
        .root()
        .func_wrap("progress", |mut cx, (_done, _total): (u32, u32)| {
            *cx.data_mut() += 1;
            Err::<(), _>(componentry::Error::host("cancelled by the host"))
        })
        .unwrap();
    let mut store = Store::new(&engine, 0);
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let apply = instance
        .get_func(&mut store, "apply")
        .unwrap()
        .typed::<(Image, Filter), Result<Image, FilterError>>(&mut store)
        .unwrap();
    let err = apply
        .call(&mut store, (noise(8, 8, 1), Filter::Grayscale))
        .unwrap_err();
    assert_eq!(err.trap_kind(), Some(componentry::TrapKind::Host), "{err}");
    assert_eq!(*store.data(), 1, "the first progress call failed");
    let again = apply
        .call(&mut store, (noise(8, 8, 1), Filter::Grayscale))
        .unwrap_err();
    assert_eq!(
        again.trap_kind(),
        Some(componentry::TrapKind::Poisoned),
        "{again}"
    );
    assert_eq!(*store.data(), 1);
}
