//! Bulk loading with PostgreSQL `COPY … FROM STDIN` (text format): rows are produced on a
//! blocking thread while the connection streams the previous chunk, so generation and the
//! database's work overlap.

use sea_orm::sqlx::PgPool;
use sea_orm::sqlx::postgres::PgPoolCopyExt;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::Result;

/// Rows are sent in chunks of about this size.
const CHUNK_BYTES: usize = 1 << 20;

/// Where a producer writes rows; full chunks go to the connection.
pub struct Sink {
    buffer: Vec<u8>,
    chunks: mpsc::Sender<Vec<u8>>,
}

impl Sink {
    /// Starts a row; the previous chunk is handed over first when it is full.
    pub fn row(&mut self) -> Result<Row<'_>> {
        if self.buffer.len() >= CHUNK_BYTES {
            self.flush()?;
        }
        Ok(Row {
            buffer: &mut self.buffer,
            first: true,
        })
    }

    fn flush(&mut self) -> Result<()> {
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK_BYTES + 4096));
        self.chunks
            .blocking_send(chunk)
            .map_err(|_| "the COPY connection stopped taking rows".into())
    }
}

/// One row being written, field by field in the COPY statement's column order.
pub struct Row<'a> {
    buffer: &'a mut Vec<u8>,
    first: bool,
}

impl Row<'_> {
    fn separate(&mut self) {
        if !self.first {
            self.buffer.push(b'\t');
        }
        self.first = false;
    }

    /// A text value, escaped for the text format (backslash, tab, newline, carriage return).
    pub fn text(&mut self, value: &str) -> &mut Self {
        self.separate();
        for byte in value.bytes() {
            match byte {
                b'\\' => self.buffer.extend_from_slice(b"\\\\"),
                b'\t' => self.buffer.extend_from_slice(b"\\t"),
                b'\n' => self.buffer.extend_from_slice(b"\\n"),
                b'\r' => self.buffer.extend_from_slice(b"\\r"),
                other => self.buffer.push(other),
            }
        }
        self
    }

    pub fn null(&mut self) -> &mut Self {
        self.separate();
        self.buffer.extend_from_slice(b"\\N");
        self
    }

    pub fn opt_text(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            Some(value) => self.text(value),
            None => self.null(),
        }
    }

    pub fn int(&mut self, value: i64) -> &mut Self {
        self.separate();
        self.buffer.extend_from_slice(value.to_string().as_bytes());
        self
    }

    pub fn opt_int(&mut self, value: Option<i64>) -> &mut Self {
        match value {
            Some(value) => self.int(value),
            None => self.null(),
        }
    }

    /// A float as Rust prints it (shortest form that reads back exactly).
    pub fn opt_float(&mut self, value: Option<f64>) -> &mut Self {
        match value {
            Some(value) => {
                self.separate();
                self.buffer.extend_from_slice(value.to_string().as_bytes());
                self
            }
            None => self.null(),
        }
    }

    pub fn boolean(&mut self, value: bool) -> &mut Self {
        self.separate();
        self.buffer.push(if value { b't' } else { b'f' });
        self
    }

    pub fn opt_bool(&mut self, value: Option<bool>) -> &mut Self {
        match value {
            Some(value) => self.boolean(value),
            None => self.null(),
        }
    }

    pub fn uuid(&mut self, value: Uuid) -> &mut Self {
        self.separate();
        self.buffer.extend_from_slice(
            value
                .hyphenated()
                .encode_lower(&mut Uuid::encode_buffer())
                .as_bytes(),
        );
        self
    }

    pub fn opt_uuid(&mut self, value: Option<Uuid>) -> &mut Self {
        match value {
            Some(value) => self.uuid(value),
            None => self.null(),
        }
    }

    pub fn json(&mut self, value: &serde_json::Value) -> &mut Self {
        self.text(&value.to_string())
    }

    pub fn end(&mut self) {
        self.buffer.push(b'\n');
    }
}

/// Runs `COPY <table> (<columns>) FROM STDIN` with the rows `produce` writes (on a blocking
/// thread), and returns what `produce` returned.
pub async fn copy_in<T, F>(pool: &PgPool, table: &str, columns: &[&str], produce: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(&mut Sink) -> Result<T> + Send + 'static,
{
    let statement = format!("COPY {table} ({}) FROM STDIN", columns.join(", "));
    let mut copy = pool.copy_in_raw(&statement).await?;
    let (sender, mut receiver) = mpsc::channel::<Vec<u8>>(4);
    let producer = tokio::task::spawn_blocking(move || {
        let mut sink = Sink {
            buffer: Vec::with_capacity(CHUNK_BYTES + 4096),
            chunks: sender,
        };
        let value = produce(&mut sink)?;
        if !sink.buffer.is_empty() {
            sink.flush()?;
        }
        Ok::<T, crate::Error>(value)
    });
    let mut sent = Ok(());
    while let Some(chunk) = receiver.recv().await {
        if let Err(error) = copy.send(chunk).await {
            sent = Err(error);
            break;
        }
    }
    // Dropping the receiver stops a producer still writing after a failed send.
    drop(receiver);
    let produced = producer
        .await
        .map_err(|e| format!("{table} producer: {e}"))?;
    match (sent, produced) {
        (Err(error), _) => Err(format!("COPY {table}: {error}").into()),
        (Ok(()), Err(error)) => {
            copy.abort(error.to_string()).await.ok();
            Err(error)
        }
        (Ok(()), Ok(value)) => {
            copy.finish()
                .await
                .map_err(|e| format!("COPY {table}: {e}"))?;
            Ok(value)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_fields_are_escaped_and_nulls_marked() {
        let mut buffer = Vec::new();
        let mut row = Row {
            buffer: &mut buffer,
            first: true,
        };
        row.text("a\tb\nc\\d").null().int(-5).boolean(true).end();
        assert_eq!(
            String::from_utf8(buffer).unwrap(),
            "a\\tb\\nc\\\\d\t\\N\t-5\tt\n"
        );
    }
}
