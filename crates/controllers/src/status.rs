//! Status writes as merge patches. A merge patch leaves out what serde skips (`None`), so
//! fields that must disappear are sent as explicit nulls.

use serde::Serialize;
use serde_json::Value;

pub fn clearing_nulls<T: Serialize>(status: &T, clearable: &[&str]) -> anyhow::Result<Value> {
    let mut v = serde_json::to_value(status)?;
    if let Some(m) = v.as_object_mut() {
        for f in clearable {
            m.entry(f.to_string()).or_insert(Value::Null);
        }
    }
    Ok(v)
}
