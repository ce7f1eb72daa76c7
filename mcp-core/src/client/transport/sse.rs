//! An incremental `text/event-stream` decoder (the parts MCP uses: `data`,
//! `id`, `event`, `retry`, comments).

use std::time::Duration;

/// One dispatched event.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Event {
    /// The `event` field, when present.
    pub(super) event: Option<String>,
    /// The `data` lines, joined with `\n`.
    pub(super) data: String,
}

/// The longest event accepted (16 MiB).
const MAX_EVENT: usize = 16 << 20;

/// Decodes SSE from chunks of bytes, which may split lines anywhere.
#[derive(Debug, Default)]
pub(super) struct Decoder {
    buf: Vec<u8>,
    data: Option<String>,
    event: Option<String>,
    /// The last event id seen (kept across events, per the SSE rules).
    pub(super) last_event_id: Option<String>,
    /// The reconnection delay the server asked for.
    pub(super) retry: Option<Duration>,
}

impl Decoder {
    /// Feeds bytes; returns the events they complete.
    ///
    /// # Errors
    /// When an event grows past 16 MiB or a line is not UTF-8.
    pub(super) fn feed(&mut self, chunk: &[u8]) -> Result<Vec<Event>, String> {
        self.buf.extend_from_slice(chunk);
        let mut out = Vec::new();
        let mut start = 0;
        while let Some(nl) = self.buf[start..].iter().position(|&b| b == b'\n' || b == b'\r') {
            let end = start + nl;
            let line = std::str::from_utf8(&self.buf[start..end])
                .map_err(|e| format!("event stream is not UTF-8: {e}"))?
                .to_owned();
            // A CR LF pair is one line ending; a lone CR at the end of the
            // buffer may be followed by LF in the next chunk.
            let mut next = end + 1;
            if self.buf[end] == b'\r' {
                if next == self.buf.len() {
                    break;
                }
                if self.buf[next] == b'\n' {
                    next += 1;
                }
            }
            start = next;
            if let Some(ev) = self.line(&line)? {
                out.push(ev);
            }
        }
        self.buf.drain(..start);
        if self.buf.len() > MAX_EVENT {
            return Err(format!("an event stream line exceeds {MAX_EVENT} bytes"));
        }
        Ok(out)
    }

    fn line(&mut self, line: &str) -> Result<Option<Event>, String> {
        if line.is_empty() {
            let event = self.event.take();
            return Ok(self.data.take().map(|data| Event { event, data }));
        }
        if line.starts_with(':') {
            return Ok(None);
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "data" => match &mut self.data {
                Some(data) if data.len() + value.len() > MAX_EVENT => {
                    return Err(format!("an event exceeds {MAX_EVENT} bytes"));
                }
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            "event" => self.event = Some(value.to_owned()),
            "id" if !value.contains('\0') => self.last_event_id = Some(value.to_owned()),
            "retry" => {
                if let Ok(ms) = value.parse::<u64>() {
                    self.retry = Some(Duration::from_millis(ms));
                }
            }
            _ => {}
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_chunks_crlf_ids_and_priming() {
        let mut d = Decoder::default();
        let mut events = d.feed(b"id: 7\r\nretry: 300\r\ndata: \r\n\r\n: keepalive\n\nevent: message\nda").expect("ok");
        events.extend(d.feed(b"ta: {\"a\":\n").expect("ok"));
        events.extend(d.feed(b"data: 1}\n\n").expect("ok"));
        assert_eq!(d.last_event_id.as_deref(), Some("7"));
        assert_eq!(d.retry, Some(Duration::from_millis(300)));
        assert_eq!(events[0], Event { event: None, data: String::new() });
        assert_eq!(events[1], Event { event: Some("message".into()), data: "{\"a\":\n1}".into() });
        assert_eq!(events.len(), 2);
    }

    #[test]
    fn oversized_lines_are_refused() {
        let mut d = Decoder::default();
        assert!(d.feed(&vec![b'x'; MAX_EVENT + 1]).is_err());
    }
}
