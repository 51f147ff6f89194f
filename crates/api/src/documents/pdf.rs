//! [`render_pdf`]: a [`Document`] as an A4 PDF, laid out here and written with `pdf-writer`.
//!
//! Layout first places every mark (text run, shaded box, rule) on pages, then the pages are
//! written, so the footer can say "Page n of m". Each text run is positioned on its own and sits
//! on a shared baseline with its row, so text extraction reads a table row's cells on one line,
//! left to right.

use miniz_oxide::deflate::compress_to_vec_zlib;
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use super::winansi::{Font, encode, fit, wrap};
use super::{Align, Document, DocumentError, Section, Table};

const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
const MARGIN_X: f32 = 42.0;
const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN_X;
/// Where the first line of a page starts, and the lowest point content may reach.
const TOP: f32 = PAGE_HEIGHT - 48.0;
const BOTTOM: f32 = 54.0;
const FOOTER_BASELINE: f32 = 30.0;

const TITLE_SIZE: f32 = 18.0;
const SUBTITLE_SIZE: f32 = 10.0;
const HEADING_SIZE: f32 = 13.0;
const BODY_SIZE: f32 = 10.0;
const TABLE_SIZE: f32 = 9.0;
const FOOTER_SIZE: f32 = 8.0;
/// Line height as a multiple of the font size.
const LEADING: f32 = 1.3;
/// Table cells: inner padding, and how many lines a cell may take before it is cut with "…".
const CELL_PAD_X: f32 = 4.0;
const CELL_PAD_Y: f32 = 3.0;
const MAX_CELL_LINES: usize = 3;

/// Grays (0 black – 1 white).
const TEXT: f32 = 0.0;
const MUTED: f32 = 0.35;
const HEADER_FILL: f32 = 0.86;
const ZEBRA_FILL: f32 = 0.95;
const RULE: f32 = 0.55;

/// Renders `document` as a PDF (A4 portrait): the title and subtitles, then each section's
/// heading, paragraphs, label/value lines and table. Tables get a shaded header row repeated on
/// every page they continue on, zebra-striped rows, left- or right-aligned columns sized by
/// their shares, and cells wrapped to their column (at most three lines, then cut with "…").
/// Every page's footer reads "Page n of m".
///
/// Fonts: the PDF uses the built-in Helvetica faces and embeds no font, so text is limited to
/// Windows-1252 (Latin-1 plus typographic quotes and dashes). Other characters are
/// transliterated: Uzbek `oʻ`/`gʻ` print as `o'`/`g'`, Cyrillic in Uzbek Latin spelling
/// (`Тошкент` → `Toshkent`), anything else as `?`. The JSON and CSV exports keep the originals.
///
/// Fails only on a malformed [`Table`] (no columns, a share that is not positive, a row whose
/// cell count differs from the columns): a bug in the code that built the document.
pub fn render_pdf(document: &Document) -> Result<Vec<u8>, DocumentError> {
    document.validate()?;
    let mut layout = Layout::new();
    layout.title_block(document);
    for section in &document.sections {
        layout.section(section);
    }
    Ok(write(document, layout.pages))
}

/// One thing drawn on a page; coordinates in points from the bottom-left corner.
#[derive(Debug)]
enum Mark {
    Text {
        font: Font,
        size: f32,
        x: f32,
        baseline: f32,
        gray: f32,
        text: Vec<u8>,
    },
    Fill {
        x: f32,
        y: f32,
        width: f32,
        height: f32,
        gray: f32,
    },
    Rule {
        x: f32,
        y: f32,
        width: f32,
        gray: f32,
        thickness: f32,
    },
}

/// The pages laid out so far and the current vertical position (`y`, the top of the next line).
struct Layout {
    pages: Vec<Vec<Mark>>,
    y: f32,
}

impl Layout {
    fn new() -> Self {
        Self {
            pages: vec![Vec::new()],
            y: TOP,
        }
    }

    fn page(&mut self) -> &mut Vec<Mark> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn at_top(&self) -> bool {
        self.y >= TOP
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = TOP;
    }

    /// Starts a new page unless `height` still fits on this one (or this one is empty: then
    /// it would not fit anywhere). Says whether a page was started.
    fn ensure(&mut self, height: f32) -> bool {
        if self.y - height < BOTTOM && !self.at_top() {
            self.new_page();
            return true;
        }
        false
    }

    /// Vertical space, dropped at the top of a page.
    fn gap(&mut self, height: f32) {
        if !self.at_top() {
            self.y -= height;
        }
    }

    /// A text run whose line box starts at the current `y` (the caller advances `y`).
    fn text(&mut self, font: Font, size: f32, x: f32, gray: f32, text: Vec<u8>) {
        if text.is_empty() {
            return;
        }
        let baseline = self.y - size;
        self.page().push(Mark::Text {
            font,
            size,
            x,
            baseline,
            gray,
            text,
        });
    }

    /// Wrapped lines of running text across the content width.
    fn wrapped(&mut self, font: Font, size: f32, gray: f32, text: &str) {
        let leading = size * LEADING;
        for paragraph_line in text.split('\n') {
            for line in wrap(font, size, &encode(paragraph_line), CONTENT_WIDTH) {
                self.ensure(leading);
                self.text(font, size, MARGIN_X, gray, line);
                self.y -= leading;
            }
        }
    }

    fn title_block(&mut self, document: &Document) {
        self.wrapped(Font::Bold, TITLE_SIZE, TEXT, &document.title);
        self.y -= 4.0;
        for subtitle in &document.subtitles {
            self.wrapped(Font::Regular, SUBTITLE_SIZE, MUTED, subtitle);
        }
        self.y -= 4.0;
        let y = self.y;
        self.page().push(Mark::Rule {
            x: MARGIN_X,
            y,
            width: CONTENT_WIDTH,
            gray: RULE,
            thickness: 0.8,
        });
        self.y -= 6.0;
    }

    fn section(&mut self, section: &Section) {
        self.gap(14.0);
        // Keep the heading with the start of what follows it.
        let heading_height = HEADING_SIZE * LEADING + 4.0;
        self.ensure(heading_height + 3.0 * BODY_SIZE * LEADING);
        self.wrapped(Font::Bold, HEADING_SIZE, TEXT, &section.heading);
        self.y -= 4.0;
        for paragraph in &section.paragraphs {
            self.wrapped(Font::Regular, BODY_SIZE, TEXT, paragraph);
            self.y -= 4.0;
        }
        self.label_lines(&section.lines);
        if let Some(table) = &section.table {
            self.gap(4.0);
            self.table(table);
        }
    }

    /// Label/value lines: labels in a column as wide as the longest (within limits), values in
    /// bold after it, wrapped if long.
    fn label_lines(&mut self, lines: &[(String, String)]) {
        if lines.is_empty() {
            return;
        }
        let encoded: Vec<(Vec<u8>, Vec<u8>)> =
            lines.iter().map(|(l, v)| (encode(l), encode(v))).collect();
        let widest = encoded
            .iter()
            .map(|(label, _)| Font::Regular.width(label, BODY_SIZE))
            .fold(0.0, f32::max);
        let label_width = (widest + 16.0).min(CONTENT_WIDTH * 0.55);
        let value_width = CONTENT_WIDTH - label_width;
        let leading = BODY_SIZE * LEADING + 1.0;
        for (label, value) in encoded {
            let label = fit(Font::Regular, BODY_SIZE, &label, label_width - 8.0);
            let values = wrap(Font::Bold, BODY_SIZE, &value, value_width);
            self.ensure(leading);
            self.text(Font::Regular, BODY_SIZE, MARGIN_X, MUTED, label);
            for (index, value) in values.into_iter().enumerate() {
                if index > 0 {
                    self.ensure(leading);
                }
                self.text(Font::Bold, BODY_SIZE, MARGIN_X + label_width, TEXT, value);
                self.y -= leading;
            }
        }
        self.y -= 2.0;
    }

    fn table(&mut self, table: &Table) {
        let total: f32 = table.columns.iter().map(|c| c.share).sum();
        let mut x = MARGIN_X;
        let columns: Vec<Cell> = table
            .columns
            .iter()
            .map(|column| {
                let width = CONTENT_WIDTH * column.share / total;
                let cell = Cell {
                    x,
                    width,
                    align: column.align,
                };
                x += width;
                cell
            })
            .collect();
        let header: Vec<Vec<Vec<u8>>> = columns
            .iter()
            .zip(&table.columns)
            .map(|(cell, column)| cell.lines(Font::Bold, &column.header))
            .collect();
        let header_height = row_height(&header);

        let rows: Vec<Vec<Vec<Vec<u8>>>> = table
            .rows
            .iter()
            .map(|row| {
                columns
                    .iter()
                    .zip(row)
                    .map(|(cell, text)| cell.lines(Font::Regular, text))
                    .collect()
            })
            .collect();
        let first_row = rows
            .first()
            .map_or(TABLE_SIZE * LEADING + 2.0 * CELL_PAD_Y, |r| row_height(r));
        self.ensure(header_height + first_row);
        self.table_header(&columns, &header, header_height);

        if rows.is_empty() {
            let lines = vec![vec![encode(&table.empty)]];
            let height = row_height(&lines);
            let whole = Cell {
                x: MARGIN_X,
                width: CONTENT_WIDTH,
                align: Align::Left,
            };
            self.table_row(&[whole], &lines, height, Font::Regular, MUTED, None);
        }
        for (index, row) in rows.iter().enumerate() {
            let height = row_height(row);
            if self.ensure(height) {
                self.table_header(&columns, &header, header_height);
            }
            let shade = (index % 2 == 1).then_some(ZEBRA_FILL);
            self.table_row(&columns, row, height, Font::Regular, TEXT, shade);
        }
        let y = self.y;
        self.page().push(Mark::Rule {
            x: MARGIN_X,
            y,
            width: CONTENT_WIDTH,
            gray: RULE,
            thickness: 0.6,
        });
        self.y -= 4.0;
    }

    fn table_header(&mut self, columns: &[Cell], header: &[Vec<Vec<u8>>], height: f32) {
        self.table_row(columns, header, height, Font::Bold, TEXT, Some(HEADER_FILL));
        let y = self.y;
        self.page().push(Mark::Rule {
            x: MARGIN_X,
            y,
            width: CONTENT_WIDTH,
            gray: RULE,
            thickness: 0.6,
        });
    }

    /// One row of `height` at the current `y`: optional shading, then each cell's lines.
    fn table_row(
        &mut self,
        columns: &[Cell],
        cells: &[Vec<Vec<u8>>],
        height: f32,
        font: Font,
        gray: f32,
        shade: Option<f32>,
    ) {
        let top = self.y;
        if let Some(fill) = shade {
            self.page().push(Mark::Fill {
                x: MARGIN_X,
                y: top - height,
                width: CONTENT_WIDTH,
                height,
                gray: fill,
            });
        }
        let leading = TABLE_SIZE * LEADING;
        for (cell, lines) in columns.iter().zip(cells) {
            self.y = top - CELL_PAD_Y;
            for line in lines {
                let x = cell.text_x(font, line);
                self.text(font, TABLE_SIZE, x, gray, line.clone());
                self.y -= leading;
            }
        }
        self.y = top - height;
    }
}

/// A column's place on the page.
struct Cell {
    x: f32,
    width: f32,
    align: Align,
}

impl Cell {
    fn inner_width(&self) -> f32 {
        (self.width - 2.0 * CELL_PAD_X).max(1.0)
    }

    /// `text` wrapped to the cell, at most [`MAX_CELL_LINES`], the last cut with "…" if needed.
    fn lines(&self, font: Font, text: &str) -> Vec<Vec<u8>> {
        let mut lines = wrap(font, TABLE_SIZE, &encode(text), self.inner_width());
        if lines.len() > MAX_CELL_LINES {
            lines.truncate(MAX_CELL_LINES);
            if let Some(last) = lines.last_mut() {
                let mut cut = last.clone();
                cut.extend_from_slice(b" \x85\x85");
                *last = fit(font, TABLE_SIZE, &cut, self.inner_width());
            }
        }
        lines
    }

    fn text_x(&self, font: Font, line: &[u8]) -> f32 {
        match self.align {
            Align::Left => self.x + CELL_PAD_X,
            Align::Right => self.x + self.width - CELL_PAD_X - font.width(line, TABLE_SIZE),
        }
    }
}

fn row_height(cells: &[Vec<Vec<u8>>]) -> f32 {
    let lines = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
    lines as f32 * TABLE_SIZE * LEADING + 2.0 * CELL_PAD_Y
}

/// Writes the laid-out pages: two built-in fonts, one compressed content stream per page with
/// its footer, and the document title in the metadata.
fn write(document: &Document, pages: Vec<Vec<Mark>>) -> Vec<u8> {
    const REGULAR: Name<'static> = Name(b"F1");
    const BOLD: Name<'static> = Name(b"F2");
    let mut ids = Ref::new(1);
    let catalog_id = ids.bump();
    let tree_id = ids.bump();
    let regular_id = ids.bump();
    let bold_id = ids.bump();
    let info_id = ids.bump();
    let count = pages.len();
    let page_ids: Vec<(Ref, Ref)> = (0..count).map(|_| (ids.bump(), ids.bump())).collect();

    let mut pdf = Pdf::new();
    pdf.catalog(catalog_id).pages(tree_id);
    pdf.pages(tree_id)
        .kids(page_ids.iter().map(|(page, _)| *page))
        .count(i32::try_from(count).unwrap_or(i32::MAX));
    pdf.type1_font(regular_id)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold_id)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.document_info(info_id)
        .title(TextStr(&document.title))
        .producer(TextStr("Dialix"));

    for (number, (marks, (page_id, content_id))) in pages.into_iter().zip(&page_ids).enumerate() {
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT));
        page.parent(tree_id);
        page.contents(*content_id);
        page.resources()
            .fonts()
            .pair(REGULAR, regular_id)
            .pair(BOLD, bold_id);
        page.finish();

        let mut content = Content::new();
        let footer = format!("Page {} of {count}", number + 1).into_bytes();
        let footer_x = (PAGE_WIDTH - Font::Regular.width(&footer, FOOTER_SIZE)) / 2.0;
        let footer = Mark::Text {
            font: Font::Regular,
            size: FOOTER_SIZE,
            x: footer_x,
            baseline: FOOTER_BASELINE,
            gray: MUTED,
            text: footer,
        };
        for mark in marks.iter().chain([&footer]) {
            draw(&mut content, mark, |font| match font {
                Font::Regular => REGULAR,
                Font::Bold => BOLD,
            });
        }
        let compressed = compress_to_vec_zlib(&content.finish(), 6);
        pdf.stream(*content_id, &compressed)
            .filter(Filter::FlateDecode);
    }
    pdf.finish()
}

fn draw(content: &mut Content, mark: &Mark, font_name: impl Fn(Font) -> Name<'static>) {
    match mark {
        Mark::Text {
            font,
            size,
            x,
            baseline,
            gray,
            text,
        } => {
            content.set_fill_gray(*gray);
            content.begin_text();
            content.set_font(font_name(*font), *size);
            content.next_line(*x, *baseline);
            content.show(Str(text));
            content.end_text();
        }
        Mark::Fill {
            x,
            y,
            width,
            height,
            gray,
        } => {
            content.set_fill_gray(*gray);
            content.rect(*x, *y, *width, *height);
            content.fill_nonzero();
        }
        Mark::Rule {
            x,
            y,
            width,
            gray,
            thickness,
        } => {
            content.set_stroke_gray(*gray);
            content.set_line_width(*thickness);
            content.move_to(*x, *y);
            content.line_to(x + width, *y);
            content.stroke();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::extract::pdf_text;
    use super::super::{Column, Section, Table};
    use super::*;

    fn report(rows: usize) -> Document {
        let mut table = Table::new(vec![
            Column::left("Operator", 3.0),
            Column::right("Calls", 1.0),
            Column::right("Average score", 1.5),
            Column::right("Compliance rate", 1.5),
        ]);
        for i in 0..rows {
            table = table.row([
                format!("Operator {i:03}"),
                (i * 7).to_string(),
                format!("{}.{:02}", 50 + i % 50, i % 100),
                format!("{:.2}%", i as f64 * 100.0 / rows as f64),
            ]);
        }
        Document::new("Compliance report")
            .subtitle("Period: 2026-11-01 – 2026-11-30 (Asia/Tashkent)")
            .subtitle("Company: Acme Call Center")
            .section(
                Section::new("Summary")
                    .paragraph("Scored calls of the period, against each checklist's pass mark.")
                    .line("Scored calls", "120")
                    .line("Compliance rate", "66.67%")
                    .line("Average score", "81.25"),
            )
            .section(Section::new("Operators").table(table))
    }

    fn page_count(bytes: &[u8]) -> usize {
        lopdf::Document::load_mem(bytes)
            .expect("a PDF")
            .get_pages()
            .len()
    }

    #[test]
    fn a_long_report_reads_back_with_every_figure_in_order() {
        let bytes = render_pdf(&report(120)).expect("renders");
        assert!(bytes.starts_with(b"%PDF-"));
        let pages = page_count(&bytes);
        assert!(pages >= 3, "120 rows span pages, got {pages}");
        let text = pdf_text(&bytes);

        assert!(text.contains("Compliance report"), "{text}");
        assert!(
            text.contains("Period: 2026-11-01 – 2026-11-30 (Asia/Tashkent)"),
            "{text}"
        );
        assert!(text.contains("Company: Acme Call Center"));
        assert!(text.contains("Compliance rate 66.67%"), "{text}");
        assert!(text.contains("Scored calls 120"));
        assert!(text.contains("Average score 81.25"));
        // A row's cells read on one line, left to right.
        for (i, expected) in [
            (0, "Operator 000 0 50.00 0.00%"),
            (1, "Operator 001 7 51.01 0.83%"),
            (59, "Operator 059 413 59.59 49.17%"),
            (119, "Operator 119 833 69.19 99.17%"),
        ] {
            assert!(
                text.lines().any(|line| line == expected),
                "row {i}: {expected:?} in\n{text}"
            );
        }
        // The header is repeated on every page the table reaches, and every page is numbered.
        let headers = text
            .lines()
            .filter(|l| *l == "Operator Calls Average score Compliance rate")
            .count();
        assert_eq!(headers, pages, "{text}");
        for page in 1..=pages {
            assert!(text.contains(&format!("Page {page} of {pages}")), "{text}");
        }
        // Rows come out in order.
        let positions: Vec<usize> = (0..120)
            .map(|i| {
                text.find(&format!("Operator {i:03} "))
                    .expect("every row is printed")
            })
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn non_latin_text_is_transliterated_not_fatal() {
        let document = Document::new("Hisobot — Тошкент")
            .subtitle("Oʻlmas Gʻulomov, 李雷 😀")
            .section(
                Section::new("Операторлар").table(
                    Table::new(vec![
                        Column::left("Ism", 2.0),
                        Column::right("Qoʻngʻiroqlar", 1.0),
                    ])
                    .row(["Шаҳноза Ўринова", "5"]),
                ),
            );
        let text = pdf_text(&render_pdf(&document).expect("renders"));
        assert!(text.contains("Hisobot — Toshkent"), "{text}");
        assert!(text.contains("O'lmas G'ulomov, ?? ?"), "{text}");
        assert!(text.contains("Operatorlar"));
        assert!(text.contains("Shahnoza O'rinova 5"), "{text}");
    }

    #[test]
    fn long_cells_wrap_within_their_column_and_are_cut_after_three_lines() {
        let long = "word ".repeat(200);
        let document = Document::new("Wrapping").section(
            Section::new("Table").table(
                Table::new(vec![Column::left("Text", 1.0), Column::right("N", 1.0)])
                    .row([long.as_str(), "42"]),
            ),
        );
        let text = pdf_text(&render_pdf(&document).expect("renders"));
        let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("word")).collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(
            lines[0].ends_with(" 42"),
            "the figure sits on the row's first line: {text}"
        );
        assert!(lines[2].ends_with('…'), "{text}");
    }

    #[test]
    fn an_empty_table_says_so_and_bad_tables_are_refused() {
        let empty =
            Document::new("Empty").section(Section::new("Operators").table(
                Table::new(vec![Column::left("Operator", 1.0)]).when_empty("No scored calls."),
            ));
        let text = pdf_text(&render_pdf(&empty).expect("renders"));
        assert!(text.contains("Operator\nNo scored calls.\n"), "{text}");
        assert!(text.contains("Page 1 of 1"));

        let short_row = Document::new("Bad").section(Section::new("T").table(
            Table::new(vec![Column::left("A", 1.0), Column::left("B", 1.0)]).row(["only one"]),
        ));
        assert_eq!(
            render_pdf(&short_row),
            Err(DocumentError::RowWidth {
                section: "T".into(),
                row: 0,
                cells: 1,
                columns: 2
            })
        );
        let no_columns =
            Document::new("Bad").section(Section::new("T").table(Table::new(Vec::new())));
        assert!(matches!(
            render_pdf(&no_columns),
            Err(DocumentError::NoColumns { .. })
        ));
        let zero_share = Document::new("Bad")
            .section(Section::new("T").table(Table::new(vec![Column::left("A", 0.0)])));
        assert!(matches!(
            render_pdf(&zero_share),
            Err(DocumentError::BadShare { .. })
        ));
    }
}
