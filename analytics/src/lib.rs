//! The anonymised analytics copy of mailex records (docs/analytics.md).
//!
//! The record store is the operational copy: every field, personal data included. This crate
//! makes the copy analysts query: one [`AnalyticsRow`] per record with typed columns (status,
//! advertiser, extractor, issue codes, field presence, timings, sizes) and, instead of personal
//! data, keyed pseudonyms ([`mailex_core::pseudonym`]) and a few non-identifying facts (email
//! domain class, phone country calling code, city and region). [`write_batch`] writes a batch
//! of rows as one Parquet file (snappy) per day partition, `dt=YYYY-MM-DD/part-<batch>.parquet`,
//! for the CLI (`mailex extract --analytics DIR`) and the Lambda host alike.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use mailex_analytics::{AnalyticsRow, RowContext, write_batch};
//! use mailex_core::pseudonym::PseudonymKey;
//! use mailex_core::{FieldValue, Record, Status};
//!
//! let mut record = Record::new(Status::Extracted, "inbox/lead.eml", 2048);
//! record.fields.insert("email".into(), FieldValue::Text("jane@example.com".into()));
//! record.sensitive.push("email".into());
//! record.received_at = Some("2026-11-30T09:00:00Z".into());
//! let key = PseudonymKey::new("k1", b"secret".to_vec()).unwrap();
//! let context = RowContext {
//!     record_id: "0123abcd".into(),
//!     processed_at: Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 2).unwrap(),
//!     extract_time: None,
//!     delivery_latency: None,
//! };
//! let row = AnalyticsRow::from_record(&record, &context, &key);
//! assert!(row.email_pseudonym.as_deref().unwrap().starts_with("hmac-sha256:"));
//! let files = write_batch(&[row], "20261130T090002Z-1").unwrap();
//! assert_eq!(files[0].path, "dt=2026-11-30/part-20261130T090002Z-1.parquet");
//! ```
#![deny(missing_docs)]

mod error;
mod freemail;
mod key;
mod row;
mod write;

pub use crate::error::AnalyticsError;
pub use crate::key::{KEY_ID_VARIABLE, KEY_VARIABLE, pseudonym_key};
pub use crate::row::{AnalyticsRow, RowContext, SCHEMA_VERSION};
pub use crate::write::{PartitionFile, arrow_schema, hive_columns, write_batch};
