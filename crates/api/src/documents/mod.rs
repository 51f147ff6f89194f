//! Printable documents: a small, format-neutral model of a report (a title, subtitle lines and
//! sections of paragraphs, label/value lines and one table each) and its renderers.
//!
//! A feature builds a [`Document`] from its figures (already formatted as text: the renderer
//! never formats numbers, so the PDF shows exactly what the JSON says) and hands it to
//! [`render_pdf`]:
//!
//! ```text
//! let document = Document::new("Compliance report")
//!     .subtitle("Period: 2026-11-01 – 2026-11-30")
//!     .section(Section::new("Summary").line("Compliance rate", "66.67%"))
//!     .section(
//!         Section::new("Operators").table(
//!             Table::new(vec![Column::left("Operator", 3.0), Column::right("Calls", 1.0)])
//!                 .row(["Aziza", "12"]),
//!         ),
//!     );
//! let bytes = render_pdf(&document)?;
//! ```

mod metrics;
mod pdf;
mod winansi;

pub use pdf::render_pdf;

/// A printable report. Built with [`Document::new`] and the chaining methods; every text is
/// printed as given (see [`render_pdf`] for the characters the PDF can show).
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The large heading on the first page (also the PDF's metadata title).
    pub title: String,
    /// Short lines under the title: the period, the company, when it was generated.
    pub subtitles: Vec<String>,
    /// The body, in order.
    pub sections: Vec<Section>,
}

impl Document {
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            subtitles: Vec::new(),
            sections: Vec::new(),
        }
    }

    /// Adds a line under the title.
    pub fn subtitle(mut self, line: impl Into<String>) -> Self {
        self.subtitles.push(line.into());
        self
    }

    /// Appends a section.
    pub fn section(mut self, section: Section) -> Self {
        self.sections.push(section);
        self
    }
}

/// A headed part of a document, printed in this order: paragraphs, label/value lines, table.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub heading: String,
    /// Running text, wrapped to the page width; a `\n` starts a new line.
    pub paragraphs: Vec<String>,
    /// Label/value lines such as `Compliance rate  66.67%`: labels in one column, values (bold)
    /// aligned in the next. Extracted text reads `Compliance rate 66.67%`.
    pub lines: Vec<(String, String)>,
    pub table: Option<Table>,
}

impl Section {
    pub fn new(heading: impl Into<String>) -> Self {
        Self {
            heading: heading.into(),
            paragraphs: Vec::new(),
            lines: Vec::new(),
            table: None,
        }
    }

    pub fn paragraph(mut self, text: impl Into<String>) -> Self {
        self.paragraphs.push(text.into());
        self
    }

    /// Adds a label/value line.
    pub fn line(mut self, label: impl Into<String>, value: impl Into<String>) -> Self {
        self.lines.push((label.into(), value.into()));
        self
    }

    pub fn table(mut self, table: Table) -> Self {
        self.table = Some(table);
        self
    }
}

/// A table: a header row, then one row per entry, each with exactly one cell per column
/// ([`render_pdf`] refuses a document where that is not so rather than drop a figure).
/// Long tables continue on the next pages with the header repeated.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<String>>,
    /// Printed under the header when there are no rows.
    pub empty: String,
}

impl Table {
    pub fn new(columns: Vec<Column>) -> Self {
        Self {
            columns,
            rows: Vec::new(),
            empty: "No data for this period.".to_owned(),
        }
    }

    /// Appends a row.
    pub fn row<I, S>(mut self, cells: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.rows.push(cells.into_iter().map(Into::into).collect());
        self
    }

    /// Replaces the text printed when the table has no rows.
    pub fn when_empty(mut self, text: impl Into<String>) -> Self {
        self.empty = text.into();
        self
    }
}

/// A table column: its header, how its cells align, and its share of the table width (widths
/// are proportional to the shares: `[3, 1, 1]` gives 60%, 20%, 20%).
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub header: String,
    pub align: Align,
    pub share: f32,
}

impl Column {
    /// A left-aligned column (names, dates, text).
    pub fn left(header: impl Into<String>, share: f32) -> Self {
        Self {
            header: header.into(),
            align: Align::Left,
            share,
        }
    }

    /// A right-aligned column (figures).
    pub fn right(header: impl Into<String>, share: f32) -> Self {
        Self {
            header: header.into(),
            align: Align::Right,
            share,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// Why a document cannot be rendered: a programming error in the code that built it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DocumentError {
    #[error("section {section:?}: a table needs at least one column")]
    NoColumns { section: String },
    #[error(
        "section {section:?}: column {column:?} has a share of {share}; shares must be positive"
    )]
    BadShare {
        section: String,
        column: String,
        share: f32,
    },
    #[error("section {section:?}: row {row} has {cells} cells for {columns} columns")]
    RowWidth {
        section: String,
        row: usize,
        cells: usize,
        columns: usize,
    },
}

impl Document {
    /// Checks what [`render_pdf`] relies on: tables have columns with positive shares and rows
    /// of the right width.
    fn validate(&self) -> Result<(), DocumentError> {
        for section in &self.sections {
            let Some(table) = &section.table else {
                continue;
            };
            let heading = || section.heading.clone();
            if table.columns.is_empty() {
                return Err(DocumentError::NoColumns { section: heading() });
            }
            if let Some(column) = table
                .columns
                .iter()
                .find(|c| !(c.share > 0.0 && c.share.is_finite()))
            {
                return Err(DocumentError::BadShare {
                    section: heading(),
                    column: column.header.clone(),
                    share: column.share,
                });
            }
            if let Some((row, cells)) = table
                .rows
                .iter()
                .enumerate()
                .find(|(_, r)| r.len() != table.columns.len())
            {
                return Err(DocumentError::RowWidth {
                    section: heading(),
                    row,
                    cells: cells.len(),
                    columns: table.columns.len(),
                });
            }
        }
        Ok(())
    }
}

/// The text extractor the tests use (one copy, shared with the integration-test harness).
#[cfg(test)]
#[path = "../../../../tests/src/pdf.rs"]
mod extract;
