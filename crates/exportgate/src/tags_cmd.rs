//! `exportgate tags`: the end-use tags an order may carry, what each means, and the rules
//! that read it. An order with any other tag is rejected.

use std::process::ExitCode;

use exportgate_core::Ruleset;

use crate::TextOrJson;

pub fn tags(rs: &Ruleset, format: TextOrJson) -> anyhow::Result<ExitCode> {
    let tags = rs.end_use_tags.all();
    match format {
        TextOrJson::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "tags": tags }))?
        )?,
        TextOrJson::Text => {
            outln!("end-use tags (`end_use.tags`); an order with any other tag is rejected")?;
            for t in tags {
                outln!("{:<22} {}", t.tag, t.meaning.as_deref().unwrap_or(""))?;
                if let Some(c) = &t.citation {
                    outln!("{:<22} source: {c}", "")?;
                }
                let rules = if t.rules.is_empty() {
                    "none (descriptive)".to_string()
                } else {
                    t.rules.join(", ")
                };
                outln!("{:<22} read by: {rules}", "")?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
