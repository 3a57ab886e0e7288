//! SVG figures in one style (plotters): white page, a caption, margins and label areas. Every
//! plot qmulgen draws goes through [`svg`] and [`chart`].

use crate::base::Failure;
use plotters::coord::ranged1d::AsRangedCoord;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

/// The drawing area of a figure.
pub type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
/// What drawing can fail with.
pub type DrawError = Box<dyn std::error::Error>;
/// A chart on a figure, over coordinates `X` x `Y`.
pub type Chart<'a, 'b, X, Y> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<X, Y>>;

/// An SVG of `size` pixels on white, drawn by `draw`.
pub fn svg(
    size: (u32, u32),
    draw: impl FnOnce(&Area) -> Result<(), DrawError>,
) -> Result<String, Failure> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        let drawn = root
            .fill(&WHITE)
            .map_err(DrawError::from)
            .and_then(|()| draw(&root))
            .and_then(|()| root.present().map_err(DrawError::from));
        drawn.map_err(|e| Failure::Failed(format!("cannot draw the plot: {e}")))?;
    }
    Ok(out)
}

/// A chart titled `title` over the ranges `x` and `y`.
pub fn chart<'a, 'b, X: AsRangedCoord, Y: AsRangedCoord>(
    root: &'a Area<'b>,
    title: &str,
    x: X,
    y: Y,
) -> Result<Chart<'a, 'b, X::CoordDescType, Y::CoordDescType>, DrawError> {
    Ok(ChartBuilder::on(root)
        .caption(title, ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(x, y)?)
}

/// Labelled points of a trade-off plot: red where on the Pareto front (also joined by a red
/// line), blue elsewhere.
pub fn pareto_points(
    chart: &mut Chart<'_, '_, RangedCoordf64, RangedCoordf64>,
    points: &[(f64, f64, String, bool)],
) -> Result<(), DrawError> {
    let mut front: Vec<(f64, f64)> = points.iter().filter(|p| p.3).map(|p| (p.0, p.1)).collect();
    front.sort_by(|a, b| a.0.total_cmp(&b.0));
    chart.draw_series(LineSeries::new(front, RED.stroke_width(2)))?;
    chart.draw_series(points.iter().map(|(x, y, label, pareto)| {
        let color = if *pareto { RED } else { BLUE };
        EmptyElement::at((*x, *y))
            + Circle::new((0, 0), 4, color.filled())
            + Text::new(label.clone(), (6, -6), ("sans-serif", 10))
    }))?;
    Ok(())
}
