//! The SVG chart drawn from a timeline.

use drf_demo::chart::render_svg;
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

/// The `points` attribute of the polyline for `name`, as (x, y) pairs.
fn polyline(svg: &str, name: &str) -> Vec<(f64, f64)> {
    let marker = format!("data-framework=\"{name}\"");
    let line = svg
        .lines()
        .find(|l| l.contains("<polyline") && l.contains(&marker))
        .unwrap_or_else(|| panic!("no polyline for {name} in\n{svg}"));
    let points = line.split("points=\"").nth(1).unwrap();
    let points = &points[..points.find('"').unwrap()];
    points
        .split_whitespace()
        .map(|p| {
            let (x, y) = p.split_once(',').unwrap();
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect()
}

#[test]
fn one_polyline_per_framework_following_its_share() {
    let timeline = vec![
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
    ];
    let svg = render_svg("paper", &timeline);
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg.matches("<polyline").count(), 2);

    let a = polyline(&svg, "A");
    let b = polyline(&svg, "B &lt;&amp;&gt;");
    assert_eq!(a.len(), 3, "A is in every sample");
    assert_eq!(b.len(), 2, "B registered one sample late");
    // Time runs left to right, and a larger share is drawn higher (smaller y).
    assert!(a[0].0 < a[1].0 && a[1].0 < a[2].0);
    assert!(a[0].1 > a[1].1 && a[1].1 > a[2].1);
    // Equal shares at the same moment are drawn at the same point.
    assert_eq!(a[2], b[1]);
    // The legend names each framework, escaped.
    assert!(svg.contains(">B &lt;&amp;&gt;</text>"));
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
    let svg = render_svg("clamped", &timeline);
    let a = polyline(&svg, "A");
    let height: f64 = 420.0;
    assert!(
        a.iter()
            .all(|(x, y)| *x >= 0.0 && *y >= 0.0 && *y <= height && *x <= 800.0)
    );
}
