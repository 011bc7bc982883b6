//! The Glue table of deploy/template.yaml (`AnalyticsTable`) has the columns, in order and with
//! the types, that the Parquet writer writes, and is partitioned by `dt` with projection: the
//! table and the files cannot drift apart.

use std::path::Path;

/// The lines of the resource `name` in the template (up to the next resource).
fn resource<'a>(template: &'a str, name: &str) -> Vec<&'a str> {
    let mut lines = template.lines().skip_while(|l| *l != format!("  {name}:"));
    let mut out: Vec<&str> = lines.next().into_iter().collect();
    out.extend(
        lines.take_while(|l| {
            l.is_empty() || l.starts_with("   ") || l.trim_start().starts_with('#')
        }),
    );
    out
}

/// The `- Name: x` / `Type: y` pairs of the lines below `key:` (one indentation block).
fn columns(lines: &[&str], key: &str) -> Vec<(String, String)> {
    let start = lines
        .iter()
        .position(|l| l.trim() == format!("{key}:"))
        .unwrap_or_else(|| panic!("AnalyticsTable has no {key}"));
    let indent = lines[start].len() - lines[start].trim_start().len();
    let mut out = Vec::new();
    let mut name = None;
    for line in &lines[start + 1..] {
        let depth = line.len() - line.trim_start().len();
        if !line.trim().is_empty() && depth <= indent {
            break;
        }
        let line = line.trim().trim_start_matches("- ");
        if let Some(n) = line.strip_prefix("Name: ") {
            name = Some(n.to_owned());
        } else if let Some(t) = line.strip_prefix("Type: ") {
            let n = name.take().expect("a Type after its Name");
            out.push((n, t.trim_matches('"').to_owned()));
        }
    }
    out
}

#[test]
fn the_glue_table_matches_the_written_schema() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/template.yaml");
    let template = std::fs::read_to_string(path).unwrap();
    let table = resource(&template, "AnalyticsTable");
    assert!(
        table.iter().any(|l| l.trim() == "Type: AWS::Glue::Table"),
        "deploy/template.yaml has the AnalyticsTable"
    );
    assert_eq!(
        columns(&table, "Columns"),
        mailex_analytics::hive_columns(),
        "the Glue columns of deploy/template.yaml differ from what mailex-analytics writes"
    );
    assert_eq!(
        columns(&table, "PartitionKeys"),
        [("dt".to_owned(), "string".to_owned())]
    );
    let text = table.join("\n");
    for setting in [
        "projection.enabled: \"true\"",
        "projection.dt.type: date",
        "projection.dt.format: yyyy-MM-dd",
        "storage.location.template: !Sub \"s3://${OutputBucket}/${AnalyticsPrefix}dt=${!dt}/\"",
        "Location: !Sub \"s3://${OutputBucket}/${AnalyticsPrefix}\"",
        "SerializationLibrary: org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
    ] {
        assert!(text.contains(setting), "AnalyticsTable lacks `{setting}`");
    }
    assert!(
        text.contains(&format!(
            "schema version {}",
            mailex_analytics::SCHEMA_VERSION
        )),
        "the table's description names the schema version"
    );
}

/// The function writes where the table reads: `MAILEX_ANALYTICS_PREFIX` is the table's
/// parameter, and the function may put objects under exactly that prefix of the output bucket.
#[test]
fn the_function_writes_where_the_table_reads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/template.yaml");
    let template = std::fs::read_to_string(path).unwrap();
    assert!(
        template.contains("MAILEX_ANALYTICS_PREFIX: !Ref AnalyticsPrefix"),
        "the function gets the table's prefix"
    );
    let role = resource(&template, "FunctionRole").join("\n");
    let statement = role
        .split("- Sid: ")
        .find(|s| s.starts_with("WriteTheAnalyticsCopyOnlyUnderItsPrefix"))
        .expect("the function may write the analytics copy");
    assert!(statement.contains("Action: s3:PutObject"), "{statement}");
    assert!(
        statement.contains("Resource: !Sub \"${OutputBucket.Arn}/${AnalyticsPrefix}*\""),
        "exactly the analytics prefix: {statement}"
    );
}
