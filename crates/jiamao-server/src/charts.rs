//! Charts drawn on the server as inline SVG (no script): a material's balance over time, the
//! declared 单耗 of a book's versions against the national standard's maximum, and the stocktake's
//! differences by material.
//!
//! The figures are exact decimals until the last moment: the balance after each day is the ledger's
//! own 应剩余 formula ([`MaterialTotals::should_remain`]) over the drill-down's contributions; only
//! the coordinates of the drawing are floating point.

use crate::html::{escape, Chrome};
use crate::i18n::fill;
use chrono::NaiveDate;
use jiamao_domain::decimal::report_qty;
use jiamao_domain::ledger::MaterialTotals;
use jiamao_domain::movement::MaterialFigure;
use jiamao_domain::Decimal;
use std::fmt::Write as _;

/// A material's balance after every list declared on `date`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BalancePoint {
    pub date: NaiveDate,
    pub balance: Decimal,
}

/// The balance over time: from `opening`, after each day's movements (in date order).
pub(crate) fn balance_series(opening: Decimal, moves: &[(NaiveDate, MaterialFigure, Decimal)]) -> Vec<BalancePoint> {
    let mut sorted = moves.to_vec();
    sorted.sort_by_key(|m| m.0);
    let mut totals = MaterialTotals { opening, ..MaterialTotals::default() };
    let mut out: Vec<BalancePoint> = Vec::new();
    for (date, figure, qty) in sorted {
        *totals.figure_mut(figure) += qty;
        let balance = totals.should_remain();
        match out.last_mut() {
            Some(p) if p.date == date => p.balance = balance,
            _ => out.push(BalancePoint { date, balance }),
        }
    }
    out
}

fn float(d: Decimal) -> f64 {
    d.to_string().parse().unwrap_or(0.0)
}

const W: f64 = 760.0;
const H: f64 = 260.0;
const LEFT: f64 = 96.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 40.0;
/// Points drawn as dots (with their value as a tooltip) up to this many.
const DOTS: usize = 200;

/// The SVG of a balance series (`data-testid="balance-chart"`): a step line from the opening.
pub(crate) fn balance_svg(c: &Chrome, material: &str, unit: &str, opening: Decimal, points: &[BalancePoint]) -> String {
    let title = fill(c.t("chart.balance.title"), &[("material", material)]);
    let desc = match (points.first(), points.last()) {
        (Some(first), Some(last)) => fill(
            c.t("chart.balance.desc"),
            &[
                ("opening", &report_qty(opening)),
                ("from", &first.date.to_string()),
                ("to", &last.date.to_string()),
                ("last", &report_qty(last.balance)),
                ("unit", unit),
                ("n", &points.len().to_string()),
            ],
        ),
        _ => fill(c.t("chart.balance.empty"), &[("opening", &report_qty(opening)), ("unit", unit)]),
    };
    let values: Vec<f64> = std::iter::once(opening).chain(points.iter().map(|p| p.balance)).map(float).collect();
    let (mut lo, mut hi) = values.iter().fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    if (hi - lo).abs() < f64::EPSILON {
        hi = lo + 1.0;
    }
    // A little room above and below.
    let pad = (hi - lo) * 0.05;
    let (lo_axis, hi_axis) = (lo, hi);
    lo -= if lo < 0.0 { pad } else { 0.0 };
    hi += pad;
    let y = |v: f64| TOP + (hi - v) / (hi - lo) * (H - TOP - BOTTOM);
    let (d0, d1) = match (points.first(), points.last()) {
        (Some(a), Some(b)) => (a.date, b.date),
        _ => (NaiveDate::MIN, NaiveDate::MIN),
    };
    let span = ((d1 - d0).num_days().max(1)) as f64;
    let x_start = LEFT + 12.0;
    let x_end = W - RIGHT - 12.0;
    let x = |d: NaiveDate| x_start + ((d - d0).num_days() as f64) / span * (x_end - x_start);

    let mut path = format!("M{LEFT:.1},{:.1}", y(float(opening)));
    for p in points {
        let _ = write!(path, " H{:.1} V{:.1}", x(p.date), y(float(p.balance)));
    }
    let _ = write!(path, " H{:.1}", W - RIGHT);

    let mut svg = format!(
        "<svg class=\"chart\" data-testid=\"balance-chart\" role=\"img\" aria-labelledby=\"chart-title chart-desc\" viewBox=\"0 0 {W} {H}\" preserveAspectRatio=\"xMinYMin meet\" xmlns=\"http://www.w3.org/2000/svg\">\n<title id=\"chart-title\">{}</title>\n<desc id=\"chart-desc\">{}</desc>\n",
        escape(&title),
        escape(&desc)
    );
    // Axes, the zero line and the bounds.
    let _ = writeln!(svg, "<line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{:.1}\" stroke=\"#8c959f\"/>", H - BOTTOM);
    let _ = writeln!(svg, "<line x1=\"{LEFT}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#8c959f\"/>", H - BOTTOM, W - RIGHT, H - BOTTOM);
    if lo < 0.0 {
        let _ = writeln!(svg, "<line x1=\"{LEFT}\" y1=\"{0:.1}\" x2=\"{1:.1}\" y2=\"{0:.1}\" stroke=\"#b42318\" stroke-dasharray=\"4 3\"/>", y(0.0), W - RIGHT);
    }
    let label = |v: f64| {
        let d: Decimal = format!("{v:.5}").parse().unwrap_or_default();
        report_qty(d)
    };
    for v in [lo_axis, hi_axis] {
        let _ = writeln!(svg, "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#57606a\">{}</text>", LEFT - 6.0, y(v) + 4.0, escape(&label(v)));
        let _ = writeln!(svg, "<line x1=\"{:.1}\" y1=\"{1:.1}\" x2=\"{LEFT}\" y2=\"{1:.1}\" stroke=\"#8c959f\"/>", LEFT - 4.0, y(v));
    }
    if let (Some(first), Some(last)) = (points.first(), points.last()) {
        let _ = writeln!(svg, "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"start\" fill=\"#57606a\">{}</text>", x_start, H - BOTTOM + 16.0, first.date);
        if last.date != first.date {
            let _ = writeln!(svg, "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#57606a\">{}</text>", x_end, H - BOTTOM + 16.0, last.date);
        }
    }
    let _ = writeln!(svg, "<text x=\"{LEFT}\" y=\"{:.1}\" font-size=\"11\" fill=\"#57606a\">{}</text>", H - 6.0, escape(&fill(c.t("chart.balance.axis"), &[("unit", unit)])));
    let _ = writeln!(svg, "<path d=\"{path}\" fill=\"none\" stroke=\"#0b5cad\" stroke-width=\"2\"/>");
    if points.len() <= DOTS {
        for p in points {
            let _ = writeln!(svg, "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"#0b5cad\"><title>{}: {}</title></circle>", x(p.date), y(float(p.balance)), p.date, escape(&report_qty(p.balance)));
        }
    }
    svg.push_str("</svg>\n");
    svg
}

/// One 单耗 line of the consumption chart: the book's figure and the standard's maximum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UcBar {
    /// Product, version and material, as the chart labels the line.
    pub label: String,
    pub declared: Decimal,
    pub max: Decimal,
    /// The standard compared with.
    pub standard: String,
    /// Above the maximum (or otherwise flagged by the comparison).
    pub flagged: bool,
}

/// Lines drawn in one consumption chart at most (the flagged ones first).
pub(crate) const UC_BARS: usize = 60;

/// The SVG of declared 单耗 against the standard's maximum (`data-testid="uc-chart"`): per line two
/// bars, the book's figure (red when flagged) and the maximum (grey), on one scale from zero.
pub(crate) fn uc_svg(c: &Chrome, id: &str, book_no: &str, bars: &[UcBar]) -> String {
    const ROW: f64 = 30.0;
    const LABEL: f64 = 230.0;
    const TOP_UC: f64 = 34.0;
    let height = TOP_UC + ROW * bars.len().max(1) as f64 + 12.0;
    let title = fill(c.t("chart.uc.title"), &[("book_no", book_no)]);
    let flagged = bars.iter().filter(|b| b.flagged).count();
    let desc = fill(c.t("chart.uc.desc"), &[("n", &bars.len().to_string()), ("flagged", &flagged.to_string())]);
    let top = bars.iter().flat_map(|b| [float(b.declared), float(b.max)]).fold(0.0f64, f64::max);
    let top = if top > 0.0 { top * 1.08 } else { 1.0 };
    let scale = |v: f64| (v.max(0.0) / top) * (W - LABEL - 80.0);
    let mut svg = format!(
        "<svg class=\"chart\" data-testid=\"uc-chart\" data-book=\"{book}\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" viewBox=\"0 0 {W} {height:.0}\" preserveAspectRatio=\"xMinYMin meet\" xmlns=\"http://www.w3.org/2000/svg\">\n<title id=\"{id}-title\">{}</title>\n<desc id=\"{id}-desc\">{}</desc>\n",
        escape(&title),
        escape(&desc),
        book = escape(book_no),
    );
    // The legend.
    let _ = writeln!(
        svg,
        "<rect x=\"{LABEL}\" y=\"8\" width=\"12\" height=\"10\" fill=\"#0b5cad\"/><text x=\"{:.1}\" y=\"17\" font-size=\"11\" fill=\"#1f2328\">{}</text>",
        LABEL + 16.0,
        escape(c.t("chart.uc.declared"))
    );
    let _ = writeln!(
        svg,
        "<rect x=\"{:.1}\" y=\"8\" width=\"12\" height=\"10\" fill=\"#b42318\"/><text x=\"{:.1}\" y=\"17\" font-size=\"11\" fill=\"#1f2328\">{}</text>",
        LABEL + 150.0,
        LABEL + 166.0,
        escape(c.t("chart.uc.flagged"))
    );
    let _ = writeln!(
        svg,
        "<rect x=\"{:.1}\" y=\"8\" width=\"12\" height=\"10\" fill=\"#8c959f\"/><text x=\"{:.1}\" y=\"17\" font-size=\"11\" fill=\"#1f2328\">{}</text>",
        LABEL + 300.0,
        LABEL + 316.0,
        escape(c.t("chart.uc.max"))
    );
    let _ = writeln!(svg, "<line x1=\"{LABEL}\" y1=\"{TOP_UC}\" x2=\"{LABEL}\" y2=\"{:.1}\" stroke=\"#8c959f\"/>", height - 8.0);
    for (i, b) in bars.iter().enumerate() {
        let y0 = TOP_UC + ROW * i as f64;
        let (d, m) = (float(b.declared), float(b.max));
        let colour = if b.flagged { "#b42318" } else { "#0b5cad" };
        let tip = fill(c.t("chart.uc.tip"), &[("line", &b.label), ("declared", &jiamao_domain::decimal::plain(b.declared)), ("max", &jiamao_domain::decimal::plain(b.max)), ("standard", &b.standard)]);
        let _ = writeln!(
            svg,
            "<g data-flagged=\"{flag}\"><title>{tip}</title><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#1f2328\">{label}</text>\n<rect x=\"{LABEL}\" y=\"{:.1}\" width=\"{:.1}\" height=\"11\" fill=\"{colour}\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"#1f2328\">{}</text>\n<rect x=\"{LABEL}\" y=\"{:.1}\" width=\"{:.1}\" height=\"11\" fill=\"#8c959f\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"#57606a\">{}</text></g>",
            LABEL - 6.0,
            y0 + 15.0,
            y0 + 2.0,
            scale(d),
            LABEL + scale(d) + 4.0,
            y0 + 11.0,
            escape(&jiamao_domain::decimal::plain(b.declared)),
            y0 + 14.0,
            scale(m),
            LABEL + scale(m) + 4.0,
            y0 + 23.0,
            escape(&jiamao_domain::decimal::plain(b.max)),
            flag = b.flagged,
            tip = escape(&tip),
            label = escape(&b.label),
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// One material's stocktake difference (实际剩余 − 应剩余) as the chart draws it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DiffBar {
    pub seq: u32,
    pub name: String,
    pub difference: Decimal,
}

/// Materials drawn in one differences chart at most (the largest differences).
pub(crate) const DIFF_BARS: usize = 40;

/// The SVG of the stocktake's differences by material (`data-testid="differences-chart"`): one bar
/// per material from a middle axis, shortages (negative) to the left in red, surpluses to the right;
/// the [`DIFF_BARS`] largest by absolute value, largest first.
pub(crate) fn differences_svg(c: &Chrome, book_no: &str, bars: &[DiffBar]) -> String {
    const ROW: f64 = 24.0;
    const LABEL: f64 = 220.0;
    const TOP_D: f64 = 12.0;
    let mut shown: Vec<&DiffBar> = bars.iter().collect();
    shown.sort_by(|a, b| b.difference.abs().cmp(&a.difference.abs()).then(a.seq.cmp(&b.seq)));
    shown.truncate(DIFF_BARS);
    let height = TOP_D + ROW * shown.len().max(1) as f64 + 14.0;
    let title = fill(c.t("chart.diff.title"), &[("book_no", book_no)]);
    let desc = fill(c.t("chart.diff.desc"), &[("n", &shown.len().to_string()), ("total", &bars.len().to_string())]);
    let top = shown.iter().map(|b| float(b.difference.abs())).fold(0.0f64, f64::max);
    let top = if top > 0.0 { top } else { 1.0 };
    let mid = LABEL + (W - LABEL) / 2.0;
    let half = (W - LABEL) / 2.0 - 70.0;
    let mut svg = format!(
        "<svg class=\"chart\" data-testid=\"differences-chart\" role=\"img\" aria-labelledby=\"diff-title diff-desc\" viewBox=\"0 0 {W} {height:.0}\" preserveAspectRatio=\"xMinYMin meet\" xmlns=\"http://www.w3.org/2000/svg\">\n<title id=\"diff-title\">{}</title>\n<desc id=\"diff-desc\">{}</desc>\n<line x1=\"{mid:.1}\" y1=\"{:.1}\" x2=\"{mid:.1}\" y2=\"{:.1}\" stroke=\"#8c959f\"/>\n",
        escape(&title),
        escape(&desc),
        TOP_D - 4.0,
        height - 6.0,
    );
    for (i, b) in shown.iter().enumerate() {
        let v = float(b.difference);
        let w = (v.abs() / top * half).max(1.0);
        let y = TOP_D + ROW * i as f64;
        let text = report_qty(b.difference);
        let tip = fill(c.t("chart.diff.tip"), &[("seq", &b.seq.to_string()), ("name", &b.name), ("difference", &text)]);
        let (x, colour, tx, anchor) = if v < 0.0 { (mid - w, "#b42318", mid - w - 4.0, "end") } else { (mid, "#0b5cad", mid + w + 4.0, "start") };
        let _ = writeln!(
            svg,
            "<g data-seq=\"{seq}\"><title>{tip}</title><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#1f2328\">{seq} {name}</text><rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"14\" fill=\"{colour}\"/><text x=\"{tx:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"{anchor}\" fill=\"#57606a\">{}</text></g>",
            LABEL - 6.0,
            y + 15.0,
            y + 4.0,
            y + 15.0,
            escape(&text),
            seq = b.seq,
            tip = escape(&tip),
            name = escape(&b.name),
        );
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap_or_default()
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap_or_default()
    }

    #[test]
    fn the_series_follows_the_ledger_formula_day_by_day() {
        let moves = [
            (day("2026-03-01"), MaterialFigure::Consumed, d("30")),
            (day("2026-01-10"), MaterialFigure::Imported, d("100")),
            (day("2026-03-01"), MaterialFigure::LeftoverDisposed, d("5")),
            (day("2026-03-01"), MaterialFigure::Consumed, d("-2.5")),
            (day("2026-04-01"), MaterialFigure::DomesticSold, d("10")),
        ];
        let s = balance_series(d("1"), &moves);
        let got: Vec<(String, String)> = s.iter().map(|p| (p.date.to_string(), p.balance.normalize().to_string())).collect();
        assert_eq!(got, [("2026-01-10".into(), "101".into()), ("2026-03-01".into(), "73.5".into()), ("2026-04-01".into(), "63.5".into())]);
    }

    #[test]
    fn the_uc_chart_draws_declared_against_maximum() {
        let c = crate::html::tests::chrome(Lang::Zh);
        let bars = [
            UcBar { label: "1 v1 <m>".into(), declared: d("0.7"), max: d("0.698979592"), standard: "HDB/X".into(), flagged: true },
            UcBar { label: "2 v1 m".into(), declared: d("0.5"), max: d("1"), standard: "HDB/X".into(), flagged: false },
        ];
        let svg = uc_svg(&c, "uc-1", "C1", &bars);
        assert!(svg.contains("data-testid=\"uc-chart\"") && svg.contains("role=\"img\"") && svg.contains("id=\"uc-1-title\""));
        assert_eq!(svg.matches("data-flagged=\"true\"").count(), 1);
        assert!(svg.contains("&lt;m&gt;") && !svg.contains("<m>"));
        assert!(svg.contains(">0.698979592<") && svg.contains(">0.7<"), "{svg}");
    }

    #[test]
    fn the_chart_is_an_accessible_svg_even_without_movements() {
        let c = crate::html::tests::chrome(Lang::En);
        let svg = balance_svg(&c, "<LDPE>", "035", d("5"), &[]);
        assert!(svg.contains("data-testid=\"balance-chart\"") && svg.contains("role=\"img\""));
        assert!(svg.contains("&lt;LDPE&gt;") && !svg.contains("<LDPE>"));
        let pts = balance_series(d("0"), &[(day("2026-01-10"), MaterialFigure::Imported, d("100")), (day("2026-02-10"), MaterialFigure::Consumed, d("150"))]);
        let svg = balance_svg(&c, "m", "035", d("0"), &pts);
        assert!(svg.contains("stroke-dasharray"), "a negative balance draws the zero line");
        assert!(svg.contains("2026-02-10: -50"), "{svg}");
    }
    #[test]
    fn the_differences_chart_draws_the_largest_first_shortages_left() {
        let c = crate::html::tests::chrome(Lang::Zh);
        let mut bars: Vec<DiffBar> = (1..=50).map(|i| DiffBar { seq: i, name: format!("m{i}"), difference: Decimal::from(i) }).collect();
        bars.push(DiffBar { seq: 99, name: "<short>".into(), difference: d("-100.5") });
        let svg = differences_svg(&c, "C1", &bars);
        assert_eq!(svg.matches("<g data-seq=").count(), DIFF_BARS, "at most {DIFF_BARS} bars");
        let first = svg.find("<g data-seq=\"99\"").unwrap_or(usize::MAX);
        assert!(first < svg.find("<g data-seq=\"50\"").unwrap_or(0), "the largest difference first");
        assert!(!svg.contains("data-seq=\"1\""), "the smallest are left out");
        assert!(svg.contains("&lt;short&gt;") && !svg.contains("<short>"));
        assert!(svg.contains("fill=\"#b42318\""), "a shortage is red");
        assert!(svg.contains(">-100.5<"), "{svg}");
    }
}
