//! The text of a PDF, line by line, for asserting what a report prints (like `pdftotext`, but
//! in Rust so tests need nothing beyond the toolchain).
//!
//! Text runs are placed by their text matrix (`Td`/`TD`/`Tm`/`T*` and `cm`), grouped into lines
//! by baseline, ordered top to bottom and left to right, and joined with single spaces: a table
//! row's cells come out as one line, `Operator 001 7 51.01 0.83%`. Pages follow each other.
//! Runs are not advanced by their glyph widths, so this suits PDFs that position every run, as
//! `dialix_api`'s document renderer does; it is not a general-purpose extractor.
//!
//! Also compiled into `dialix-api`'s unit tests (`documents/mod.rs` includes this file), so it
//! uses nothing but `lopdf` and `std`.

use std::collections::BTreeMap;

use lopdf::content::Content;
use lopdf::{Document, Encoding, Object};

/// Two runs whose baselines differ by less than this (points) are on the same line.
const SAME_LINE: f32 = 2.0;

/// The text of every page of `bytes`, one line per baseline (see the module comment).
/// Panics on a PDF it cannot read: a test failure either way.
pub fn pdf_text(bytes: &[u8]) -> String {
    let document = Document::load_mem(bytes).expect("a readable PDF");
    let mut lines = Vec::new();
    for page_id in document.get_pages().into_values() {
        lines.extend(page_lines(&document, page_id));
    }
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

/// A piece of text and where its baseline starts on the page.
struct Run {
    x: f32,
    y: f32,
    text: String,
}

type Matrix = [f32; 6];
const IDENTITY: Matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];

/// `a` then `b` (PDF's row-vector convention: `a × b`).
fn multiply(a: &Matrix, b: &Matrix) -> Matrix {
    [
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    ]
}

fn translation(x: f32, y: f32) -> Matrix {
    [1.0, 0.0, 0.0, 1.0, x, y]
}

/// Moves to the start of the next line, `(dx, dy)` from the current one.
fn next_line(dx: f32, dy: f32, line_start: &mut Matrix, tm: &mut Matrix) {
    *line_start = multiply(&translation(dx, dy), line_start);
    *tm = *line_start;
}

fn numbers(operands: &[Object]) -> Vec<f32> {
    operands.iter().filter_map(|o| o.as_float().ok()).collect()
}

fn page_lines(document: &Document, page_id: lopdf::ObjectId) -> Vec<String> {
    let fonts = document.get_page_fonts(page_id).expect("page fonts");
    let encodings: BTreeMap<Vec<u8>, Encoding> = fonts
        .into_iter()
        .map(|(name, font)| {
            (
                name,
                font.get_font_encoding(document).expect("a font encoding"),
            )
        })
        .collect();
    let content = Content::decode(&document.get_page_content(page_id)).expect("a content stream");

    let mut runs = Vec::new();
    let mut ctm = IDENTITY;
    let mut saved = Vec::new();
    let (mut tm, mut line_start) = (IDENTITY, IDENTITY);
    let mut leading = 0.0;
    let mut encoding = None;
    for operation in &content.operations {
        let operands = &operation.operands;
        match operation.operator.as_str() {
            "q" => saved.push(ctm),
            "Q" => ctm = saved.pop().unwrap_or(IDENTITY),
            "cm" => {
                if let Ok(m) = <[f32; 6]>::try_from(numbers(operands)) {
                    ctm = multiply(&m, &ctm);
                }
            }
            "BT" => (tm, line_start) = (IDENTITY, IDENTITY),
            "Tf" => {
                encoding = operands
                    .first()
                    .and_then(|name| name.as_name().ok())
                    .and_then(|name| encodings.get(name));
            }
            "TL" => leading = numbers(operands).first().copied().unwrap_or(leading),
            "Td" | "TD" => {
                if let [dx, dy] = numbers(operands)[..] {
                    if operation.operator == "TD" {
                        leading = -dy;
                    }
                    next_line(dx, dy, &mut line_start, &mut tm);
                }
            }
            "Tm" => {
                if let Ok(m) = <[f32; 6]>::try_from(numbers(operands)) {
                    (tm, line_start) = (m, m);
                }
            }
            "T*" => next_line(0.0, -leading, &mut line_start, &mut tm),
            operator @ ("Tj" | "TJ" | "'" | "\"") => {
                if operator != "Tj" && operator != "TJ" {
                    next_line(0.0, -leading, &mut line_start, &mut tm);
                }
                let Some(encoding) = encoding else { continue };
                let shown = operands
                    .last()
                    .map(|o| shown_text(encoding, o))
                    .unwrap_or_default();
                let at = multiply(&tm, &ctm);
                runs.push(Run {
                    x: at[4],
                    y: at[5],
                    text: shown,
                });
            }
            _ => {}
        }
    }
    lines_of(runs)
}

/// The text a `Tj`/`TJ` operand shows; in a `TJ` array a large negative kerning is a space.
fn shown_text(encoding: &Encoding, operand: &Object) -> String {
    match operand {
        Object::String(bytes, _) => Document::decode_text(encoding, bytes).unwrap_or_default(),
        Object::Array(items) => items
            .iter()
            .map(|item| match item {
                Object::Integer(i) if *i < -200 => " ".to_owned(),
                Object::Real(r) if *r < -200.0 => " ".to_owned(),
                other => shown_text(encoding, other),
            })
            .collect(),
        _ => String::new(),
    }
}

/// Runs grouped by baseline, top to bottom, each line left to right.
fn lines_of(mut runs: Vec<Run>) -> Vec<String> {
    runs.retain(|run| !run.text.trim().is_empty());
    runs.sort_by(|a, b| b.y.total_cmp(&a.y));
    let mut lines: Vec<(f32, Vec<Run>)> = Vec::new();
    for run in runs {
        match lines.last_mut() {
            Some((y, line)) if (*y - run.y).abs() < SAME_LINE => line.push(run),
            _ => lines.push((run.y, vec![run])),
        }
    }
    lines
        .into_iter()
        .map(|(_, mut line)| {
            line.sort_by(|a, b| a.x.total_cmp(&b.x));
            line.iter()
                .map(|run| run.text.trim())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}
