//! The throughput mode: `CONNECTIONS` keep-alive connections hammer one URL for a fixed time,
//! each sending its next request as soon as the previous answer is read, and the completed
//! requests per second are counted.
//!
//! The load generator shares the machine's cores with the server and the database, so it
//! must cost little: one OS thread per connection and a minimal HTTP/1.1 client over a plain
//! `TcpStream` (the request bytes are built once; a response is read into a reused buffer,
//! its status and framing read from the head, its body skipped unparsed). A general client
//! (reqwest) spends more CPU per request than `/health` itself.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// One URL measured for throughput.
pub struct Target {
    pub name: &'static str,
    pub path: &'static str,
    /// Sends the administrator's bearer token.
    pub authenticated: bool,
}

pub const TARGETS: [Target; 3] = [
    // The ceiling: routing and a JSON body, no token, no database.
    Target {
        name: "Health (no authentication, no database)",
        path: "/health",
        authenticated: false,
    },
    Target {
        name: "Who am I (authentication only)",
        path: "/auth/me",
        authenticated: true,
    },
    Target {
        name: "Companies",
        path: "/companies",
        authenticated: true,
    },
];

/// The targets `BENCH_ONLY` selects (all without it).
pub fn selected(only: Option<&str>) -> impl Iterator<Item = &'static Target> {
    TARGETS
        .iter()
        .filter(move |t| only.is_none_or(|o| t.path.contains(o)))
}

/// One row of the report: a target on each database (`None`: not run).
pub struct Throughput {
    pub name: &'static str,
    pub path: &'static str,
    pub postgres: Option<Rate>,
    pub sqlite: Option<Rate>,
}

/// Concurrent keep-alive connections.
pub const CONNECTIONS: usize = 16;
/// Requests before counting (connections opened, caches and statement caches warm).
pub const WARM_UP: Duration = Duration::from_secs(2);

/// What hammering one URL on one server did.
#[derive(Debug, Clone, Default)]
pub struct Rate {
    /// 2xx responses completed inside the measured window.
    pub ok: u64,
    /// Other responses and failed exchanges inside the window.
    pub errors: u64,
    pub window: Duration,
    /// CPU used during the window, in cores: the load generator (this process) and the
    /// server process (the database's processes are not counted).
    pub client_cores: f64,
    pub server_cores: Option<f64>,
    /// Why nothing was measured, or the first failure.
    pub note: Option<String>,
}

impl Rate {
    pub fn per_second(&self) -> f64 {
        self.ok as f64 / self.window.as_secs_f64().max(1e-9)
    }
}

/// Measures every selected target against the server at `base` (`http://host:port`), one
/// after the other, printing each figure as it comes.
pub async fn measure_all(
    base: &str,
    token: &str,
    server_pid: Option<u32>,
    window: Duration,
    only: Option<&str>,
    database: &str,
) -> Vec<(&'static Target, Rate)> {
    let addr = base.trim_start_matches("http://").to_owned();
    let mut rates = Vec::new();
    for target in selected(only) {
        let (addr, token) = (addr.clone(), token.to_owned());
        let rate = tokio::task::spawn_blocking(move || {
            hammer(
                &addr,
                target.path,
                target.authenticated.then_some(token.as_str()),
                window,
                server_pid,
            )
        })
        .await
        .unwrap_or_else(|error| Rate {
            note: Some(format!("the load generator failed: {error}")),
            ..Rate::default()
        });
        println!(
            "throughput {:<11} {:<12} {}",
            database,
            target.path,
            match (&rate.note, rate.ok) {
                (Some(note), 0) => note.clone(),
                _ => format!(
                    "{:.0} req/s, {} errors (CPU: bench {:.2}, server {} cores)",
                    rate.per_second(),
                    rate.errors,
                    rate.client_cores,
                    rate.server_cores
                        .map_or("?".to_owned(), |c| format!("{c:.2}"))
                ),
            }
        );
        rates.push((target, rate));
    }
    rates
}

/// Hammers `http://{addr}{path}` from `CONNECTIONS` threads for `WARM_UP + window`, counting
/// the exchanges completed inside the window. Blocking: call it from `spawn_blocking`.
pub fn hammer(
    addr: &str,
    path: &str,
    token: Option<&str>,
    window: Duration,
    server_pid: Option<u32>,
) -> Rate {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: */*\r\n{auth}\r\n");
    // A lone request first: a URL that fails is reported, not hammered.
    match Connection::open(addr).and_then(|mut c| c.exchange(request.as_bytes())) {
        Ok(exchange) if (200..300).contains(&exchange.status) => {}
        Ok(exchange) => {
            return Rate {
                note: Some(format!(
                    "not measured: the first request got {}",
                    exchange.status
                )),
                ..Rate::default()
            };
        }
        Err(error) => {
            return Rate {
                note: Some(format!("not measured: {error}")),
                ..Rate::default()
            };
        }
    }

    let counting = Instant::now() + WARM_UP;
    let until = counting + window;
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..CONNECTIONS)
            .map(|_| scope.spawn(|| connection_loop(addr, request.as_bytes(), counting, until)))
            .collect();
        // CPU use over the window (sampled by this thread, which then only waits).
        sleep_until(counting);
        let client_before = cpu_ticks("self");
        let server_before = server_pid.and_then(|pid| cpu_ticks(&pid.to_string()));
        sleep_until(until);
        let client_after = cpu_ticks("self");
        let server_after = server_pid.and_then(|pid| cpu_ticks(&pid.to_string()));
        let cores = |before: Option<u64>, after: Option<u64>| {
            Some((after? - before?) as f64 / TICKS_PER_SECOND / window.as_secs_f64())
        };
        let mut rate = Rate {
            window,
            client_cores: cores(client_before, client_after).unwrap_or(0.0),
            server_cores: cores(server_before, server_after),
            ..Rate::default()
        };
        for thread in threads {
            let (ok, errors, failure) = thread.join().unwrap_or((0, 1, None));
            rate.ok += ok;
            rate.errors += errors;
            rate.note = rate.note.take().or(failure);
        }
        rate
    })
}

/// One connection's loop: (2xx in the window, errors in the window, the first failure).
fn connection_loop(
    addr: &str,
    request: &[u8],
    counting: Instant,
    until: Instant,
) -> (u64, u64, Option<String>) {
    let (mut ok, mut errors, mut failure) = (0u64, 0u64, None);
    let mut connection: Option<Connection> = None;
    loop {
        if Instant::now() >= until {
            break;
        }
        let outcome = match connection.as_mut() {
            Some(open) => open.exchange(request),
            None => match Connection::open(addr) {
                Ok(open) => connection.insert(open).exchange(request),
                Err(error) => Err(error),
            },
        };
        let done = Instant::now();
        let counted = done >= counting && done <= until;
        match outcome {
            Ok(exchange) => {
                if (200..300).contains(&exchange.status) {
                    ok += u64::from(counted);
                } else {
                    errors += u64::from(counted);
                    failure = failure.or_else(|| Some(format!("status {}", exchange.status)));
                }
                if !exchange.keep_alive {
                    connection = None;
                }
            }
            Err(error) => {
                errors += u64::from(counted);
                failure = failure.or_else(|| Some(error.to_string()));
                connection = None;
                // Do not spin when the server refuses connections.
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
    (ok, errors, failure)
}

fn sleep_until(at: Instant) {
    let now = Instant::now();
    if at > now {
        std::thread::sleep(at - now);
    }
}

/// Linux's `USER_HZ`: the unit of the CPU times in `/proc/*/stat`.
const TICKS_PER_SECOND: f64 = 100.0;

/// User plus system CPU time of `/proc/{pid}/stat` (`self` for this process), in ticks.
fn cpu_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces: count fields after its ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // utime and stime are fields 14 and 15; field 3 (the state) is fields[0].
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some(user + system)
}

/// What one exchange on a connection returned.
pub struct Exchange {
    pub status: u16,
    /// Whether the connection can carry the next request.
    pub keep_alive: bool,
}

/// A keep-alive HTTP/1.1 connection with a reused read buffer.
struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
    /// Unread bytes are `buffer[start..end]`.
    start: usize,
    end: usize,
}

impl Connection {
    fn open(addr: &str) -> io::Result<Self> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        stream.set_write_timeout(Some(Duration::from_secs(30)))?;
        Ok(Self {
            stream,
            buffer: vec![0; 64 * 1024],
            start: 0,
            end: 0,
        })
    }

    /// Sends `request` and reads the whole response (the body is skipped, not kept).
    fn exchange(&mut self, request: &[u8]) -> io::Result<Exchange> {
        self.stream.write_all(request)?;
        let head_end = loop {
            if let Some(at) = find(&self.buffer[self.start..self.end], b"\r\n\r\n") {
                break self.start + at + 4;
            }
            self.fill_or_eof()?;
        };
        let head = parse_head(&self.buffer[self.start..head_end])?;
        self.start = head_end;
        let mut keep_alive = head.keep_alive;
        match head.body {
            Body::Length(length) => self.skip(length)?,
            Body::Chunked => loop {
                let line = self.line()?;
                let size = chunk_size(&self.buffer[line.0..line.1])?;
                if size == 0 {
                    // Trailers, up to an empty line.
                    loop {
                        let (from, to) = self.line()?;
                        if from == to {
                            break;
                        }
                    }
                    break;
                }
                self.skip(size + 2)?;
            },
            Body::UntilClose => {
                self.start = self.end;
                while self.fill()? > 0 {
                    self.start = self.end;
                }
                keep_alive = false;
            }
        }
        Ok(Exchange {
            status: head.status,
            keep_alive,
        })
    }

    /// Reads more bytes after the unread ones; 0 at the end of the stream.
    fn fill(&mut self) -> io::Result<usize> {
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        } else if self.end == self.buffer.len() {
            self.buffer.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, self.end - self.start);
            if self.end == self.buffer.len() {
                // A head larger than the buffer.
                self.buffer.resize(self.buffer.len() * 2, 0);
            }
        }
        let read = self.stream.read(&mut self.buffer[self.end..])?;
        self.end += read;
        Ok(read)
    }

    fn fill_or_eof(&mut self) -> io::Result<()> {
        match self.fill()? {
            0 => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection mid-response",
            )),
            _ => Ok(()),
        }
    }

    fn skip(&mut self, mut count: usize) -> io::Result<()> {
        loop {
            let available = self.end - self.start;
            if available >= count {
                self.start += count;
                return Ok(());
            }
            count -= available;
            self.start = self.end;
            self.fill_or_eof()?;
        }
    }

    /// The next line without its CRLF, as a range of `buffer`, consumed.
    fn line(&mut self) -> io::Result<(usize, usize)> {
        loop {
            if let Some(at) = find(&self.buffer[self.start..self.end], b"\r\n") {
                let line = (self.start, self.start + at);
                self.start += at + 2;
                return Ok(line);
            }
            self.fill_or_eof()?;
        }
    }
}

enum Body {
    Length(usize),
    Chunked,
    UntilClose,
}

struct Head {
    status: u16,
    keep_alive: bool,
    body: Body,
}

/// Status and framing of a response head (`HTTP/1.1 200 OK\r\n…\r\n\r\n`).
fn parse_head(head: &[u8]) -> io::Result<Head> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .get(9..12)
        .and_then(|s| std::str::from_utf8(s).ok())
        .and_then(|s| s.parse().ok())
        .filter(|_| status_line.starts_with(b"HTTP/1."))
        .ok_or_else(|| bad("not an HTTP/1.x status line"))?;
    let mut keep_alive = status_line.starts_with(b"HTTP/1.1");
    let mut body = Body::UntilClose;
    for line in lines {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        if name.eq_ignore_ascii_case(b"content-length") {
            if !matches!(body, Body::Chunked) {
                let length = std::str::from_utf8(value)
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .ok_or_else(|| bad("bad Content-Length"))?;
                body = Body::Length(length);
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            if value.eq_ignore_ascii_case(b"chunked") {
                body = Body::Chunked;
            }
        } else if name.eq_ignore_ascii_case(b"connection") {
            if value.eq_ignore_ascii_case(b"close") {
                keep_alive = false;
            } else if value.eq_ignore_ascii_case(b"keep-alive") {
                keep_alive = true;
            }
        }
    }
    // 1xx, 204 and 304 have no body whatever the headers say.
    if status < 200 || status == 204 || status == 304 {
        body = Body::Length(0);
    }
    Ok(Head {
        status,
        keep_alive,
        body,
    })
}

fn chunk_size(line: &[u8]) -> io::Result<usize> {
    let digits = line.split(|&b| b == b';').next().unwrap_or_default();
    std::str::from_utf8(digits.trim_ascii())
        .ok()
        .and_then(|d| usize::from_str_radix(d, 16).ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A server that answers each request with the next canned response, then closes.
    fn canned(responses: Vec<&'static [u8]>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut buffer = [0u8; 4096];
            for response in responses {
                let mut seen = Vec::new();
                while find(&seen, b"\r\n\r\n").is_none() {
                    let n = stream.read(&mut buffer).unwrap();
                    seen.extend_from_slice(&buffer[..n]);
                }
                // Split the response in two writes to exercise partial reads.
                let (a, b) = response.split_at(response.len() / 2);
                stream.write_all(a).unwrap();
                stream.flush().unwrap();
                std::thread::sleep(Duration::from_millis(5));
                stream.write_all(b).unwrap();
            }
        });
        addr
    }

    #[test]
    fn sized_chunked_and_closing_responses_are_read_whole() {
        let addr = canned(vec![
            b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\n{\"a\":\"ok\"}\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nab,c\r\n3;x=1\r\nd\ne\r\n0\r\n\r\n",
            b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 2\r\n\r\n{}",
            b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nuntil the end",
        ]);
        let mut connection = Connection::open(&addr).unwrap();
        let request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        let statuses: Vec<(u16, bool)> = (0..4)
            .map(|_| {
                let e = connection.exchange(request).unwrap();
                (e.status, e.keep_alive)
            })
            .collect();
        assert_eq!(
            statuses,
            [(200, true), (200, true), (401, true), (200, false)]
        );
        assert_eq!(connection.start, connection.end);
    }

    #[test]
    fn proc_stat_reads_this_process() {
        assert!(cpu_ticks("self").is_some());
    }
}
