//! The result: a Markdown section (machine, data set, table) printed and written into
//! `docs/performance.md` between its markers, leaving the rest of the page alone.

use std::path::Path;

use crate::Result;
use crate::dataset::DataSet;
use crate::load::{Measured, WARM_UP, describe_statuses};

pub const BEGIN: &str = "<!-- bench:begin -->";
pub const END: &str = "<!-- bench:end -->";

const INTRO: &str = "# Performance\n\n\
`make bench` measures the release server against a realistic data set in PostgreSQL; see \
`crates/bench`. The section below is rewritten by each run.\n\n";

pub struct Report<'a> {
    pub data: &'a DataSet,
    pub postgres: String,
    pub requests: u64,
    pub concurrency: usize,
    pub rows: &'a [Measured],
}

impl Report<'_> {
    pub fn markdown(&self) -> String {
        let data = self.data;
        let sizes = data.sizes;
        let date = time::OffsetDateTime::now_utc();
        let mut out = String::new();
        out.push_str(&format!(
            "Run {:04}-{:02}-{:02} {:02}:{:02} UTC on {}; {}.\n\n",
            date.year(),
            u8::from(date.month()),
            date.day(),
            date.hour(),
            date.minute(),
            machine(),
            self.postgres
        ));
        out.push_str(&format!(
            "Data set: {} calls over {} companies and 90 days ({:.1}% repeat calls, 2% without a \
             number, 90% analysed) and {} activity-log entries, generated {} in {}{}.\n\n",
            thousands(sizes.calls),
            sizes.companies,
            data.repeat_share * 100.0,
            thousands(sizes.audit),
            data.generated_at.get(..10).unwrap_or(&data.generated_at),
            minutes(data.generation_secs),
            data.verified
                .as_deref()
                .map(|v| format!("; hash chains verified through the API: {v}"))
                .unwrap_or_default(),
        ));
        out.push_str(&format!(
            "Measured as the administrator of one company ({} calls, {} activity-log \
             entries; repeat caller with {} calls): {} requests per endpoint from {} concurrent \
             clients after {} warm-up requests; release build, processing workers off, server \
             and PostgreSQL on the same machine.\n\n",
            thousands(data.company_calls),
            thousands(data.company_entries),
            data.phone_calls,
            self.requests,
            self.concurrency,
            WARM_UP
        ));
        out.push_str("| Endpoint | Requests | Errors | p50 ms | p95 ms | p99 ms | req/s |\n");
        out.push_str("|---|---:|---:|---:|---:|---:|---:|\n");
        let ms = |m: &Measured, p: f64| {
            m.percentile(p).map_or("–".to_owned(), |d| {
                format!("{:.1}", d.as_secs_f64() * 1e3)
            })
        };
        let mut notes = Vec::new();
        for m in self.rows {
            let path = m.path.split('?').next().unwrap_or_default();
            let errors = match m.errors() {
                0 => "0".to_owned(),
                n => {
                    let note = m.note.as_deref().unwrap_or("");
                    notes.push(if m.latencies.is_empty() {
                        format!("- `{path}`: {note}")
                    } else {
                        format!(
                            "- `{path}`: {}; first failure {note}",
                            describe_statuses(&m.statuses)
                        )
                    });
                    format!("**{n}**")
                }
            };
            out.push_str(&format!(
                "| {} `GET {}` | {} | {} | {} | {} | {} | {} |\n",
                m.name,
                generic(&m.path),
                m.latencies.len(),
                errors,
                ms(m, 50.0),
                ms(m, 95.0),
                ms(m, 99.0),
                if m.latencies.is_empty() {
                    "–".to_owned()
                } else {
                    format!("{:.1}", m.per_second())
                }
            ));
        }
        if !notes.is_empty() {
            out.push_str("\nNon-2xx responses (the row is not a valid measurement):\n\n");
            out.push_str(&notes.join("\n"));
            out.push('\n');
        }
        out
    }
}

/// Replaces the section between the markers (creating the page or the markers if missing).
pub fn write(path: &Path, section: &str) -> Result<()> {
    let page = std::fs::read_to_string(path).unwrap_or_else(|_| INTRO.to_owned());
    let block = format!("{BEGIN}\n{section}{END}");
    let updated = match (page.find(BEGIN), page.find(END)) {
        (Some(start), Some(end)) if start < end => {
            format!("{}{block}{}", &page[..start], &page[end + END.len()..])
        }
        _ => format!("{}\n\n{block}\n", page.trim_end()),
    };
    std::fs::write(path, updated)?;
    Ok(())
}

/// The path with the data set's ids put back as placeholders, so runs compare.
fn generic(path: &str) -> String {
    let mut parts: Vec<String> = path.split('/').map(str::to_owned).collect();
    for part in parts.iter_mut().skip(1) {
        let bare = part.split('?').next().unwrap_or_default();
        if bare.parse::<uuid::Uuid>().is_ok() {
            *part = part.replacen(bare, "{id}", 1);
        } else if bare.starts_with("%2B") {
            *part = part.replacen(bare, "{phone}", 1);
        }
    }
    parts.join("/")
}

/// CPU model and cores from /proc/cpuinfo, memory from /proc/meminfo.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU", |(_, m)| m.trim())
        .to_owned();
    let cores = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let memory_kib: u64 = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    format!(
        "{model}, {cores} cores, {:.0} GiB RAM",
        memory_kib as f64 / 1024.0 / 1024.0
    )
}

fn minutes(secs: f64) -> String {
    if secs < 60.0 {
        format!("{secs:.0} s")
    } else {
        format!("{} min {:02} s", (secs / 60.0) as u64, (secs % 60.0) as u64)
    }
}

pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_marked_section_is_replaced() {
        let dir = std::env::temp_dir().join(format!("dialix-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("performance.md");
        write(&path, "first\n").unwrap();
        let page = std::fs::read_to_string(&path).unwrap();
        assert!(page.starts_with("# Performance") && page.contains("first"));
        std::fs::write(
            &path,
            page.replace("# Performance", "# Performance\n\nkept"),
        )
        .unwrap();
        write(&path, "second\n").unwrap();
        let page = std::fs::read_to_string(&path).unwrap();
        assert!(page.contains("kept") && page.contains("second") && !page.contains("first"));
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_failing_endpoint_is_named_under_the_table() {
        let data = DataSet {
            sizes: crate::dataset::Sizes {
                calls: 1000,
                companies: 2,
                audit: 10,
            },
            admin_email: "a@b".into(),
            company_id: uuid::Uuid::nil(),
            company_calls: 600,
            company_entries: 5,
            phone: "+998901234567".into(),
            phone_calls: 3,
            record_id: uuid::Uuid::nil(),
            repeat_share: 0.3,
            generated_at: "2026-11-28T00:00:00Z".into(),
            generation_secs: 75.0,
            fresh: true,
            verified: None,
        };
        let missing = Measured {
            name: "Similar calls",
            path: "/calls/similar/0195a3b2-1111-7000-8000-000000000000".into(),
            latencies: Vec::new(),
            statuses: std::collections::BTreeMap::from([(404, 20)]),
            elapsed: std::time::Duration::from_secs(1),
            note: Some("not measured: warm-up got 404 × 20".into()),
        };
        let rows = [missing];
        let text = Report {
            data: &data,
            postgres: "PostgreSQL 15".into(),
            requests: 400,
            concurrency: 4,
            rows: &rows,
        }
        .markdown();
        assert!(text.contains("| Similar calls `GET /calls/similar/{id}` | 0 | **20** | – |"));
        assert!(
            text.contains("- `/calls/similar/0195a3b2-1111-7000-8000-000000000000`: not measured")
        );
        assert!(text.contains("in 1 min 15 s"));
    }

    #[test]
    fn numbers_and_paths_read_well() {
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(
            generic("/calls/similar/0195a3b2-1111-7000-8000-000000000000"),
            "/calls/similar/{id}"
        );
        assert_eq!(
            generic("/calls/grouped/%2B998901234567"),
            "/calls/grouped/{phone}"
        );
        assert_eq!(generic("/records?limit=50"), "/records?limit=50");
    }
}
