//! An SVG line chart of each framework's dominant share over time.

use std::fmt::Write as _;

use crate::timeline::Sample;

const WIDTH: f64 = 800.0;
const HEIGHT: f64 = 420.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 160.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;
const PALETTE: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

/// Draws one polyline per framework: dominant share (0 to 1, y) against seconds
/// (x), with axes, grid lines and a legend. A framework contributes a point for
/// each sample in which it is registered.
///
/// ```
/// use drf_demo::chart::render_svg;
/// let svg = render_svg("empty", &[]);
/// assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
/// ```
pub fn render_svg(title: &str, timeline: &[Sample]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for sample in timeline {
        for f in &sample.frameworks {
            if !names.contains(&f.name.as_str()) {
                names.push(&f.name);
            }
        }
    }
    let t_max = timeline
        .iter()
        .map(|s| s.t)
        .fold(0.0_f64, f64::max)
        .max(1e-9);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |t: f64| LEFT + (t / t_max).clamp(0.0, 1.0) * plot_w;
    let y = |share: f64| TOP + (1.0 - share.clamp(0.0, 1.0)) * plot_h;

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        svg,
        r#"<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>"#
    );
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="22" font-size="15" text-anchor="middle">{}</text>"#,
        LEFT + plot_w / 2.0,
        escape(title)
    );
    for i in 0..=4 {
        let share = f64::from(i) / 4.0;
        let _ = writeln!(
            svg,
            "<line x1=\"{LEFT}\" y1=\"{yy:.1}\" x2=\"{:.1}\" y2=\"{yy:.1}\" stroke=\"#ddd\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{share:.2}</text>",
            LEFT + plot_w,
            LEFT - 6.0,
            y(share) + 4.0,
            yy = y(share),
        );
    }
    for i in 0..=4 {
        let t = t_max * f64::from(i) / 4.0;
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{t:.1}</text>"#,
            x(t),
            TOP + plot_h + 18.0
        );
    }
    let _ = writeln!(
        svg,
        r#"<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{b}" stroke="black"/><line x1="{LEFT}" y1="{b}" x2="{r}" y2="{b}" stroke="black"/>"#,
        b = TOP + plot_h,
        r = LEFT + plot_w
    );
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">seconds</text>"#,
        LEFT + plot_w / 2.0,
        HEIGHT - 10.0
    );
    let _ = writeln!(
        svg,
        r#"<text transform="translate(16 {:.1}) rotate(-90)" text-anchor="middle">dominant share</text>"#,
        TOP + plot_h / 2.0
    );
    for (i, name) in names.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let points: Vec<String> = timeline
            .iter()
            .filter_map(|s| {
                s.frameworks
                    .iter()
                    .find(|f| f.name == *name)
                    .map(|f| format!("{:.1},{:.1}", x(s.t), y(f.dominant_share)))
            })
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline data-framework="{n}" fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
            points.join(" "),
            n = escape(name)
        );
        let ly = TOP + 10.0 + 20.0 * i as f64;
        let lx = LEFT + plot_w + 16.0;
        let _ = writeln!(
            svg,
            r#"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="{color}" stroke-width="3"/><text x="{}" y="{}">{}</text>"#,
            lx + 20.0,
            lx + 26.0,
            ly + 4.0,
            escape(name)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}
