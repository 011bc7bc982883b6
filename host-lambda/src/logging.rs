//! Log lines as Powertools for AWS Lambda writes them: one flat JSON object per line.
//!
//! Every line has `level` (`INFO`, ...), `message`, `timestamp` (RFC 3339, UTC, milliseconds),
//! `service` and `location` (`module:line`), then the fields of the enclosing spans (outermost
//! first) and of the event itself, all at the top level: no `fields` or `span` objects to dig
//! into, so CloudWatch Logs Insights and Powertools-aware tooling filter on them directly. The
//! bootstrap's invocation span adds `cold_start`, `function_request_id`, `xray_trace_id`,
//! `function_name`, `function_memory_size` and `function_arn`; a `request_id` span field is
//! written as `function_request_id`.
//!
//! Values are whatever the call site logs: codes, counts, ids and keys, never mail content
//! (the tests of the Lambda host check that no address of a test mail reaches a log line).

use std::io::Write;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// A [`Layer`] writing Powertools-style JSON lines to `writer`.
pub struct PowertoolsLayer<W> {
    service: String,
    writer: W,
}

impl<W> PowertoolsLayer<W> {
    /// A layer that names `service` in every line and writes to `writer`.
    pub fn new(service: impl Into<String>, writer: W) -> Self {
        Self {
            service: service.into(),
            writer,
        }
    }
}

/// The fields a span was created (or later recorded) with.
struct SpanFields(Map<String, Value>);

/// Collects fields as JSON values; `message` is kept apart.
#[derive(Default)]
struct JsonFields {
    fields: Map<String, Value>,
    message: Option<String>,
}

impl JsonFields {
    fn put(&mut self, field: &Field, value: Value) {
        let name = match field.name() {
            "request_id" => "function_request_id",
            name => name,
        };
        if name == "message" {
            self.message = Some(match value {
                Value::String(s) => s,
                other => other.to_string(),
            });
        } else {
            self.fields.insert(name.to_owned(), value);
        }
    }
}

impl Visit for JsonFields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        let value = serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number);
        self.put(field, value);
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::from(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::from(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Value::from(value.to_string()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, Value::from(format!("{value:?}")));
    }
}

impl<S, W> Layer<S> for PowertoolsLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = JsonFields::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(fields.fields));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = JsonFields::default();
        values.record(&mut fields);
        let mut extensions = span.extensions_mut();
        match extensions.get_mut::<SpanFields>() {
            Some(existing) => existing.0.extend(fields.fields),
            None => extensions.insert(SpanFields(fields.fields)),
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let metadata = event.metadata();
        let mut line = Map::new();
        line.insert("level".into(), Value::from(metadata.level().as_str()));
        line.insert(
            "timestamp".into(),
            Value::from(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        );
        line.insert("service".into(), Value::from(self.service.as_str()));
        line.insert(
            "location".into(),
            Value::from(format!(
                "{}:{}",
                metadata.module_path().unwrap_or_else(|| metadata.target()),
                metadata.line().unwrap_or(0)
            )),
        );
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(fields) = span.extensions().get::<SpanFields>() {
                    line.extend(fields.0.clone());
                }
            }
        }
        let mut fields = JsonFields::default();
        event.record(&mut fields);
        line.extend(fields.fields);
        line.insert(
            "message".into(),
            Value::from(fields.message.unwrap_or_default()),
        );
        let mut text = Value::Object(line).to_string();
        text.push('\n');
        // A log line that cannot be written is dropped: logging must never fail a mail.
        let _ = self.writer.make_writer().write_all(text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::layer::SubscriberExt;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'w self) -> Self::Writer {
            self.clone()
        }
    }

    fn lines(buffer: &Buffer) -> Vec<Value> {
        let bytes = buffer.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(|l| serde_json::from_str(l).expect("every line is one JSON object"))
            .collect()
    }

    #[test]
    fn span_and_event_fields_are_flat_with_the_powertools_keys() {
        let buffer = Buffer::default();
        let subscriber =
            tracing_subscriber::registry().with(PowertoolsLayer::new("leads-prod", buffer.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let outer =
                tracing::info_span!("lambda", cold_start = true, xray_trace_id = "Root=1-abc");
            let _outer = outer.enter();
            let inner = tracing::info_span!("invoke", request_id = "req-7");
            let _inner = inner.enter();
            tracing::warn!(
                record_id = "r1",
                status = "partial",
                input_bytes = 12u64,
                "record written"
            );
        });
        let lines = lines(&buffer);
        assert_eq!(lines.len(), 1, "{lines:?}");
        let line = &lines[0];
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["message"], "record written");
        assert_eq!(line["service"], "leads-prod");
        assert_eq!(line["cold_start"], true);
        assert_eq!(line["xray_trace_id"], "Root=1-abc");
        assert_eq!(line["function_request_id"], "req-7");
        assert_eq!(line["record_id"], "r1");
        assert_eq!(line["status"], "partial");
        assert_eq!(line["input_bytes"], 12);
        assert!(line.get("request_id").is_none() && line.get("fields").is_none());
        let timestamp = line["timestamp"].as_str().unwrap_or_default();
        assert!(
            chrono::DateTime::parse_from_rfc3339(timestamp).is_ok() && timestamp.ends_with('Z'),
            "{timestamp}"
        );
        assert!(
            line["location"]
                .as_str()
                .is_some_and(|l| l.starts_with("mailex_lambda::logging")),
            "{line}"
        );
    }

    #[test]
    fn fields_recorded_later_reach_the_next_lines() {
        let buffer = Buffer::default();
        let subscriber =
            tracing_subscriber::registry().with(PowertoolsLayer::new("s", buffer.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("lambda", cold_start = tracing::field::Empty);
            let _entered = span.enter();
            tracing::info!("before");
            span.record("cold_start", false);
            tracing::info!(count = 2u64, "after");
        });
        let lines = lines(&buffer);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].get("cold_start").is_none(), "{}", lines[0]);
        assert_eq!(lines[1]["cold_start"], false);
        assert_eq!(lines[1]["count"], 2);
    }
}
