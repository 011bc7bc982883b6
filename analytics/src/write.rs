//! Rows to Parquet: the Arrow schema of the analytics copy and the writer of one file per day
//! partition of a batch.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Int32Builder, Int64Builder, ListBuilder, MapBuilder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::error::AnalyticsError;
use crate::row::AnalyticsRow;

/// One Parquet file of a batch: its path below the analytics root and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionFile {
    /// `dt=YYYY-MM-DD/part-<batch id>.parquet`: the partition and the batch, nothing of a row.
    pub path: String,
    /// Rows in the file.
    pub rows: usize,
    /// The Parquet file.
    pub bytes: Vec<u8>,
}

/// Longest batch id accepted in a file name.
const MAX_BATCH_ID_LEN: usize = 64;

/// Writes `rows` as one snappy-compressed Parquet file per day partition ([`AnalyticsRow::dt`]),
/// named `dt=YYYY-MM-DD/part-<batch_id>.parquet`, in partition order. `batch_id` (1 to 64
/// ASCII letters, digits, `-`, `_`) names the batch: the Lambda host's invocation, the CLI's
/// run. No rows, no files.
pub fn write_batch(
    rows: &[AnalyticsRow],
    batch_id: &str,
) -> Result<Vec<PartitionFile>, AnalyticsError> {
    let id_ok = !batch_id.is_empty()
        && batch_id.len() <= MAX_BATCH_ID_LEN
        && batch_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
    if !id_ok {
        return Err(AnalyticsError::BadBatchId);
    }
    let mut partitions: BTreeMap<String, Vec<&AnalyticsRow>> = BTreeMap::new();
    for row in rows {
        partitions.entry(row.dt()).or_default().push(row);
    }
    partitions
        .into_iter()
        .map(|(dt, rows)| {
            Ok(PartitionFile {
                path: format!("dt={dt}/part-{batch_id}.parquet"),
                rows: rows.len(),
                bytes: parquet_file(&rows)?,
            })
        })
        .collect()
}

/// The Arrow schema of the analytics files (docs/analytics.md; [`crate::SCHEMA_VERSION`]).
pub fn arrow_schema() -> SchemaRef {
    let text = |name: &str, nullable: bool| Field::new(name, DataType::Utf8, nullable);
    let time = |name: &str, nullable: bool| {
        Field::new(
            name,
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            nullable,
        )
    };
    let list = |name: &str| Field::new(name, list_builder().finish().data_type().clone(), false);
    Arc::new(Schema::new(vec![
        Field::new("schema_version", DataType::Int32, false),
        text("record_id", false),
        time("received_at", true),
        time("processed_at", false),
        text("status", false),
        text("advertiser", true),
        text("route", true),
        text("extractor_kind", true),
        text("extractor_name", true),
        text("extractor_version", true),
        text("profile", true),
        list("error_codes"),
        list("warning_codes"),
        Field::new("degraded", DataType::Boolean, false),
        list("fields_present"),
        text("pseudonym_key_id", false),
        Field::new(
            "pseudonyms",
            text_map_builder().finish().data_type().clone(),
            false,
        ),
        text("email_pseudonym", true),
        text("phone_pseudonym", true),
        text("name_pseudonym", true),
        text("email_domain_class", true),
        text("email_domain", true),
        Field::new("phone_country_code", DataType::Int32, true),
        text("city", true),
        text("region", true),
        Field::new(
            "text_lengths",
            count_map_builder().finish().data_type().clone(),
            false,
        ),
        Field::new("extract_micros", DataType::Int64, true),
        Field::new("input_bytes", DataType::Int64, false),
        // Version 2: new columns go at the end, so files of earlier versions read them as null.
        Field::new(
            "delivery_latency_ms",
            count_map_builder().finish().data_type().clone(),
            true,
        ),
    ]))
}

/// The columns as Hive/Athena types (`string`, `int`, `bigint`, `boolean`, `timestamp`,
/// `array<string>`, `map<string,string>`, `map<string,bigint>`), for the Glue table: the
/// template's columns are checked against these.
pub fn hive_columns() -> Vec<(String, String)> {
    arrow_schema()
        .fields()
        .iter()
        .map(|field| (field.name().clone(), hive_type(field.data_type())))
        .collect()
}

fn hive_type(data_type: &DataType) -> String {
    match data_type {
        DataType::Utf8 => "string".to_owned(),
        DataType::Int32 => "int".to_owned(),
        DataType::Int64 => "bigint".to_owned(),
        DataType::Boolean => "boolean".to_owned(),
        DataType::Timestamp(..) => "timestamp".to_owned(),
        DataType::List(item) => format!("array<{}>", hive_type(item.data_type())),
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(fields) if fields.len() == 2 => format!(
                "map<{},{}>",
                hive_type(fields[0].data_type()),
                hive_type(fields[1].data_type())
            ),
            other => format!("{other}"),
        },
        other => format!("{other}"),
    }
}

fn list_builder() -> ListBuilder<StringBuilder> {
    ListBuilder::new(StringBuilder::new())
}

fn text_map_builder() -> MapBuilder<StringBuilder, StringBuilder> {
    MapBuilder::new(None, StringBuilder::new(), StringBuilder::new())
}

fn count_map_builder() -> MapBuilder<StringBuilder, Int64Builder> {
    MapBuilder::new(None, StringBuilder::new(), Int64Builder::new())
}

/// One Parquet file of `rows` (snappy).
fn parquet_file(rows: &[&AnalyticsRow]) -> Result<Vec<u8>, AnalyticsError> {
    let schema = arrow_schema();
    let batch = RecordBatch::try_new(schema.clone(), columns(rows)?)?;
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut bytes = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut bytes, schema, Some(properties))?;
    writer.write(&batch)?;
    writer.close()?;
    Ok(bytes)
}

/// The columns of `rows`, in the order of [`arrow_schema`].
fn columns(rows: &[&AnalyticsRow]) -> Result<Vec<ArrayRef>, AnalyticsError> {
    fn text<'a>(
        rows: &[&'a AnalyticsRow],
        get: impl Fn(&'a AnalyticsRow) -> Option<&'a str>,
    ) -> ArrayRef {
        let mut builder = StringBuilder::new();
        for row in rows {
            builder.append_option(get(row));
        }
        Arc::new(builder.finish())
    }
    fn time(rows: &[&AnalyticsRow], get: impl Fn(&AnalyticsRow) -> Option<i64>) -> ArrayRef {
        let mut builder = TimestampMicrosecondBuilder::new().with_timezone("UTC");
        for row in rows {
            builder.append_option(get(row));
        }
        Arc::new(builder.finish())
    }
    fn list(rows: &[&AnalyticsRow], get: impl Fn(&AnalyticsRow) -> &[String]) -> ArrayRef {
        let mut builder = list_builder();
        for row in rows {
            for item in get(row) {
                builder.values().append_value(item);
            }
            builder.append(true);
        }
        Arc::new(builder.finish())
    }
    let mut pseudonyms = text_map_builder();
    let mut text_lengths = count_map_builder();
    let mut delivery_latency = count_map_builder();
    for row in rows {
        for (field, pseudonym) in &row.pseudonyms {
            pseudonyms.keys().append_value(field);
            pseudonyms.values().append_value(pseudonym);
        }
        pseudonyms.append(true)?;
        for (field, length) in &row.text_lengths {
            text_lengths.keys().append_value(field);
            text_lengths.values().append_value(*length);
        }
        text_lengths.append(true)?;
        for (sink, millis) in row.delivery_latency_ms.iter().flatten() {
            delivery_latency.keys().append_value(sink);
            delivery_latency.values().append_value(*millis);
        }
        delivery_latency.append(row.delivery_latency_ms.is_some())?;
    }
    let int32 = |get: &dyn Fn(&AnalyticsRow) -> Option<i32>| -> ArrayRef {
        let mut builder = Int32Builder::new();
        for row in rows {
            builder.append_option(get(row));
        }
        Arc::new(builder.finish())
    };
    let int64 = |get: &dyn Fn(&AnalyticsRow) -> Option<i64>| -> ArrayRef {
        let mut builder = Int64Builder::new();
        for row in rows {
            builder.append_option(get(row));
        }
        Arc::new(builder.finish())
    };
    let mut degraded = BooleanBuilder::new();
    for row in rows {
        degraded.append_value(row.degraded);
    }
    Ok(vec![
        int32(&|r| Some(r.schema_version)),
        text(rows, |r| Some(r.record_id.as_str())),
        time(rows, |r| r.received_at.map(|t| t.timestamp_micros())),
        time(rows, |r| Some(r.processed_at.timestamp_micros())),
        text(rows, |r| Some(r.status.as_str())),
        text(rows, |r| r.advertiser.as_deref()),
        text(rows, |r| r.route.as_deref()),
        text(rows, |r| r.extractor_kind.as_deref()),
        text(rows, |r| r.extractor_name.as_deref()),
        text(rows, |r| r.extractor_version.as_deref()),
        text(rows, |r| r.profile.as_deref()),
        list(rows, |r| &r.error_codes),
        list(rows, |r| &r.warning_codes),
        Arc::new(degraded.finish()),
        list(rows, |r| &r.fields_present),
        text(rows, |r| Some(r.pseudonym_key_id.as_str())),
        Arc::new(pseudonyms.finish()),
        text(rows, |r| r.email_pseudonym.as_deref()),
        text(rows, |r| r.phone_pseudonym.as_deref()),
        text(rows, |r| r.name_pseudonym.as_deref()),
        text(rows, |r| r.email_domain_class.as_deref()),
        text(rows, |r| r.email_domain.as_deref()),
        int32(&|r| r.phone_country_code),
        text(rows, |r| r.city.as_deref()),
        text(rows, |r| r.region.as_deref()),
        Arc::new(text_lengths.finish()),
        int64(&|r| r.extract_micros),
        int64(&|r| Some(r.input_bytes)),
        Arc::new(delivery_latency.finish()),
    ])
}

#[cfg(test)]
mod tests {
    use arrow_array::cast::AsArray;
    use arrow_array::types::Int32Type;
    use chrono::{TimeZone, Utc};
    use mailex_core::pseudonym::PseudonymKey;
    use mailex_core::{FieldValue, Record, Status};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    use super::*;
    use crate::RowContext;

    fn row(received_at: Option<&str>, email: &str) -> AnalyticsRow {
        let mut record = Record::new(Status::Extracted, "x.eml", 10);
        record.received_at = received_at.map(str::to_owned);
        record
            .fields
            .insert("email".into(), FieldValue::Text(email.into()));
        record.fields.insert("phone".into(), "+15550100000".into());
        record.sensitive = vec!["email".into(), "phone".into()];
        let context = RowContext {
            record_id: format!("id-{email}"),
            processed_at: Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap(),
            extract_time: None,
            delivery_latency: (email == "a@example.com")
                .then(|| BTreeMap::from([("crm".to_owned(), std::time::Duration::from_secs(3))])),
        };
        AnalyticsRow::from_record(
            &record,
            &context,
            &PseudonymKey::new("k", b"s".to_vec()).unwrap(),
        )
    }

    #[test]
    fn one_file_per_day_read_back() {
        let rows = [
            row(Some("2026-11-29T23:59:59Z"), "a@example.com"),
            row(None, "b@example.com"),
            row(Some("2026-11-29T00:00:00+01:00"), "c@gmail.com"),
        ];
        let files = write_batch(&rows, "batch-1").unwrap();
        let paths: Vec<_> = files.iter().map(|f| (f.path.as_str(), f.rows)).collect();
        assert_eq!(
            paths,
            [
                ("dt=2026-11-28/part-batch-1.parquet", 1),
                ("dt=2026-11-29/part-batch-1.parquet", 1),
                ("dt=2026-11-30/part-batch-1.parquet", 1),
            ]
        );
        let bytes = bytes::Bytes::from(files[1].bytes.clone());
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
            .unwrap()
            .build()
            .unwrap();
        let batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
        assert_eq!(batches.len(), 1);
        let batch = &batches[0];
        assert_eq!(batch.schema().fields(), arrow_schema().fields());
        let codes = batch
            .column_by_name("phone_country_code")
            .unwrap()
            .as_primitive::<Int32Type>();
        assert_eq!(codes.value(0), 1);
        let ids = batch
            .column_by_name("record_id")
            .unwrap()
            .as_string::<i32>();
        assert_eq!(ids.value(0), "id-a@example.com");
        let latency = batch
            .column_by_name("delivery_latency_ms")
            .unwrap()
            .as_map();
        assert!(latency.is_valid(0));
        assert_eq!(latency.value(0).len(), 1);
        let null_latency =
            ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(files[2].bytes.clone()))
                .unwrap()
                .build()
                .unwrap()
                .next()
                .unwrap()
                .unwrap();
        assert!(
            null_latency
                .column_by_name("delivery_latency_ms")
                .unwrap()
                .is_null(0),
            "no delivery, null"
        );
    }

    #[test]
    fn batch_ids_stay_file_names() {
        for bad in ["", "../x", "a/b", "a.b", &"x".repeat(65)] {
            assert!(matches!(
                write_batch(&[], bad),
                Err(AnalyticsError::BadBatchId)
            ));
        }
        assert!(write_batch(&[], "ok").unwrap().is_empty());
    }

    #[test]
    fn hive_types() {
        let columns = hive_columns();
        let of = |name: &str| {
            columns
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, t)| t.as_str())
        };
        assert_eq!(of("received_at"), Some("timestamp"));
        assert_eq!(of("error_codes"), Some("array<string>"));
        assert_eq!(of("pseudonyms"), Some("map<string,string>"));
        assert_eq!(of("text_lengths"), Some("map<string,bigint>"));
        assert_eq!(of("input_bytes"), Some("bigint"));
        assert_eq!(of("phone_country_code"), Some("int"));
        assert_eq!(of("delivery_latency_ms"), Some("map<string,bigint>"));
    }
}
