//! JSON rendering: the contract (`schema: "appvet/report/v1"`).

use super::Report;

/// One report as an indented document (single input).
pub fn render_pretty(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

/// One report on one line (JSON Lines, several inputs).
pub fn render_line(report: &Report) -> String {
    let mut s = serde_json::to_string(report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

/// The record a batch writes for an input that yielded no report.
pub fn render_error_line(path: &str, error: &str) -> String {
    let v = serde_json::json!({
        "schema": "appvet/error/v1",
        "input": { "path": path },
        "error": error,
    });
    format!("{v}\n")
}
