//! The result: a Markdown section (machine, data set, table) printed and written into
//! `docs/performance.md` between its markers, leaving the rest of the page alone.

use std::path::Path;

use crate::Result;
use crate::dataset::DataSet;
use crate::load::{
    Measured, PERIOD_DAYS, PHONE_TAIL_DIGITS, Probes, TRANSCRIPT_WORD, WARM_UP, csv_day,
    describe_statuses, period,
};
use crate::throughput::{self, Rate, Throughput};

/// The markers of a rewritten section: `<!-- {name}:begin -->` … `<!-- {name}:end -->`.
pub const LATENCY_SECTION: &str = "bench";
pub const PIPELINE_SECTION: &str = "bench-pipeline";

const INTRO: &str = "# Performance\n\n\
`make bench` measures the release server against a realistic data set in PostgreSQL; see \
`crates/bench`. The section below is rewritten by each run.\n\n";

pub struct Report<'a> {
    pub data: &'a DataSet,
    pub postgres: String,
    pub requests: u64,
    pub concurrency: usize,
    pub rows: &'a [Measured],
    pub probes: &'a Probes,
    /// The throughput mode's rows and its measured window per URL, in seconds.
    pub throughput: &'a [Throughput],
    pub throughput_secs: u64,
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
             number, 90% analysed, {} of them scored against a checklist with {} item \
             verdicts; {} ledger entries, {} chat sessions) and {} activity-log entries, \
             generated {} in {}{}.\n\n",
            thousands(sizes.calls),
            sizes.companies,
            data.repeat_share * 100.0,
            thousands(data.checked_calls),
            thousands(data.verdicts),
            thousands(data.ledger_entries),
            thousands(data.chat_sessions),
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
        out.push_str(&self.placeholders());
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
                "| {} `{} {}`{} | {} | {} | {} | {} | {} | {} |\n",
                m.name,
                m.method,
                m.template,
                m.body.map(|b| format!(" `{b}`")).unwrap_or_default(),
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
        if !self.throughput.is_empty() {
            out.push_str(&self.throughput_table());
        }
        out
    }

    /// What the placeholders of the paths stood for in this run.
    fn placeholders(&self) -> String {
        let data = self.data;
        let share = |n: u64| n as f64 * 100.0 / data.company_calls.max(1) as f64;
        let mut lines = vec![format!(
            "- `{{phone}}`: the company's busiest repeat caller ({} calls); `{{phone_tail}}`: its \
             last {PHONE_TAIL_DIGITS} digits{}.",
            data.phone_calls,
            self.probes
                .tail_calls
                .map(|n| format!(" ({} calls match)", thousands(n)))
                .unwrap_or_default()
        )];
        lines.push(format!(
            "- `{{word}}`: \"{TRANSCRIPT_WORD}\"{}.",
            self.probes
                .word_calls
                .map(|n| format!(
                    ", in the transcripts of {} of the company's {} calls ({:.1}%)",
                    thousands(n),
                    thousands(data.company_calls),
                    share(n)
                ))
                .unwrap_or_default()
        ));
        lines.push(format!(
            "- `{{day}}`: {}, a week before the data set ends{}; the CSV rows are measured on \
             keep-alive connections like every row, and once more with a new connection per \
             request.",
            csv_day(data),
            self.probes
                .csv_rows
                .map(|n| format!(" (the administrator's own log: {} rows)", thousands(n)))
                .unwrap_or_default()
        ));
        let (start, end) = period(data);
        lines.push(format!(
            "- `{{start_date}}`…`{{end_date}}`: {start} to {end}, the last {PERIOD_DAYS} days of the \
             data set in the accounts' time zone (Asia/Tashkent); `{{operator_id}}`: the \
             company's busiest operator ({} calls over the 90 days).",
            thousands(data.operator_calls)
        ));
        format!("{}\n\n", lines.join("\n"))
    }

    /// The throughput mode: requests per second per URL on each database.
    fn throughput_table(&self) -> String {
        let mut out = format!(
            "\nThroughput: {} keep-alive connections, each sending its next request as soon as \
             the previous answer is read, for {} s after {} s of warm-up; a minimal HTTP/1.1 \
             client, one thread per connection, on the same cores as the server. The same \
             release server on PostgreSQL (this data set, the same administrator) and on a \
             fresh SQLite file holding one company and its administrator.\n\n",
            throughput::CONNECTIONS,
            self.throughput_secs,
            throughput::WARM_UP.as_secs()
        );
        out.push_str(
            "| Request | PostgreSQL req/s | Errors | CPU bench / server | SQLite req/s | Errors \
             | CPU bench / server |\n",
        );
        out.push_str("|---|---:|---:|---:|---:|---:|---:|\n");
        let mut notes = Vec::new();
        let mut cells = |rate: &Option<Rate>, database: &str, path: &str| {
            let Some(rate) = rate else {
                return "– | – | –".to_owned();
            };
            if let Some(note) = rate
                .note
                .as_deref()
                .filter(|_| rate.errors > 0 || rate.ok == 0)
            {
                notes.push(format!("- `{path}` on {database}: {note}"));
            }
            let errors = match rate.errors {
                0 => "0".to_owned(),
                n => format!("**{}**", thousands(n)),
            };
            if rate.ok == 0 {
                return format!("– | {errors} | –");
            }
            format!(
                "{} | {errors} | {:.2} / {}",
                thousands(rate.per_second().round() as u64),
                rate.client_cores,
                rate.server_cores
                    .map_or("?".to_owned(), |c| format!("{c:.2}"))
            )
        };
        for row in self.throughput {
            let postgres = cells(&row.postgres, "PostgreSQL", row.path);
            let sqlite = cells(&row.sqlite, "SQLite", row.path);
            out.push_str(&format!(
                "| {} `GET {}` | {postgres} | {sqlite} |\n",
                row.name, row.path
            ));
        }
        out.push_str(
            "\nCPU: cores used during the counted seconds by the load generator (this process) and \
             by the server process; the database's own processes are not counted.\n",
        );
        if !notes.is_empty() {
            out.push_str("\nFailures (the figure is not a valid measurement):\n\n");
            out.push_str(&notes.join("\n"));
            out.push('\n');
        }
        out
    }
}

/// Replaces the section between the `name` markers (creating the page or the markers if
/// missing).
pub fn write(path: &Path, name: &str, section: &str) -> Result<()> {
    let page = std::fs::read_to_string(path).unwrap_or_else(|_| INTRO.to_owned());
    let (begin, end_marker) = (
        format!("<!-- {name}:begin -->"),
        format!("<!-- {name}:end -->"),
    );
    let block = format!("{begin}\n{section}{end_marker}");
    let updated = match (page.find(&begin), page.find(&end_marker)) {
        (Some(start), Some(end)) if start < end => {
            format!(
                "{}{block}{}",
                &page[..start],
                &page[end + end_marker.len()..]
            )
        }
        _ => format!("{}\n\n{block}\n", page.trim_end()),
    };
    std::fs::write(path, updated)?;
    Ok(())
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
        write(&path, LATENCY_SECTION, "first\n").unwrap();
        write(&path, PIPELINE_SECTION, "pipeline\n").unwrap();
        let page = std::fs::read_to_string(&path).unwrap();
        assert!(page.starts_with("# Performance") && page.contains("first"));
        std::fs::write(
            &path,
            page.replace("# Performance", "# Performance\n\nkept"),
        )
        .unwrap();
        write(&path, LATENCY_SECTION, "second\n").unwrap();
        let page = std::fs::read_to_string(&path).unwrap();
        assert!(page.contains("kept") && page.contains("second") && !page.contains("first"));
        assert!(page.contains("<!-- bench-pipeline:begin -->\npipeline\n"));
        std::fs::remove_dir_all(dir).ok();
    }

    fn data() -> DataSet {
        DataSet::sample()
    }

    #[test]
    fn a_failing_endpoint_is_named_under_the_table() {
        let data = data();
        let missing = Measured {
            name: "Similar calls",
            method: "GET",
            template: "/calls/similar/{record_id}",
            body: None,
            path: "/calls/similar/0195a3b2-1111-7000-8000-000000000000".into(),
            latencies: Vec::new(),
            statuses: std::collections::BTreeMap::from([(404, 20)]),
            elapsed: std::time::Duration::from_secs(1),
            note: Some("not measured: warm-up got 404 × 20".into()),
        };
        let rows = [missing];
        let probes = Probes {
            tail_calls: Some(4),
            word_calls: Some(60),
            csv_rows: Some(650),
        };
        let text = Report {
            data: &data,
            postgres: "PostgreSQL 15".into(),
            requests: 400,
            concurrency: 4,
            rows: &rows,
            probes: &probes,
            throughput: &[],
            throughput_secs: 10,
        }
        .markdown();
        assert!(
            text.contains("| Similar calls `GET /calls/similar/{record_id}` | 0 | **20** | – |")
        );
        assert!(
            text.contains("- `/calls/similar/0195a3b2-1111-7000-8000-000000000000`: not measured")
        );
        assert!(text.contains("in 1 min 15 s"));
        assert!(text.contains("last 7 digits (4 calls match)"), "{text}");
        assert!(
            text.contains("60 of the company's 600 calls (10.0%)"),
            "{text}"
        );
        assert!(text.contains("`{day}`: 2026-11-21"), "{text}");
        assert!(text.contains("own log: 650 rows"), "{text}");
        assert!(!text.contains("Throughput"));
    }

    #[test]
    fn throughput_has_a_column_per_database() {
        let data = data();
        let rate = |ok, errors, note: Option<&str>| Rate {
            ok,
            errors,
            window: std::time::Duration::from_secs(10),
            client_cores: 0.25,
            server_cores: Some(1.5),
            note: note.map(str::to_owned),
        };
        let rows = [
            Throughput {
                name: "Health",
                path: "/health",
                postgres: Some(rate(900_000, 0, None)),
                sqlite: Some(rate(850_000, 0, None)),
            },
            Throughput {
                name: "Who am I",
                path: "/auth/me",
                postgres: Some(rate(52_000, 3, Some("status 500"))),
                sqlite: Some(rate(0, 0, Some("not measured: the first request got 401"))),
            },
        ];
        let text = Report {
            data: &data,
            postgres: "PostgreSQL 15".into(),
            requests: 400,
            concurrency: 4,
            rows: &[],
            probes: &Probes::default(),
            throughput: &rows,
            throughput_secs: 10,
        }
        .markdown();
        assert!(
            text.contains(
                "| Health `GET /health` | 90,000 | 0 | 0.25 / 1.50 | 85,000 | 0 | 0.25 / 1.50 |"
            ),
            "{text}"
        );
        assert!(
            text.contains("| Who am I `GET /auth/me` | 5,200 | **3** | 0.25 / 1.50 | – | 0 | – |"),
            "{text}"
        );
        assert!(
            text.contains("- `/auth/me` on PostgreSQL: status 500"),
            "{text}"
        );
        assert!(
            text.contains("- `/auth/me` on SQLite: not measured"),
            "{text}"
        );
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(thousands(999), "999");
    }
}
