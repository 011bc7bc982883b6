//! `mailex:extractor/logging`: capped, redacted logging and panic reports.
//!
//! Plugin log lines go to `tracing` (target `mailex::plugin`) at the plugin's level, redacted
//! by [`crate::redact::redact`] (quoted parts, email addresses, URLs and numbers withheld, one
//! line of at most 200 characters), because a plugin may log what it read. At most
//! `max_log_lines` lines are kept per call; later ones are dropped and counted (the record gets
//! a `plugin_log_truncated` warning). A plugin that keeps going to [`LOG_FLOOD_FACTOR`] times
//! the cap is stopped with a trap, because it is flooding rather than logging. A panic report
//! is redacted the same way before it reaches the record.

use crate::plugin::bindings::mailex::extractor::logging::Host;
use crate::plugin::bindings::types::LogLevel;
use crate::plugin::error::truncate;
use crate::plugin::state::{HostState, LOG_FLOOD_FACTOR, MAX_LOG_LINE, MAX_PANIC_MESSAGE};
use crate::redact::redact;

impl Host for HostState {
    fn log(&mut self, level: LogLevel, message: String) -> wasmtime::Result<()> {
        if self.log.lines < self.limits.max_log_lines {
            // A kept line is work done for the plugin (a dropped one costs a counter, and
            // flooding is stopped below).
            self.host_call("log", message.len(), |_| Ok(()))?;
            self.log.lines += 1;
            // Redact at most a line's worth: what lies past it is cut anyway.
            let line = redact(&truncate(&message, MAX_LOG_LINE));
            let plugin = self.plugin.as_str();
            match level {
                LogLevel::Trace => tracing::trace!(target: "mailex::plugin", plugin, "{line}"),
                LogLevel::Debug => tracing::debug!(target: "mailex::plugin", plugin, "{line}"),
                LogLevel::Info => tracing::info!(target: "mailex::plugin", plugin, "{line}"),
                LogLevel::Warn => tracing::warn!(target: "mailex::plugin", plugin, "{line}"),
                LogLevel::Error => tracing::error!(target: "mailex::plugin", plugin, "{line}"),
            }
            return Ok(());
        }
        self.log.dropped += 1;
        let flood_at = u64::from(self.limits.max_log_lines.max(1)).saturating_mul(LOG_FLOOD_FACTOR);
        if self.log.dropped > flood_at {
            self.log.flooded = true;
            return Err(wasmtime::Error::msg("log flood: the plugin was stopped"));
        }
        Ok(())
    }

    fn report_panic(&mut self, message: String) -> wasmtime::Result<()> {
        self.panic_message = Some(redact(&truncate(&message, MAX_PANIC_MESSAGE)));
        Ok(())
    }
}
