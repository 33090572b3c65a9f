//! `resourceFieldRef` values (`limits.cpu`, `requests.memory`, …), computed like the kubelet:
//! the quantity divided by the divisor, rounded up; a missing limit falls back to the node's
//! allocatable amount.

use serde_json::Value;

use peapod_apimachinery::quantity::{Quantity, QuantityError, QUANTITY_FORMAT_MSG};

use crate::json::{at, list};

/// Resources whose missing limit the kubelet replaces by the node's allocatable amount.
fn defaults_to_allocatable(resource: &str) -> bool {
    matches!(resource, "cpu" | "memory" | "ephemeral-storage") || resource.starts_with("hugepages-")
}

/// The value of `resource` (`limits.cpu`, `requests.memory`, `limits.ephemeral-storage`,
/// `limits.hugepages-2Mi`, …) for container `container` of `pod` (regular or init), divided by
/// `divisor` (default `1`) and rounded up. CPU is computed in millicores, so `divisor: 1m` gives
/// millicores and `1` gives whole cores rounded up. `node_allocatable` is the node's
/// `status.allocatable` (or `null`), used when the container has no such limit.
pub fn resolve_resource_field_ref(
    pod: &Value,
    container: &str,
    resource: &str,
    divisor: Option<&str>,
    node_allocatable: &Value,
) -> Result<String, String> {
    let spec = pod.get("spec").unwrap_or(&Value::Null);
    let mut found = None;
    for field in ["containers", "initContainers"] {
        if let Some(c) = list(spec, field)?
            .iter()
            .find(|c| c.get("name").and_then(Value::as_str) == Some(container))
        {
            found = Some(c);
            break;
        }
    }
    let Some(found) = found else {
        return Err(format!("container {container} not found"));
    };
    let (kind, name) = resource
        .split_once('.')
        .filter(|(kind, _)| matches!(*kind, "limits" | "requests"))
        .ok_or_else(|| format!("unsupported container resource : {resource}"))?;
    let supported =
        matches!(name, "cpu" | "memory" | "ephemeral-storage") || name.starts_with("hugepages-");
    if !supported {
        return Err(format!("unsupported container resource : {resource}"));
    }
    let mut amount = at(found, &["resources", kind, name]).and_then(quantity_text);
    if amount.is_none() && kind == "limits" && defaults_to_allocatable(name) {
        amount = at(node_allocatable, &[name]).and_then(quantity_text);
    }
    let amount = match amount {
        Some(text) => parse(&text)?,
        None => Quantity::zero(),
    };
    let divisor = match divisor.map(str::trim).filter(|d| !d.is_empty()) {
        Some(text) => parse(text)?,
        None => ONE,
    };
    // A zero divisor means "not set", as upstream treats it.
    let divisor = if divisor.is_zero() { ONE } else { divisor };
    // CPU is divided in millicores and everything else in whole units (both rounded up), as the
    // kubelet does.
    let scaled = |q: Quantity| {
        if name == "cpu" {
            q.milli_value()
        } else {
            q.value()
        }
    };
    let numerator = scaled(amount);
    let denominator = scaled(divisor);
    if denominator <= 0 {
        return Err(format!(
            "divisor for {resource} must be a positive quantity of at least 1{}",
            if name == "cpu" { "m" } else { "" }
        ));
    }
    Ok(ceil_div(numerator, denominator).to_string())
}

const ONE: Quantity = Quantity::from_nanos(1_000_000_000);

fn parse(text: &str) -> Result<Quantity, String> {
    Quantity::parse(text).map_err(|e| match e {
        QuantityError::Malformed { .. } => format!("{QUANTITY_FORMAT_MSG}: {text:?}"),
        QuantityError::OutOfRange { .. } => format!("quantity {text:?} is too large"),
    })
}

/// Integer division rounding towards positive infinity, for a positive denominator.
fn ceil_div(numerator: i64, denominator: i64) -> i64 {
    let quotient = numerator / denominator;
    if numerator % denominator > 0 {
        quotient + 1
    } else {
        quotient
    }
}

/// Quantities appear as strings in the API, but accept plain numbers too.
fn quantity_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}
