//! Trend charts drawn as SVG: the silent diseases (diabetes, hypertension) are
//! read in trends, not in single values.

use leptos::prelude::*;

use crate::model::Point;

/// Geometry of a chart (computed outside the view so it can be tested).
#[derive(Debug, Clone, PartialEq)]
pub struct Plot {
    /// One polyline per series: "x,y x,y …".
    pub lines: Vec<String>,
    /// Reference band (y top, height), if the range is known.
    pub band: Option<(f64, f64)>,
    /// Lowest and highest value shown.
    pub y_range: (f64, f64),
    /// The last point of each series.
    pub last: Vec<(f64, f64)>,
}

/// Lays points out in a `width` × `height` box with a margin.
pub fn plot(
    points: &[Point],
    low: Option<f64>,
    high: Option<f64>,
    width: f64,
    height: f64,
    margin: f64,
) -> Plot {
    let series = points.iter().map(|p| p.values.len()).max().unwrap_or(0);
    let values = points.iter().flat_map(|p| p.values.iter().copied());
    let (mut lo, mut hi) = values.fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(v), h.max(v)));
    if lo > hi {
        (lo, hi) = (0.0, 1.0);
    }
    if let Some(l) = low {
        lo = lo.min(l);
    }
    if let Some(h) = high {
        hi = hi.max(h);
    }
    let pad = ((hi - lo) * 0.1).max(0.5);
    let (lo, hi) = (lo - pad, hi + pad);
    let (t0, t1) = match (points.first(), points.last()) {
        (Some(a), Some(b)) if b.at > a.at => (a.at as f64, b.at as f64),
        (Some(a), _) => (a.at as f64 - 1.0, a.at as f64 + 1.0),
        _ => (0.0, 1.0),
    };
    let x = |t: i64| margin + (t as f64 - t0) / (t1 - t0) * (width - 2.0 * margin);
    let y = |v: f64| height - margin - (v - lo) / (hi - lo) * (height - 2.0 * margin);
    let mut lines = Vec::new();
    let mut last = Vec::new();
    for s in 0..series {
        let pts: Vec<(f64, f64)> = points
            .iter()
            .filter_map(|p| p.values.get(s).map(|v| (x(p.at), y(*v))))
            .collect();
        lines.push(
            pts.iter()
                .map(|(a, b)| format!("{a:.1},{b:.1}"))
                .collect::<Vec<_>>()
                .join(" "),
        );
        if let Some(p) = pts.last() {
            last.push(*p);
        }
    }
    let band = match (low, high) {
        (Some(l), Some(h)) => Some((y(h), y(l) - y(h))),
        (None, Some(h)) => Some((y(h), y(lo) - y(h))),
        _ => None,
    };
    Plot {
        lines,
        band,
        y_range: (lo, hi),
        last,
    }
}

/// A trend chart. `small` draws a sparkline for the dashboard.
#[component]
pub fn TrendChart(
    /// Points, oldest first.
    points: Vec<Point>,
    /// Reference range low.
    low: Option<f64>,
    /// Reference range high.
    high: Option<f64>,
    /// Accessible description.
    label: String,
    /// A small sparkline.
    #[prop(optional)]
    small: bool,
) -> impl IntoView {
    let (w, h, m) = if small {
        (160.0, 48.0, 4.0)
    } else {
        (640.0, 260.0, 28.0)
    };
    let p = plot(&points, low, high, w, h, m);
    let colors = ["#1d6fb8", "#c2410c"];
    let view_box = format!("0 0 {w} {h}");
    let first_date = points
        .first()
        .map(|p| crate::model::human_time(p.at)[..10].to_string())
        .unwrap_or_default();
    let last_date = points
        .last()
        .map(|p| crate::model::human_time(p.at)[..10].to_string())
        .unwrap_or_default();
    let (lo, hi) = p.y_range;
    view! {
        <svg class=if small { "chart small" } else { "chart" } viewBox=view_box role="img" aria-label=label data-testid="trend-chart">
            {p.band.map(|(y, height)| view! {
                <rect class="band" x=m y=y width={w - 2.0 * m} height=height.max(0.0)></rect>
            })}
            {p.lines.iter().enumerate().map(|(i, line)| view! {
                <polyline class="line" points=line.clone() fill="none" stroke=colors[i % 2] stroke-width=if small { "1.5" } else { "2.5" }></polyline>
            }).collect_view()}
            {p.last.iter().enumerate().map(|(i, (x, y))| view! {
                <circle cx=*x cy=*y r=if small { "2.5" } else { "4" } fill=colors[i % 2]></circle>
            }).collect_view()}
            {(!small).then(|| view! {
                <text class="axis" x="2" y={m}>{format!("{hi:.0}")}</text>
                <text class="axis" x="2" y={h - m}>{format!("{lo:.0}")}</text>
                <text class="axis" x=m y={h - 6.0}>{first_date.clone()}</text>
                <text class="axis end" x={w - m} y={h - 6.0} text-anchor="end">{last_date.clone()}</text>
            })}
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_fill_the_box_and_the_band_follows_the_range() {
        let pts = vec![
            Point {
                at: 0,
                values: vec![8.0],
            },
            Point {
                at: 100,
                values: vec![6.0],
            },
        ];
        let p = plot(&pts, Some(4.0), Some(5.6), 100.0, 50.0, 5.0);
        assert_eq!(p.lines.len(), 1);
        assert!(p.lines[0].starts_with("5.0,"), "{}", p.lines[0]);
        assert_eq!(p.last[0].0, 95.0);
        let (top, height) = p.band.unwrap();
        assert!(top > 5.0 && height > 0.0);
        let bp = vec![
            Point {
                at: 0,
                values: vec![140.0, 90.0],
            },
            Point {
                at: 1,
                values: vec![130.0, 85.0],
            },
        ];
        assert_eq!(plot(&bp, None, Some(130.0), 100.0, 50.0, 5.0).lines.len(), 2);
        assert_eq!(plot(&[], None, None, 10.0, 10.0, 1.0).lines.len(), 0);
    }
}
