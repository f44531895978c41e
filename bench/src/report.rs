//! Turns [`Results`] into the ratio table of `BENCHMARKS.md` and a PNG chart.

use std::fmt::Write as _;
use std::path::Path;

use plotters::prelude::*;

use crate::driver::{Results, Session, Which};
use crate::load::BoxError;

/// Lower or higher is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Better {
    Higher,
    Lower,
}

/// One compared figure: its per-pair values for both servers.
#[derive(Debug, Clone)]
pub struct Figure {
    /// The row label.
    pub name: String,
    /// The unit of the absolute values.
    unit: &'static str,
    better: Better,
    /// The target for the ratio ours/upstream, if any.
    target: Option<f64>,
    /// Per pair: (ours, upstream).
    pairs: Vec<(f64, f64)>,
}

impl Figure {
    fn ratios(&self) -> Vec<f64> {
        self.pairs
            .iter()
            .filter(|(_, up)| *up > 0.0)
            .map(|(ours, up)| ours / up)
            .collect()
    }

    /// Median, minimum and maximum of the per-pair ratios.
    pub fn ratio(&self) -> (f64, f64, f64) {
        let r = self.ratios();
        (
            median(&r),
            r.iter().copied().fold(f64::INFINITY, f64::min),
            r.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        )
    }

    fn met(&self) -> Option<bool> {
        let target = self.target?;
        let (median, _, _) = self.ratio();
        Some(match self.better {
            Better::Higher => median >= target,
            Better::Lower => median <= target,
        })
    }

    fn target_text(&self) -> String {
        match (self.target, self.better) {
            (Some(t), Better::Higher) => format!("≥ {t:.1}"),
            (Some(t), Better::Lower) => format!("≤ {t:.1}"),
            (None, _) => "–".to_owned(),
        }
    }
}

/// The median of `values` (0 when empty).
pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

fn session(results: &Results, which: Which, pair: usize) -> Option<&Session> {
    results
        .sessions
        .iter()
        .find(|s| s.which == which && s.pair == pair)
}

fn pairs(results: &Results) -> usize {
    results
        .sessions
        .iter()
        .map(|s| s.pair + 1)
        .max()
        .unwrap_or(0)
}

/// Per-pair values of `value` for both servers.
fn collect(results: &Results, value: impl Fn(&Session) -> Option<f64>) -> Vec<(f64, f64)> {
    (0..pairs(results))
        .filter_map(|pair| {
            let ours = value(session(results, Which::Ours, pair)?)?;
            let up = value(session(results, Which::Upstream, pair)?)?;
            Some((ours, up))
        })
        .collect()
}

/// Every compared figure, in table order.
pub fn figures(results: &Results) -> Vec<Figure> {
    let mut out = Vec::new();
    let loads: Vec<(String, usize)> = results
        .sessions
        .first()
        .map(|s| {
            s.loads
                .iter()
                .map(|l| (l.op.clone(), l.connections))
                .collect()
        })
        .unwrap_or_default();
    for (op, conns) in &loads {
        let targeted = (op == "generate" || op == "decrypt") && *conns >= 16;
        let find = |s: &Session| {
            s.loads
                .iter()
                .find(|l| &l.op == op && l.connections == *conns)
                .cloned()
        };
        out.push(Figure {
            name: format!("{op} ×{conns}: ops/s"),
            unit: "ops/s",
            better: Better::Higher,
            target: targeted.then_some(2.0),
            pairs: collect(results, |s| find(s).map(|l| l.ops_per_sec)),
        });
        out.push(Figure {
            name: format!("{op} ×{conns}: p50"),
            unit: "µs",
            better: Better::Lower,
            target: None,
            pairs: collect(results, |s| find(s).map(|l| l.p50_us)),
        });
        out.push(Figure {
            name: format!("{op} ×{conns}: p99"),
            unit: "µs",
            better: Better::Lower,
            target: targeted.then_some(0.5),
            pairs: collect(results, |s| find(s).map(|l| l.p99_us)),
        });
        out.push(Figure {
            name: format!("{op} ×{conns}: CPU per 1k ops"),
            unit: "CPU s",
            better: Better::Lower,
            target: Some(0.5),
            pairs: collect(results, |s| find(s).map(|l| l.cpu_s_per_1000)),
        });
    }
    out.push(Figure {
        name: "idle RSS".to_owned(),
        unit: "MiB",
        better: Better::Lower,
        target: Some(0.5),
        pairs: collect(results, |s| Some(s.idle_rss as f64 / 1048576.0)),
    });
    out.push(Figure {
        name: "peak RSS under 64-connection load".to_owned(),
        unit: "MiB",
        better: Better::Lower,
        target: Some(1.0),
        pairs: collect(results, |s| {
            s.loads
                .iter()
                .filter(|l| l.connections == 64)
                .map(|l| l.peak_rss as f64 / 1048576.0)
                .reduce(f64::max)
        }),
    });
    out.push(Figure {
        name: "start to first successful request".to_owned(),
        unit: "ms",
        better: Better::Lower,
        target: Some(0.5),
        pairs: collect(results, |s| Some(s.startup_ms)),
    });
    out
}

fn fmt_value(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

/// The generated part of `BENCHMARKS.md`.
pub fn markdown(results: &Results, before: Option<&Results>, chart: &str) -> String {
    let mut md = String::new();
    let figs = figures(results);
    let _ = writeln!(
        md,
        "Run of {} on {}.\n\n- ours: `{}`\n- upstream: `{}`\n- {} pairs of sessions, alternating ours, upstream, ours, …; \
         each session is a fresh server process; each load: {:.0} s warm-up, {:.0} s measured.\n",
        results.date,
        results.machine,
        results.ours_version,
        results.upstream_version,
        pairs(results),
        results.warmup_s,
        results.duration_s,
    );
    let _ = writeln!(md, "![ours/upstream ratios]({chart})\n");
    let _ = writeln!(
        md,
        "| figure | ours (median) | upstream (median) | ratio ours/upstream: median | spread (min–max) | target | met |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|:---:|");
    for f in &figs {
        let ours: Vec<f64> = f.pairs.iter().map(|p| p.0).collect();
        let up: Vec<f64> = f.pairs.iter().map(|p| p.1).collect();
        let (med, lo, hi) = f.ratio();
        let met = match f.met() {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "",
        };
        let _ = writeln!(
            md,
            "| {} | {} {} | {} {} | {:.2} | {:.2}–{:.2} | {} | {} |",
            f.name,
            fmt_value(median(&ours)),
            f.unit,
            fmt_value(median(&up)),
            f.unit,
            med,
            lo,
            hi,
            f.target_text(),
            met
        );
    }
    let errors: u64 = results
        .sessions
        .iter()
        .flat_map(|s| &s.loads)
        .map(|l| l.errors)
        .sum();
    let _ = writeln!(md, "\nErrors across all loads: {errors}.");
    if let Some(first) = results
        .sessions
        .iter()
        .flat_map(|s| &s.loads)
        .find_map(|l| l.first_error.clone())
    {
        let _ = writeln!(md, "First error: `{first}`.");
    }
    let _ = writeln!(
        md,
        "\nPer load (medians over the pairs; latencies in µs; CPU in µs per operation, of the server and of \
         the load tool, which shares the cores):\n\n| load | server | p50 | p90 | p99 | p99.9 | server CPU/op | load tool CPU/op |\n|---|---|---:|---:|---:|---:|---:|---:|"
    );
    if let Some(first) = results.sessions.first() {
        for load in &first.loads {
            for which in [Which::Ours, Which::Upstream] {
                let pick = |f: fn(&crate::driver::LoadFigures) -> f64| {
                    let v: Vec<f64> = results
                        .sessions
                        .iter()
                        .filter(|s| s.which == which)
                        .filter_map(|s| {
                            s.loads
                                .iter()
                                .find(|l| l.op == load.op && l.connections == load.connections)
                        })
                        .map(f)
                        .collect();
                    median(&v)
                };
                let _ = writeln!(
                    md,
                    "| {} ×{} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.1} | {:.1} |",
                    load.op,
                    load.connections,
                    format!("{which:?}").to_lowercase(),
                    pick(|l| l.p50_us),
                    pick(|l| l.p90_us),
                    pick(|l| l.p99_us),
                    pick(|l| l.p999_us),
                    pick(|l| l.cpu_s_per_1000 * 1000.0),
                    pick(|l| l.client_cpu_s_per_1000 * 1000.0),
                );
            }
        }
    }
    if let Some(before) = before {
        let _ = writeln!(
            md,
            "\n### Before and after the optimisation (ours, medians)\n\n\
             Before: run of {} (`bench/results-before.json`); after: this run. \
             Ratio after/before.\n\n| figure | before | after | after/before | ratio to upstream before | after |\n|---|---:|---:|---:|---:|---:|",
            before.date
        );
        let old = figures(before);
        for f in &figs {
            if let Some(o) = old.iter().find(|o| o.name == f.name) {
                let a: Vec<f64> = f.pairs.iter().map(|p| p.0).collect();
                let b: Vec<f64> = o.pairs.iter().map(|p| p.0).collect();
                let (a, b) = (median(&a), median(&b));
                let _ = writeln!(
                    md,
                    "| {} | {} {} | {} {} | {:.2} | {:.2} | {:.2} |",
                    f.name,
                    fmt_value(b),
                    f.unit,
                    fmt_value(a),
                    f.unit,
                    if b > 0.0 { a / b } else { 0.0 },
                    o.ratio().0,
                    f.ratio().0
                );
            }
        }
    }
    md
}

/// Markers around the generated part; the rest of the file is kept as written.
pub const BEGIN: &str = "<!-- kes-bench: generated begin -->";
/// See [`BEGIN`].
pub const END: &str = "<!-- kes-bench: generated end -->";

/// Replaces the generated part of the document at `path` (or creates it).
pub fn write_markdown(path: &Path, generated: &str) -> Result<(), BoxError> {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let block = format!("{BEGIN}\n{generated}\n{END}");
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(b), Some(e)) if b < e => {
            format!("{}{block}{}", &old[..b], &old[e + END.len()..])
        }
        _ => format!("# Benchmarks\n\n{block}\n"),
    };
    std::fs::write(path, new)?;
    Ok(())
}

/// A TrueType font for the chart's text: the first of the usual system fonts that exists.
fn font() -> Option<&'static [u8]> {
    const CANDIDATES: [&str; 4] = [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    ];
    let bytes = CANDIDATES
        .iter()
        .find_map(|path| std::fs::read(path).ok())?;
    Some(Box::leak(bytes.into_boxed_slice()))
}

/// Draws the median ratio ours/upstream (with the min–max spread) of the headline figures.
pub fn chart(results: &Results, path: &Path) -> Result<(), BoxError> {
    let font = font().ok_or("no TrueType font found (install fonts-dejavu-core)")?;
    plotters::style::register_font("sans-serif", FontStyle::Normal, font)
        .map_err(|_| "the font could not be loaded")?;
    let figs: Vec<Figure> = figures(results)
        .into_iter()
        .filter(|f| f.target.is_some())
        .collect();
    let n = figs.len();
    let max = figs
        .iter()
        .map(|f| f.ratio().2)
        .filter(|x| x.is_finite())
        .fold(2.2_f64, f64::max)
        * 1.3;
    let height = 120 + 34 * n as u32;
    let root = BitMapBackend::new(path, (1100, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "ours / upstream KES v0.24.0 (median of pairs, bar = min–max)",
            ("sans-serif", 22),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(330)
        .build_cartesian_2d(0.0..max, 0.0..n as f64)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .disable_x_mesh()
        .y_labels(0)
        .x_labels(12)
        .x_desc("ratio ours/upstream")
        .label_style(("sans-serif", 14))
        .draw()?;
    for (i, f) in figs.iter().enumerate() {
        let y = n as f64 - 1.0 - i as f64;
        let (med, lo, hi) = f.ratio();
        let (px, py) = chart.backend_coord(&(0.0, y + 0.5));
        root.draw(&Text::new(
            f.name.clone(),
            (px - 320, py - 8),
            ("sans-serif", 14),
        ))?;
        let color = match f.met() {
            Some(true) => RGBColor(46, 139, 87),
            Some(false) => RGBColor(205, 92, 92),
            None => RGBColor(100, 120, 200),
        };
        chart.draw_series(std::iter::once(Rectangle::new(
            [(0.0, y + 0.2), (med, y + 0.8)],
            color.filled(),
        )))?;
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(lo, y + 0.5), (hi, y + 0.5)],
            BLACK.stroke_width(2),
        )))?;
        chart.draw_series(std::iter::once(Text::new(
            format!("{med:.2} (target {})", f.target_text()),
            (med.max(hi) + max * 0.01, y + 0.65),
            ("sans-serif", 13),
        )))?;
    }
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(1.0, 0.0), (1.0, n as f64)],
        BLACK.stroke_width(1),
    )))?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[]), 0.0);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn only_the_generated_part_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("B.md");
        write_markdown(&path, "one").unwrap();
        let first = std::fs::read_to_string(&path).unwrap();
        assert!(first.contains("one"));
        std::fs::write(&path, format!("{first}\n## Notes\nkept\n")).unwrap();
        write_markdown(&path, "two").unwrap();
        let second = std::fs::read_to_string(&path).unwrap();
        assert!(second.contains("two") && !second.contains("one"));
        assert!(second.contains("## Notes\nkept"));
    }
}
