//! Result tables: printed to the terminal and rendered to Markdown, with a
//! description of the machine they were measured on.

use std::fmt::Write as _;
use std::process::Command;

/// One table of results.
pub struct Table {
    pub title: String,
    /// What was measured and how, printed under the title.
    pub note: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(title: &str, note: &str, headers: &[&str]) -> Table {
        Table {
            title: title.to_string(),
            note: note.to_string(),
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; it must have one cell per header.
    pub fn row(&mut self, cells: Vec<String>) {
        assert_eq!(cells.len(), self.headers.len(), "row of {}", self.title);
        self.rows.push(cells);
    }

    /// Plain text with aligned columns, for the terminal.
    pub fn text(&self) -> String {
        let widths: Vec<usize> = (0..self.headers.len())
            .map(|c| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(c))
                    .chain([&self.headers[c]])
                    .map(|s| s.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell:<w$}"))
                .collect();
            padded.join("  ").trim_end().to_string()
        };
        let mut out = format!("== {} ==\n{}\n", self.title, self.note);
        let _ = writeln!(out, "{}", line(&self.headers));
        for row in &self.rows {
            let _ = writeln!(out, "{}", line(row));
        }
        out
    }

    /// A Markdown section: heading, note, and a pipe table.
    pub fn markdown(&self) -> String {
        let mut out = format!("## {}\n\n{}\n\n", self.title, self.note);
        let _ = writeln!(out, "| {} |", self.headers.join(" | "));
        let _ = writeln!(out, "|{}", "---|".repeat(self.headers.len()));
        for row in &self.rows {
            let _ = writeln!(out, "| {} |", row.join(" | "));
        }
        out
    }
}

/// The machine and toolchain, as `(what, value)` pairs.
pub fn machine() -> Vec<(String, String)> {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    vec![
        ("CPU".to_string(), cpu_model()),
        ("nproc".to_string(), cpus.to_string()),
        ("OS".to_string(), command_output("uname", &["-srm"])),
        ("rustc".to_string(), command_output("rustc", &["-V"])),
        (
            "load average at the end (1, 5, 15 min)".to_string(),
            load_average(),
        ),
        ("profile".to_string(), profile().to_string()),
    ]
}

/// The whole results file.
pub fn markdown_file(title: &str, intro: &str, tables: &[Table]) -> String {
    let mut out = format!("# {title}\n\n{intro}\n\n## Machine\n\n");
    for (what, value) in machine() {
        let _ = writeln!(out, "- {what}: {value}");
    }
    for table in tables {
        out.push('\n');
        out.push_str(&table.markdown());
    }
    out
}

fn profile() -> &'static str {
    if cfg!(debug_assertions) {
        "debug (numbers not meaningful: use --release)"
    } else {
        "release"
    }
}

/// Other jobs on the machine: the first three fields of /proc/loadavg.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "unknown".to_string(),
        |l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, model)| model.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}

fn command_output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut t = Table::new("Demo", "a note", &["name", "value"]);
        t.row(vec!["long name".into(), "1".into()]);
        t
    }

    #[test]
    fn text_aligns_columns() {
        let text = sample().text();
        assert!(text.contains("name       value"), "{text}");
        assert!(text.contains("long name  1"), "{text}");
    }

    #[test]
    fn markdown_has_a_pipe_table() {
        let md = sample().markdown();
        assert!(
            md.contains("| name | value |\n|---|---|\n| long name | 1 |"),
            "{md}"
        );
    }

    #[test]
    fn machine_names_the_cpu_count() {
        let cpus = machine().into_iter().find(|(k, _)| k == "nproc").unwrap().1;
        assert!(cpus.parse::<usize>().unwrap() > 0);
    }
}
