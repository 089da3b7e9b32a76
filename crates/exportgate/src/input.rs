//! Reading input files: whole files or standard input, and CSV rows turned into the JSON
//! shape of an order (`consignee.name` becomes `{"consignee": {"name": ...}}`).

use std::io::Read;
use std::path::Path;

use serde_json::{Map, Value};

use crate::user;

/// Read a file, or standard input for `-`, without a leading UTF-8 byte-order mark.
pub fn read_all(path: &Path) -> anyhow::Result<Vec<u8>> {
    let mut buf = Vec::new();
    if path == Path::new("-") {
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| user(format!("cannot read standard input: {e}")))?;
    } else {
        buf = std::fs::read(path)
            .map_err(|e| user(format!("cannot read `{}`: {e}", path.display())))?;
    }
    // A UTF-8 byte-order mark (as some Windows tools write) before the first line is accepted.
    if buf.starts_with(b"\xEF\xBB\xBF") {
        buf.drain(..3);
    }
    Ok(buf)
}

/// Fields whose CSV cell is a `;`-separated list.
const LIST_FIELDS: [&str; 1] = ["end_use.tags"];
/// Fields whose CSV cell is a number or boolean.
const NUMBER_FIELDS: [&str; 2] = ["quantity", "value_usd"];

/// Turn one CSV record into order JSON. Empty cells are left out.
pub fn csv_record_to_json(
    headers: &csv::StringRecord,
    record: &csv::StringRecord,
) -> Result<Value, String> {
    let mut root = Map::new();
    for (key, cell) in headers.iter().zip(record.iter()) {
        let cell = cell.trim();
        if cell.is_empty() {
            continue;
        }
        let value = if LIST_FIELDS.contains(&key) {
            Value::Array(
                cell.split(';')
                    .map(|s| Value::String(s.trim().to_string()))
                    .filter(|v| v != &Value::String(String::new()))
                    .collect(),
            )
        } else if NUMBER_FIELDS.contains(&key)
            || key.starts_with("item.spec.")
                && !key.ends_with("name")
                && !key.ends_with("kind")
                && !key.ends_with("designer_country")
        {
            match cell {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => serde_json::from_str::<Value>(cell)
                    .map_err(|_| format!("field `{key}`: `{cell}` is not a number"))?,
            }
        } else if key.ends_with("ownership_checked") {
            Value::Bool(matches!(cell, "true" | "yes" | "1"))
        } else {
            Value::String(cell.to_string())
        };
        let mut node = &mut root;
        let parts: Vec<&str> = key.split('.').collect();
        for part in &parts[..parts.len() - 1] {
            node = node
                .entry(part.to_string())
                .or_insert_with(|| Value::Object(Map::new()))
                .as_object_mut()
                .ok_or_else(|| format!("column `{key}` conflicts with another column"))?;
        }
        node.insert(parts[parts.len() - 1].to_string(), value);
    }
    Ok(Value::Object(root))
}
