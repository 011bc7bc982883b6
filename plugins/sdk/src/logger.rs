//! The [`log`] backend: every `log::info!` and friends goes to the host's `log`.

use crate::bindings::mailex::extractor::types::LogLevel;
use crate::imports::logging;

struct HostLogger;

static LOGGER: HostLogger = HostLogger;

impl log::Log for HostLogger {
    fn enabled(&self, _metadata: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        let level = match record.level() {
            log::Level::Error => LogLevel::Error,
            log::Level::Warn => LogLevel::Warn,
            log::Level::Info => LogLevel::Info,
            log::Level::Debug => LogLevel::Debug,
            log::Level::Trace => LogLevel::Trace,
        };
        logging::log(level, &record.args().to_string());
    }

    fn flush(&self) {}
}

/// Route the `log` facade to the host. Called once per instance by the export glue.
pub(crate) fn install() {
    // A second call fails harmlessly (another logger is already set).
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Trace);
    }
}
