//! Line charts as SVG geometry, computed here and drawn by the template:
//! the report needs no JavaScript and no chart library, so it opens
//! offline, anywhere, exactly as it was written.
//!
//! A chart is built in three steps: a [`Frame`] says what it is (its unit
//! and the run's time span), a [`Scale`] fits the values into the plot,
//! and each series becomes a [`Line`] whose path breaks where a second has
//! no value.

use serde::Serialize;

use crate::unit::Unit;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 16.0;
/// Room above the plot for the y axis' unit.
const TOP: f64 = 24.0;
const BOTTOM: f64 = 30.0;

/// Colours by series order: Okabe and Ito's palette, which stays apart for
/// the common colour blindnesses (its yellow is left out: too faint on
/// white). A chart draws at most this many series, so no two share one.
pub const PALETTE: &[&str] = &[
    "#0072b2", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#56b4e9", "#000000",
];

/// A previous run's line, dashed; never a palette colour.
const PREVIOUS: &str = "#999999";

/// One series: (seconds, value) points, `None` where there is no value (a
/// gap in the line, not a zero).
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub unit: Unit,
    pub points: Vec<(f64, Option<f64>)>,
    /// Drawn dashed and grey: a previous run, for comparison.
    pub previous: bool,
}

/// What a chart is before its lines: its name, its y unit, and the x axis
/// it shares with every chart of its run.
#[derive(Debug, Clone)]
pub struct Frame {
    pub id: String,
    pub title: String,
    pub unit: Unit,
    /// The x axis runs from 0 to this many seconds: the run's span.
    pub x_end: f64,
    /// The y axis reaches at least this: charts side by side share a scale.
    pub y_reach: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    pub id: String,
    pub title: String,
    /// The y axis' unit: one per chart, named on the axis.
    pub unit: Unit,
    pub unit_label: &'static str,
    pub width: f64,
    pub height: f64,
    /// The x axis' end, in seconds; it starts at 0.
    pub x_end: f64,
    pub plot: Plot,
    pub x_ticks: Vec<Tick>,
    pub y_ticks: Vec<Tick>,
    pub lines: Vec<Line>,
    /// Vertical lines at moments worth pointing at, such as a scale-up.
    pub markers: Vec<Marker>,
    /// No series had a single value.
    pub empty: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Marker {
    /// Pixel position along the x axis.
    pub at: f64,
    pub label: String,
    /// The label's side of the line: `start` (right of it) in the plot's
    /// left half, `end` (left of it) in the right half, so it stays inside.
    pub anchor: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Plot {
    pub left: f64,
    pub top: f64,
    pub width: f64,
    pub height: f64,
    pub bottom: f64,
    pub right: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tick {
    /// Pixel position along its axis.
    pub at: f64,
    pub label: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub name: String,
    pub unit: Unit,
    pub color: &'static str,
    pub previous: bool,
    /// An SVG path: one `M` (move) per run of values between gaps.
    pub path: String,
}

/// The highest value of `series`: charts side by side share a y-scale by
/// drawing each up to the highest of them all.
pub fn highest(series: &[Series]) -> f64 {
    series
        .iter()
        .flat_map(|s| s.points.iter().filter_map(|&(_, y)| y))
        .fold(0.0_f64, f64::max)
}

/// The last x with a value in `series`, at least 1: the x axis' end for a
/// chart that is not a run's (the board's progress).
pub fn latest(series: &[Series]) -> f64 {
    series
        .iter()
        .flat_map(|s| s.points.iter().filter(|p| p.1.is_some()).map(|p| p.0))
        .fold(1.0_f64, f64::max)
}

/// A line chart of `series` in `frame`. The series share the frame's unit
/// and are at most [`PALETTE`] long (the caller splits larger groups).
pub fn line_chart(frame: Frame, series: &[Series]) -> Chart {
    debug_assert!(series.iter().all(|s| s.unit == frame.unit), "one unit");
    let scale = Scale::fit(&frame, series);
    Chart {
        unit_label: frame.unit.label(),
        id: frame.id,
        title: frame.title,
        unit: frame.unit,
        width: WIDTH,
        height: HEIGHT,
        x_end: scale.x_end,
        x_ticks: scale.x_ticks(),
        y_ticks: scale.y_ticks(),
        lines: lines(series, &scale),
        plot: scale.plot,
        markers: Vec::new(),
        empty: series
            .iter()
            .all(|s| s.points.iter().all(|p| p.1.is_none())),
    }
}

/// Where values land in the plot: both axes' domains and tick steps.
struct Scale {
    plot: Plot,
    x_end: f64,
    x_step: f64,
    y_top: f64,
    y_step: f64,
}

impl Scale {
    fn fit(frame: &Frame, series: &[Series]) -> Self {
        let x_end = if frame.x_end > 0.0 { frame.x_end } else { 1.0 };
        let y_max = highest(series).max(frame.y_reach);
        let y_step = nice_step(if y_max > 0.0 { y_max } else { 1.0 } / 4.0);
        Self {
            plot: Plot {
                left: LEFT,
                top: TOP,
                width: WIDTH - LEFT - RIGHT,
                height: HEIGHT - TOP - BOTTOM,
                bottom: HEIGHT - BOTTOM,
                right: WIDTH - RIGHT,
            },
            x_end,
            x_step: nice_step(x_end / 6.0).max(1.0),
            y_top: (y_max / y_step).ceil().max(1.0) * y_step,
            y_step,
        }
    }

    fn x(&self, x: f64) -> f64 {
        self.plot.left + x / self.x_end * self.plot.width
    }

    fn y(&self, y: f64) -> f64 {
        self.plot.top + self.plot.height - y / self.y_top * self.plot.height
    }

    fn x_ticks(&self) -> Vec<Tick> {
        ticks(self.x_step, self.x_end)
            .map(|x| Tick {
                at: self.x(x),
                label: format!("{x}s"),
            })
            .collect()
    }

    fn y_ticks(&self) -> Vec<Tick> {
        ticks(self.y_step, self.y_top)
            .map(|y| Tick {
                at: self.y(y),
                label: short(y),
            })
            .collect()
    }
}

/// Each series as a line: palette colours in order, grey for a previous run.
fn lines(series: &[Series], scale: &Scale) -> Vec<Line> {
    let mut colors = PALETTE.iter().copied();
    series
        .iter()
        .map(|s| Line {
            name: s.name.clone(),
            unit: s.unit,
            color: if s.previous {
                PREVIOUS
            } else {
                colors.next().unwrap_or("#000000")
            },
            previous: s.previous,
            path: path(&s.points, |x| scale.x(x), |y| scale.y(y)),
        })
        .collect()
}

/// The points of a series as an SVG path: each run of values between gaps
/// (`None`) starts with its own `M`, so a second without a value is a break
/// in the line, never a drop to zero. A lone value is a dot (`h0` with the
/// template's round line caps).
fn path(points: &[(f64, Option<f64>)], x: impl Fn(f64) -> f64, y: impl Fn(f64) -> f64) -> String {
    let mut path = String::new();
    let mut in_run = false;
    for (index, &(at, value)) in points.iter().enumerate() {
        let Some(value) = value else {
            in_run = false;
            continue;
        };
        let command = if in_run { " L" } else { " M" };
        path.push_str(&format!("{command}{:.1},{:.1}", x(at), y(value)));
        let next_missing = points.get(index + 1).is_none_or(|next| next.1.is_none());
        if !in_run && next_missing {
            path.push_str(" h0");
        }
        in_run = true;
    }
    path.trim_start().to_owned()
}

impl Chart {
    /// Adds a labelled vertical line at `second`; one past the x axis is
    /// left out, since it would point outside the plot.
    pub fn mark(&mut self, second: f64, label: &str) {
        if (0.0..=self.x_end).contains(&second) {
            let share = second / self.x_end;
            self.markers.push(Marker {
                at: self.plot.left + share * self.plot.width,
                label: label.to_owned(),
                anchor: if share > 0.5 { "end" } else { "start" },
            });
        }
    }
}

fn ticks(step: f64, max: f64) -> impl Iterator<Item = f64> {
    (0..)
        .map(move |i| f64::from(i) * step)
        .take_while(move |value| *value <= max + step * 1e-9)
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
fn nice_step(raw: f64) -> f64 {
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let magnitude = 10_f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|step| *step >= raw)
        .unwrap_or(10.0 * magnitude)
}

fn short(value: f64) -> String {
    if value >= 1000.0 && (value / 1000.0).fract() == 0.0 {
        format!("{}k", value / 1000.0)
    } else if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(x_end: f64) -> Frame {
        Frame {
            id: "c".into(),
            title: "t".into(),
            unit: Unit::Ms,
            x_end,
            y_reach: 0.0,
        }
    }

    fn series(points: Vec<(f64, Option<f64>)>) -> Series {
        Series {
            name: "p95".into(),
            unit: Unit::Ms,
            points,
            previous: false,
        }
    }

    #[test]
    fn steps_are_round_numbers() {
        assert_eq!(nice_step(0.3), 0.5);
        assert_eq!(nice_step(7.0), 10.0);
        assert_eq!(nice_step(120.0), 200.0);
        assert_eq!(nice_step(0.0), 1.0);
    }

    #[test]
    fn a_gap_breaks_the_path_and_a_lone_value_is_a_dot() {
        let points = vec![
            (0.0, Some(1.0)),
            (1.0, Some(2.0)),
            (2.0, None),
            (3.0, Some(4.0)),
        ];
        let chart = line_chart(frame(10.0), &[series(points)]);
        let path = &chart.lines[0].path;
        assert_eq!(path.matches('M').count(), 2, "{path}");
        assert!(path.ends_with(" h0"), "{path}");
        assert!(!chart.empty);
        assert!(chart.y_ticks.iter().any(|tick| tick.label == "4"));
    }

    #[test]
    fn the_x_axis_is_the_frame_s_not_the_values() {
        let chart = line_chart(frame(20.0), &[series(vec![(0.0, Some(1.0))])]);
        assert_eq!(chart.x_end, 20.0);
        assert_eq!(chart.x_ticks.last().map(|t| t.label.as_str()), Some("20s"));
    }

    #[test]
    fn series_get_distinct_colours() {
        let many: Vec<Series> = (0..PALETTE.len())
            .map(|_| series(vec![(0.0, Some(1.0))]))
            .collect();
        let chart = line_chart(frame(1.0), &many);
        let mut colors: Vec<&str> = chart.lines.iter().map(|l| l.color).collect();
        colors.sort_unstable();
        colors.dedup();
        assert_eq!(colors.len(), PALETTE.len());
    }

    #[test]
    fn a_chart_without_values_says_so() {
        assert!(line_chart(frame(1.0), &[series(vec![(0.0, None)])]).empty);
    }

    #[test]
    fn a_marker_sits_at_its_second_and_one_outside_the_axis_is_dropped() {
        let points = vec![(0.0, Some(1.0)), (10.0, Some(3.0))];
        let mut chart = line_chart(frame(10.0), &[series(points)]);
        chart.mark(5.0, "scale-up");
        chart.mark(11.0, "too late");
        assert_eq!(chart.markers.len(), 1);
        let middle = chart.plot.left + chart.plot.width / 2.0;
        assert!((chart.markers[0].at - middle).abs() < 1e-9);
        assert_eq!(chart.markers[0].anchor, "start");
        chart.mark(9.0, "late");
        assert_eq!(chart.markers[1].anchor, "end", "kept inside the plot");
    }
}
