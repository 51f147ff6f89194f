//! CSV exports (RFC 4180, UTF-8): one field writer for every export, which quotes where
//! needed and defuses text a spreadsheet would run as a formula.

use actix_web::HttpResponse;
use actix_web::http::header;

/// A whole table built in memory (figures and reports: small); the activity log streams its
/// rows through [`push_csv_field`] instead.
pub struct CsvTable {
    out: String,
}

/// One cell: text is defused, numbers are written as they are (a negative amount stays a
/// number).
pub enum Cell<'a> {
    Text(&'a str),
    Number(String),
}

impl Cell<'_> {
    pub fn number(value: impl std::fmt::Display) -> Cell<'static> {
        Cell::Number(value.to_string())
    }
}

impl<'a> From<&'a str> for Cell<'a> {
    fn from(value: &'a str) -> Self {
        Cell::Text(value)
    }
}

impl CsvTable {
    pub fn new(header: &[&str]) -> Self {
        let mut table = Self { out: String::new() };
        table.row(header.iter().map(|h| Cell::Text(h)));
        table
    }

    pub fn row<'a>(&mut self, cells: impl IntoIterator<Item = Cell<'a>>) {
        for (i, cell) in cells.into_iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            match cell {
                Cell::Text(text) => push_csv_field(&mut self.out, text),
                Cell::Number(number) => self.out.push_str(&number),
            }
        }
        self.out.push('\n');
    }

    /// The table as a download named `filename`.
    pub fn into_response(self, filename: &str) -> HttpResponse {
        csv_response(filename).body(self.out)
    }
}

/// The headers of a CSV download.
pub fn csv_response(filename: &str) -> actix_web::HttpResponseBuilder {
    let mut response = HttpResponse::Ok();
    response
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ));
    response
}

/// Appends a field, quoted when needed, and defuses values a spreadsheet would run as a
/// formula (a leading `'`).
pub fn push_csv_field(out: &mut String, value: &str) {
    let defuse = value.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quote = value.contains([',', '"', '\n', '\r']);
    if quote {
        out.push('"');
    }
    if defuse {
        out.push('\'');
    }
    if quote {
        let mut rest = value;
        while let Some(at) = rest.find('"') {
            out.push_str(&rest[..=at]);
            out.push('"');
            rest = &rest[at + 1..];
        }
        out.push_str(rest);
        out.push('"');
    } else {
        out.push_str(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv_field(value: &str) -> String {
        let mut out = String::new();
        push_csv_field(&mut out, value);
        out
    }

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field(""), "");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_field("-1,2"), "\"'-1,2\"");
    }

    #[test]
    fn numbers_stay_numbers() {
        let mut table = CsvTable::new(&["name", "amount"]);
        table.row([Cell::from("-x"), Cell::number(-150)]);
        assert_eq!(table.out, "name,amount\n'-x,-150\n");
    }
}
