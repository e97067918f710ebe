//! The CSV export of a solicitation's applications, for program officers' spreadsheets.
//! Fields are quoted when needed, and cells that a spreadsheet would run as a formula are
//! prefixed with an apostrophe (OWASP's CSV-injection advice).

use granary_core::time::format_instant;

use crate::model::ApplicationSummary;

fn cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The header row's column names.
pub const COLUMNS: [&str; 10] = [
    "application_id",
    "organization",
    "status",
    "project_title",
    "total_request",
    "tracking_number",
    "submitted_at",
    "submitted_at_local",
    "submissions",
    "extension_until",
];

/// The export: a header row, then one row per application, lines ending in CRLF (RFC 4180).
pub fn export(rows: &[ApplicationSummary], tz: chrono_tz::Tz) -> String {
    let mut out = COLUMNS.join(",");
    out.push_str("\r\n");
    for r in rows {
        let cells = [
            r.id.to_string(),
            r.organization.name.clone(),
            r.status.as_str().to_string(),
            r.project_title.clone(),
            r.total_request.map(|m| m.to_amount_string()).unwrap_or_default(),
            r.tracking_number.clone().unwrap_or_default(),
            r.submitted_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            r.submitted_at.map(|t| format_instant(t, tz)).unwrap_or_default(),
            r.submissions.to_string(),
            r.extension_until.map(|t| format_instant(t, tz)).unwrap_or_default(),
        ];
        let line: Vec<String> = cells.iter().map(|c| cell(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a, b"), "\"a, b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("-5"), "'-5");
        assert_eq!(cell("line\nbreak"), "\"line\nbreak\"");
    }
}
