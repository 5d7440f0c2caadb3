//! The chart drawn from a timeline with plotters, as SVG and PNG.

use drf_demo::chart::{SIZE, render_png, render_svg, text_available, write_chart};
use drf_demo::state::FrameworkAllocation;
use drf_demo::timeline::Sample;

fn alloc(name: &str, share: f64) -> FrameworkAllocation {
    FrameworkAllocation {
        name: name.to_owned(),
        role: "*".to_owned(),
        tasks: 1,
        cpus: 1.0,
        mem: 1.0,
        dominant_share: share,
    }
}

fn timeline() -> Vec<Sample> {
    vec![
        Sample {
            t: 0.0,
            frameworks: vec![alloc("A", 0.0)],
        },
        Sample {
            t: 1.0,
            frameworks: vec![alloc("A", 0.25), alloc("B <&>", 1.0 / 3.0)],
        },
        Sample {
            t: 2.0,
            frameworks: vec![alloc("A", 2.0 / 3.0), alloc("B <&>", 2.0 / 3.0)],
        },
    ]
}

/// The (x, y) points of every `<polyline>` drawn in `color` (e.g. `#1F77B4`), the
/// series first.
fn polylines(svg: &str, color: &str) -> Vec<Vec<(f64, f64)>> {
    svg.split("<polyline")
        .skip(1)
        .filter(|p| {
            p.to_ascii_uppercase()
                .contains(&format!("STROKE=\"{color}\""))
        })
        .map(|p| {
            let points = p.split("points=\"").nth(1).unwrap();
            points[..points.find('"').unwrap()]
                .split_whitespace()
                .map(|xy| {
                    let (x, y) = xy.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect()
        })
        .collect()
}

#[test]
fn one_line_per_framework_following_its_share() {
    assert!(
        text_available(),
        "no TrueType font: install fonts-dejavu-core (chromium's fonts-liberation also works)"
    );
    let svg = render_svg("paper", &timeline()).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    let a = polylines(&svg, "#1F77B4");
    let b = polylines(&svg, "#D62728");
    // The series, then its legend sample.
    assert_eq!((a.len(), b.len()), (2, 2), "{svg}");
    let (a, b) = (&a[0], &b[0]);
    assert_eq!(a.len(), 3, "A is in every sample");
    assert_eq!(b.len(), 2, "B registered one sample late");
    // Time runs left to right, and a larger share is drawn higher (smaller y).
    assert!(a[0].0 < a[1].0 && a[1].0 < a[2].0);
    assert!(a[0].1 > a[1].1 && a[1].1 > a[2].1);
    // Equal shares at the same moment are drawn at the same point.
    assert_eq!(a[2], b[1]);
    // The title, axes and legend are text, escaped.
    for text in ["paper", "seconds", "dominant share", "B &lt;&amp;&gt;"] {
        assert!(svg.contains(text), "{text} missing");
    }
    assert!(!svg.contains("B <&>"));
}

#[test]
fn shares_outside_zero_to_one_stay_inside_the_plot() {
    let timeline = vec![
        Sample {
            t: 0.0,
            frameworks: vec![alloc("A", -1.0)],
        },
        Sample {
            t: 5.0,
            frameworks: vec![alloc("A", 7.0)],
        },
    ];
    let svg = render_svg("clamped", &timeline).unwrap();
    let (w, h) = (f64::from(SIZE.0), f64::from(SIZE.1));
    let a = &polylines(&svg, "#1F77B4")[0];
    assert!(
        a.iter()
            .all(|(x, y)| (0.0..=w).contains(x) && (0.0..=h).contains(y))
    );
}

#[test]
fn png_is_a_png_of_the_chart_size_and_the_extension_picks_the_format() {
    let png = render_png("paper", &timeline()).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    // IHDR: width and height, big-endian, at bytes 16..24.
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), SIZE);

    let dir = std::env::temp_dir().join(format!("drf-chart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    write_chart(&dir.join("c.png"), "t", &timeline()).unwrap();
    write_chart(&dir.join("c.svg"), "t", &timeline()).unwrap();
    assert!(
        std::fs::read(dir.join("c.png"))
            .unwrap()
            .starts_with(b"\x89PNG")
    );
    assert!(
        std::fs::read(dir.join("c.svg"))
            .unwrap()
            .starts_with(b"<svg")
    );
    let missing = dir.join("no-such-dir").join("c.svg");
    assert!(write_chart(&missing, "t", &timeline()).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}
