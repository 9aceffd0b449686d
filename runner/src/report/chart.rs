//! Line charts as SVG geometry, computed here and drawn by the template:
//! the report needs no JavaScript and no chart library, so it opens
//! offline, anywhere, exactly as it was written.

use serde::Serialize;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 30.0;

/// Colours by series order; chosen to stay apart for common colour blindness.
const PALETTE: &[&str] = &[
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
];

/// One series: (x, y) points, `None` where there is no value (a gap).
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, Option<f64>)>,
    /// Drawn dashed and grey: a previous run, for comparison.
    pub previous: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    pub id: String,
    pub title: String,
    /// The y axis' unit, shown in its label.
    pub unit: String,
    pub width: f64,
    pub height: f64,
    pub plot: Plot,
    pub x_ticks: Vec<Tick>,
    pub y_ticks: Vec<Tick>,
    pub lines: Vec<Line>,
    /// Vertical lines at moments worth pointing at, such as a scale-up.
    pub markers: Vec<Marker>,
    /// No series had a single value.
    pub empty: bool,
    /// The x axis' end, in seconds, to place markers.
    #[serde(skip)]
    x_max: f64,
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
    pub color: String,
    pub previous: bool,
    /// SVG `points` strings, one per run of values between gaps.
    pub segments: Vec<String>,
}

/// A line chart of `series` against seconds.
pub fn line_chart(id: &str, title: &str, unit: &str, series: &[Series]) -> Chart {
    line_chart_reaching(id, title, unit, series, 0.0)
}

/// The highest value of `series`: charts side by side share a y-scale by
/// drawing each up to the highest of them all.
pub fn highest(series: &[Series]) -> f64 {
    series
        .iter()
        .flat_map(|s| s.points.iter().filter_map(|&(_, y)| y))
        .fold(0.0_f64, f64::max)
}

/// A line chart whose y-axis reaches at least `y_reach`.
pub fn line_chart_reaching(
    id: &str,
    title: &str,
    unit: &str,
    series: &[Series],
    y_reach: f64,
) -> Chart {
    let values = || {
        series
            .iter()
            .flat_map(|s| s.points.iter().filter_map(|&(x, y)| y.map(|y| (x, y))))
    };
    let x_max = values().map(|(x, _)| x).fold(1.0_f64, f64::max);
    let y_max = highest(series).max(y_reach);
    let y_step = nice_step(if y_max > 0.0 { y_max } else { 1.0 } / 4.0);
    let y_top = (y_max / y_step).ceil().max(1.0) * y_step;
    let x_step = nice_step(x_max / 6.0).max(1.0);
    let plot = Plot {
        left: LEFT,
        top: TOP,
        width: WIDTH - LEFT - RIGHT,
        height: HEIGHT - TOP - BOTTOM,
        bottom: HEIGHT - BOTTOM,
        right: WIDTH - RIGHT,
    };
    let px = |x: f64| LEFT + x / x_max * plot.width;
    let py = |y: f64| TOP + plot.height - y / y_top * plot.height;

    let mut colors = PALETTE.iter().cycle();
    let lines = series
        .iter()
        .map(|s| Line {
            name: s.name.clone(),
            color: if s.previous {
                "#9a9a9a"
            } else {
                colors.next().copied().unwrap_or("#000")
            }
            .to_owned(),
            previous: s.previous,
            segments: segments(&s.points, |(x, y)| format!("{:.1},{:.1}", px(x), py(y))),
        })
        .collect();

    let x_ticks = ticks(x_step, x_max)
        .map(|x| Tick {
            at: px(x),
            label: format!("{x}s"),
        })
        .collect();
    let y_ticks = ticks(y_step, y_top)
        .map(|y| Tick {
            at: py(y),
            label: short(y),
        })
        .collect();
    Chart {
        id: id.to_owned(),
        title: title.to_owned(),
        unit: unit.to_owned(),
        width: WIDTH,
        height: HEIGHT,
        plot,
        x_ticks,
        y_ticks,
        lines,
        markers: Vec::new(),
        empty: values().next().is_none(),
        x_max,
    }
}

/// The points of a series as SVG polyline segments: a gap (`None`) ends
/// one segment, and the next value starts another.
fn segments(points: &[(f64, Option<f64>)], at: impl Fn((f64, f64)) -> String) -> Vec<String> {
    let mut segments = Vec::new();
    let mut current = String::new();
    for &(x, y) in points {
        match y {
            Some(y) => {
                if !current.is_empty() {
                    current.push(' ');
                }
                current.push_str(&at((x, y)));
            }
            None if !current.is_empty() => segments.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        segments.push(current);
    }
    segments
}

impl Chart {
    /// Adds a labelled vertical line at `second`; one past the x axis is
    /// left out, since it would point outside the plot.
    pub fn mark(&mut self, second: f64, label: &str) {
        if (0.0..=self.x_max).contains(&second) {
            let share = second / self.x_max;
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

    #[test]
    fn steps_are_round_numbers() {
        assert_eq!(nice_step(0.3), 0.5);
        assert_eq!(nice_step(7.0), 10.0);
        assert_eq!(nice_step(120.0), 200.0);
        assert_eq!(nice_step(0.0), 1.0);
    }

    #[test]
    fn gaps_split_a_line_into_segments() {
        let series = Series {
            name: "p95".into(),
            points: vec![
                (0.0, Some(1.0)),
                (1.0, Some(2.0)),
                (2.0, None),
                (3.0, Some(4.0)),
            ],
            previous: false,
        };
        let chart = line_chart("c", "t", "ms", &[series]);
        assert_eq!(chart.lines[0].segments.len(), 2);
        assert!(!chart.empty);
        assert!(chart.y_ticks.iter().any(|tick| tick.label == "4"));
    }

    #[test]
    fn a_chart_without_values_says_so() {
        let series = Series {
            name: "x".into(),
            points: vec![(0.0, None)],
            previous: false,
        };
        assert!(line_chart("c", "t", "", &[series]).empty);
    }

    #[test]
    fn a_marker_sits_at_its_second_and_one_outside_the_axis_is_dropped() {
        let series = Series {
            name: "replicas".into(),
            points: vec![(0.0, Some(1.0)), (10.0, Some(3.0))],
            previous: false,
        };
        let mut chart = line_chart("c", "t", "", &[series]);
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
