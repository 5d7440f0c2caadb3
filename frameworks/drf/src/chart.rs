//! A line chart of each framework's dominant share over time, drawn with `plotters`
//! as SVG or PNG.
//!
//! Text (title, axis labels, legend) needs a TrueType font: the first of the usual
//! Debian sans-serif fonts found ([`FONT_CANDIDATES`]) is used. Without one the chart
//! is drawn without text rather than not at all.

use std::path::Path;
use std::sync::OnceLock;

use plotters::prelude::*;
use thiserror::Error;

use crate::timeline::Sample;

/// Chart size in pixels.
pub const SIZE: (u32, u32) = (800, 420);

/// Fonts tried for the chart's text, in order.
pub const FONT_CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
];

const PALETTE: [RGBColor; 8] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0xe3, 0x77, 0xc2),
    RGBColor(0x17, 0xbe, 0xcf),
];

/// Why a chart could not be drawn or written.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ChartError {
    /// Drawing failed (plotters' message).
    #[error("cannot draw the chart: {0}")]
    Draw(String),
    /// The file could not be written.
    #[error("cannot write the chart {path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

fn draw_error(e: impl std::fmt::Display) -> ChartError {
    ChartError::Draw(e.to_string())
}

/// Registers the first usable font as `sans-serif`, once; whether text can be drawn.
pub fn text_available() -> bool {
    static FONT: OnceLock<bool> = OnceLock::new();
    *FONT.get_or_init(|| {
        for path in FONT_CANDIDATES {
            if let Ok(bytes) = std::fs::read(path) {
                // The font lives as long as the process: plotters keeps a reference.
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                    return true;
                }
            }
        }
        tracing::warn!("no TrueType font found; the chart is drawn without text");
        false
    })
}

/// The frameworks of a timeline, in order of first appearance.
fn names(timeline: &[Sample]) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for sample in timeline {
        for f in &sample.frameworks {
            if !names.contains(&f.name.as_str()) {
                names.push(&f.name);
            }
        }
    }
    names
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    timeline: &[Sample],
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    let text = text_available();
    root.fill(&WHITE).map_err(draw_error)?;
    let t_max = timeline
        .iter()
        .map(|s| s.t)
        .fold(0.0_f64, f64::max)
        .max(1e-9);
    let mut builder = ChartBuilder::on(&root);
    builder.margin(16);
    if text {
        builder
            .caption(title, ("sans-serif", 18))
            .x_label_area_size(40)
            .y_label_area_size(50);
    }
    let mut chart = builder
        .build_cartesian_2d(0.0..t_max, 0.0..1.0)
        .map_err(draw_error)?;
    let mut mesh = chart.configure_mesh();
    mesh.light_line_style(WHITE.mix(0.0));
    if text {
        mesh.x_desc("seconds").y_desc("dominant share");
    } else {
        mesh.disable_x_mesh().x_labels(0).y_labels(0);
    }
    mesh.draw().map_err(draw_error)?;
    for (i, name) in names(timeline).into_iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let points: Vec<(f64, f64)> = timeline
            .iter()
            .filter_map(|s| {
                s.frameworks
                    .iter()
                    .find(|f| f.name == name)
                    .map(|f| (s.t, f.dominant_share.clamp(0.0, 1.0)))
            })
            .collect();
        let series = chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(draw_error)?;
        if text {
            series.label(name).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3))
            });
        }
    }
    if text {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(draw_error)?;
    }
    root.present().map_err(draw_error)?;
    Ok(())
}

/// The chart as an SVG document: one line per framework, dominant share (0 to 1, y)
/// against seconds (x), with a legend. A framework contributes a point for each
/// sample in which it is registered.
///
/// ```
/// use drf_demo::chart::render_svg;
/// let svg = render_svg("empty", &[]).unwrap();
/// assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
/// ```
///
/// # Errors
/// [`ChartError::Draw`] if plotters fails.
pub fn render_svg(title: &str, timeline: &[Sample]) -> Result<String, ChartError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        draw(root, title, timeline)?;
    }
    Ok(svg)
}

/// The chart as a PNG image.
///
/// # Errors
/// [`ChartError::Draw`] if plotters fails.
pub fn render_png(title: &str, timeline: &[Sample]) -> Result<Vec<u8>, ChartError> {
    let (w, h) = SIZE;
    let mut pixels = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, SIZE).into_drawing_area();
        draw(root, title, timeline)?;
    }
    let mut png = Vec::new();
    let encoder = image::codecs::png::PngEncoder::new(&mut png);
    image::ImageEncoder::write_image(encoder, &pixels, w, h, image::ExtendedColorType::Rgb8)
        .map_err(draw_error)?;
    Ok(png)
}

/// Writes the chart to `path`: PNG for a `.png` file, SVG otherwise.
///
/// # Errors
/// [`ChartError`] if drawing or writing fails.
pub fn write_chart(path: &Path, title: &str, timeline: &[Sample]) -> Result<(), ChartError> {
    let png = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"));
    let bytes = if png {
        render_png(title, timeline)?
    } else {
        render_svg(title, timeline)?.into_bytes()
    };
    std::fs::write(path, bytes).map_err(|source| ChartError::Write {
        path: path.display().to_string(),
        source,
    })
}
