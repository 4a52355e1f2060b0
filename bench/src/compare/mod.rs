//! The side-by-side comparison with Wasmtime 48 (issue 5): the same component
//! files run by Rivet (compiled at build time by `build.rs`) and by Wasmtime (JIT,
//! default configuration and pooling allocator), in this process, alternating.

mod calls;
mod compile;
mod exe;
mod instances;
mod kernels;
mod rivet_side;
mod sample;
mod size;
mod wasmtime_side;

use std::fmt::Write as _;
use std::path::Path;
pub use wasmtime_side::leave_out as leave_out_wasmtime;

/// What a row measures, which decides how its numbers are written.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Nanos,
    Bytes,
    /// A count or a ratio.
    Count,
}

/// One workload: a median per contender (`None` where it does not apply) and the
/// target for the ratio Wasmtime / Rivet.
pub struct Row {
    pub workload: &'static str,
    pub unit: Unit,
    pub rivet: Option<f64>,
    pub wasmtime: Option<f64>,
    pub pooling: Option<f64>,
    pub native: Option<f64>,
    /// The target, in words (e.g. `≥ 3`), and whether the row meets it.
    pub target: String,
    pub met: Option<bool>,
}

impl Row {
    /// Wasmtime (default configuration) / Rivet: above 1 means Rivet is faster
    /// or smaller (or, for counts, where more is better, Rivet / Wasmtime).
    pub fn ratio(&self) -> Option<f64> {
        self.favouring_rivet(self.wasmtime?)
    }

    /// As [`Row::ratio`], against Wasmtime with the pooling allocator.
    pub fn pooling_ratio(&self) -> Option<f64> {
        self.favouring_rivet(self.pooling?)
    }

    fn favouring_rivet(&self, other: f64) -> Option<f64> {
        let rivet = self.rivet?;
        Some(match self.unit {
            Unit::Count => rivet / other,
            Unit::Nanos | Unit::Bytes => other / rivet,
        })
    }
}

/// Short names of the workloads, for `--only NAME`, in run order.
pub const WORKLOADS: [&str; 11] = [
    "instantiate",
    "add",
    "echo",
    "echo16",
    "echo64k",
    "records",
    "kernels",
    "compile",
    "size",
    "exe",
    "instances",
];

/// Runs every workload and writes `results.csv` and `RESULTS.md` into `dir`;
/// with `only`, runs that workload and writes nothing.
pub fn run(dir: &Path, scratch: &Path, only: Option<&str>) -> Result<Vec<Row>, String> {
    if let Some(name) = only.filter(|n| !WORKLOADS.contains(n)) {
        return Err(format!(
            "no workload `{name}` (one of {})",
            WORKLOADS.join(", ")
        ));
    }
    let pick = |name: &str| only.is_none_or(|o| o == name);
    let mut rows = calls::run(&pick)?;
    if pick("kernels") {
        rows.extend(kernels::run()?);
    }
    if pick("compile") {
        rows.extend(compile::run()?);
    }
    if pick("size") {
        rows.extend(size::run(scratch)?);
    }
    if pick("exe") {
        rows.extend(exe::run(scratch)?);
    }
    if pick("instances") {
        rows.extend(instances::run()?);
    }
    if only.is_some() {
        return Ok(rows);
    }
    write(&dir.join("results.csv"), &csv(&rows))?;
    write(&dir.join("RESULTS.md"), &markdown(&rows))?;
    Ok(rows)
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}

/// `workload,rivet,wasmtime,wasmtime_pooling,native,ratio`: times in nanoseconds,
/// sizes in bytes (the workload name says which), empty where not measured. The
/// workload is quoted: its text contains commas.
pub fn csv(rows: &[Row]) -> String {
    let mut out = "workload,rivet,wasmtime,wasmtime_pooling,native,ratio\n".to_string();
    let num = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.1}"));
    for r in rows {
        let ratio = r.ratio().map_or(String::new(), |v| format!("{v:.3}"));
        let _ = writeln!(
            out,
            "\"{}\",{},{},{},{},{ratio}",
            r.workload.replace('"', "\"\""),
            num(r.rivet),
            num(r.wasmtime),
            num(r.pooling),
            num(r.native)
        );
    }
    out
}

/// A value for humans: ns, µs, ms or s; B, KB or MB.
fn human(v: Option<f64>, unit: Unit) -> String {
    let Some(v) = v else {
        return "–".to_string();
    };
    match unit {
        Unit::Nanos if v < 1e3 => format!("{v:.1} ns"),
        Unit::Nanos if v < 1e6 => format!("{:.2} µs", v / 1e3),
        Unit::Nanos if v < 1e9 => format!("{:.2} ms", v / 1e6),
        Unit::Nanos => format!("{:.2} s", v / 1e9),
        Unit::Bytes if v < 1e4 => format!("{v:.0} B"),
        Unit::Bytes if v < 1e6 => format!("{:.1} KB", v / 1e3),
        Unit::Bytes => format!("{:.2} MB", v / 1e6),
        Unit::Count if v < 100.0 => format!("{v:.2}"),
        Unit::Count => format!("{v:.0}"),
    }
}

fn ratio_text(v: Option<f64>) -> String {
    v.map_or("–".to_string(), |v| format!("{v:.2}"))
}

/// The terminal table and the Markdown table share these cells.
fn cells(r: &Row) -> Vec<String> {
    vec![
        r.workload.to_string(),
        human(r.rivet, r.unit),
        human(r.wasmtime, r.unit),
        human(r.pooling, r.unit),
        human(r.native, r.unit),
        ratio_text(r.ratio()),
        ratio_text(r.pooling_ratio()),
        r.target.clone(),
        match r.met {
            Some(true) => "met".to_string(),
            Some(false) => "**missed**".to_string(),
            None => "–".to_string(),
        },
    ]
}

const HEADERS: [&str; 9] = [
    "workload",
    "Rivet",
    "Wasmtime",
    "Wasmtime pooling",
    "native",
    "Wasmtime / Rivet",
    "pooling / Rivet",
    "target",
    "target met",
];

/// The results as a terminal table.
pub fn table(rows: &[Row]) -> crate::report::Table {
    let mut t = crate::report::Table::new(
        "Rivet vs Wasmtime 48",
        "Medians of CPU time per operation (wall time where the workload says so; sizes in \
         bytes); ratios above 1 favour Rivet.",
        &HEADERS,
    );
    for r in rows {
        t.row(cells(r));
    }
    t
}

fn markdown(rows: &[Row]) -> String {
    let intro = include_str!("../../RESULTS-intro.md");
    let mut text =
        crate::report::markdown_file("Rivet vs Wasmtime 48", intro.trim(), &[table(rows)]);
    text.push_str(&summary(rows));
    text
}

/// Which targets were met, and for each missed one where the ratio stands.
fn summary(rows: &[Row]) -> String {
    let judged: Vec<&Row> = rows.iter().filter(|r| r.met.is_some()).collect();
    let met = judged.iter().filter(|r| r.met == Some(true)).count();
    let mut out = format!("\n## Targets\n\n{met} of {} targets met.\n\n", judged.len());
    for r in judged.iter().filter(|r| r.met == Some(false)) {
        let _ = writeln!(
            out,
            "- missed: {}: Wasmtime / Rivet = {} (target {})",
            r.workload,
            ratio_text(r.ratio()),
            r.target
        );
    }
    out
}
