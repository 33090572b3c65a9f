//! Kubernetes strategic merge patch (`application/strategic-merge-patch+json`), as sent by
//! `kubectl apply`, `kubectl edit` and `kubectl patch`.
//!
//! Objects merge key by key and `null` deletes a key. A list field merges or is replaced as its
//! [`TypeSchema`] says. Directives steer the merge and never reach the result:
//! `$patch: replace|delete|merge` (on an object or as a list element), `$retainKeys`,
//! `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>`.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::list_order::{enforce_order, scalar_identity};
use super::schema::{PatchStrategy, TypeSchema};
use super::schema_kinds::schema_for;
use super::values::{
    excerpt, identity_key, kind, same, DELETE_FROM_PRIMITIVE_LIST, PATCH, RETAIN_KEYS,
    SET_ELEMENT_ORDER,
};
use super::PatchError;
use crate::gvk::Gvk;

/// Applies a strategic merge patch to an object of kind `gvk`. Kinds without a schema (custom
/// resources, unknown kinds) get [`PatchError::UnsupportedKind`], as Kubernetes answers 415.
pub fn strategic_merge_patch(doc: &Value, patch: &Value, gvk: Gvk) -> Result<Value, PatchError> {
    let schema = schema_for(gvk).ok_or_else(|| PatchError::UnsupportedKind(gvk.to_string()))?;
    strategic_merge_patch_with_schema(doc, patch, schema)
}

/// Applies a strategic merge patch using an explicit schema.
///
/// Deviations from Kubernetes, all on inputs kubectl does not produce: `$patch: delete` on a
/// nested object removes the key (Kubernetes leaves `{}`); `$patch: merge` on an object is
/// accepted as the default it names (Kubernetes rejects it); directives inside newly added
/// values are applied rather than copied.
pub fn strategic_merge_patch_with_schema(
    doc: &Value,
    patch: &Value,
    schema: &'static TypeSchema,
) -> Result<Value, PatchError> {
    let Value::Object(patch) = patch else {
        return Err(PatchError::bad(format!(
            "a strategic merge patch must be a JSON object, not a {}",
            kind(patch)
        )));
    };
    let original = match doc {
        Value::Object(object) => object.clone(),
        Value::Null => Map::new(),
        other => {
            return Err(PatchError::unprocessable(format!(
                "cannot patch a {}: the object must be a JSON object",
                kind(other)
            )));
        }
    };
    let merged = merge_object(original, patch.clone(), schema)?;
    Ok(Value::Object(merged.unwrap_or_default()))
}

/// Merges `patch` into `original`. `None`: the patch deleted the object (`$patch: delete`).
fn merge_object(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    schema: &'static TypeSchema,
) -> Result<Option<Map<String, Value>>, PatchError> {
    if let Some(directive) = patch.shift_remove(PATCH) {
        match directive.as_str() {
            Some("replace") => return merge_object(Map::new(), patch, schema),
            Some("delete") => return Ok(None),
            Some("merge") => {}
            _ => {
                return Err(PatchError::bad(format!(
                    "unknown patch type: {directive} in map: {}",
                    excerpt(&Value::Object(patch))
                )));
            }
        }
    }
    apply_retain_keys(&mut original, &mut patch)?;
    apply_deletions_from_primitive_lists(&mut original, &mut patch)?;
    apply_element_orders(&mut original, &mut patch, schema)?;
    for (key, value) in patch {
        merge_field(&mut original, key, value, schema)?;
    }
    Ok(Some(original))
}

fn merge_field(
    original: &mut Map<String, Value>,
    key: String,
    patch_value: Value,
    schema: &'static TypeSchema,
) -> Result<(), PatchError> {
    if patch_value.is_null() {
        original.shift_remove(&key);
        return Ok(());
    }
    let merged = match (original.get_mut(&key), patch_value) {
        (Some(Value::Object(existing)), Value::Object(patch)) => {
            merge_object(std::mem::take(existing), patch, schema.child(&key))?.map(Value::Object)
        }
        (Some(Value::Array(existing)), Value::Array(patch)) => Some(Value::Array(merge_list(
            std::mem::take(existing),
            patch,
            schema,
            &key,
        )?)),
        // Absent, scalar, or of another JSON type: the patch value is taken as new content.
        (_, patch_value) => new_value(patch_value, schema.child(&key))?,
    };
    match merged {
        Some(value) => {
            original.insert(key, value);
        }
        None => {
            original.shift_remove(&key);
        }
    }
    Ok(())
}

/// The value a patch creates where the original has nothing (or something of another type):
/// the patch value with its directives applied to nothing and nulls dropped.
fn new_value(value: Value, schema: &'static TypeSchema) -> Result<Option<Value>, PatchError> {
    match value {
        Value::Null => Ok(None),
        Value::Object(object) => Ok(merge_object(Map::new(), object, schema)?.map(Value::Object)),
        Value::Array(items) => Ok(Some(Value::Array(new_list(items, schema)?))),
        scalar => Ok(Some(scalar)),
    }
}

/// A list taken from the patch as is: directive-only elements (`$patch: delete`/`replace`) have
/// nothing to act on and are dropped; object elements are cleaned of directives.
fn new_list(
    items: Vec<Value>,
    element_schema: &'static TypeSchema,
) -> Result<Vec<Value>, PatchError> {
    let mut result = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Value::Object(object) => {
                if list_directive(&object)?.is_some() {
                    continue;
                }
                result.extend(merge_object(Map::new(), object, element_schema)?.map(Value::Object));
            }
            Value::Array(inner) => result.push(Value::Array(new_list(inner, &TypeSchema::PLAIN)?)),
            other => result.push(other),
        }
    }
    Ok(result)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ListDirective {
    /// `{"<mergeKey>": v, "$patch": "delete"}`: remove the element with that key.
    Delete,
    /// `{"$patch": "replace"}`: the list becomes the patch's other elements.
    Replace,
}

fn list_directive(element: &Map<String, Value>) -> Result<Option<ListDirective>, PatchError> {
    match element.get(PATCH) {
        None => Ok(None),
        Some(directive) => match directive.as_str() {
            Some("delete") => Ok(Some(ListDirective::Delete)),
            Some("replace") => Ok(Some(ListDirective::Replace)),
            Some("merge") => Err(PatchError::bad(
                "merging lists cannot yet be specified in the patch",
            )),
            _ => Err(PatchError::bad(format!(
                "unknown patch type: {directive} in map: {}",
                excerpt(&Value::Object(element.clone()))
            ))),
        },
    }
}

/// Merges the list field `key` of a `parent`-typed object.
fn merge_list(
    original: Vec<Value>,
    patch: Vec<Value>,
    parent: &'static TypeSchema,
    key: &str,
) -> Result<Vec<Value>, PatchError> {
    let element_schema = parent.child(key);
    match parent.list_strategy(key) {
        PatchStrategy::Merge {
            merge_key: Some(merge_key),
        } => merge_keyed_list(original, patch, merge_key, element_schema, key),
        PatchStrategy::Merge { merge_key: None } => merge_scalar_list(original, patch, key),
        PatchStrategy::Replace => new_list(patch, element_schema),
    }
}

/// Union of two scalar lists (e.g. `metadata.finalizers`), without duplicates.
fn merge_scalar_list(
    original: Vec<Value>,
    patch: Vec<Value>,
    field: &str,
) -> Result<Vec<Value>, PatchError> {
    let mut element_kind = None;
    for item in original.iter().chain(&patch) {
        match item {
            Value::Object(_) => {
                return Err(PatchError::unprocessable(format!(
                    "cannot merge lists without merge key for {field}"
                )));
            }
            Value::Array(_) => {
                return Err(PatchError::unprocessable(
                    "lists of lists are not supported",
                ))
            }
            _ => {}
        }
        match element_kind {
            None => element_kind = Some(kind(item)),
            Some(seen) if seen != kind(item) => {
                return Err(PatchError::unprocessable(format!(
                    "list element types are not identical in {field}: {seen} and {}",
                    kind(item)
                )));
            }
            Some(_) => {}
        }
    }
    let mut seen = HashSet::with_capacity(original.len() + patch.len());
    let mut merged: Vec<Value> = Vec::with_capacity(original.len() + patch.len());
    for item in original.iter().chain(&patch) {
        if seen.insert(identity_key(item)) {
            merged.push(item.clone());
        }
    }
    Ok(enforce_order(merged, &patch, &original, scalar_identity))
}

/// Merges lists of objects element by element, matching elements by `merge_key`.
fn merge_keyed_list(
    original: Vec<Value>,
    patch: Vec<Value>,
    merge_key: &str,
    element_schema: &'static TypeSchema,
    field: &str,
) -> Result<Vec<Value>, PatchError> {
    let mut original = original;
    if let Some(bad) = original.iter().find(|item| !item.is_object()) {
        return Err(PatchError::unprocessable(format!(
            "{field}: expected a list of objects, found a {} element",
            kind(bad)
        )));
    }
    let mut replace = false;
    let mut doomed = HashSet::new();
    let mut updates = Vec::with_capacity(patch.len());
    for item in patch {
        let Value::Object(element) = item else {
            return Err(PatchError::bad(format!(
                "{field}: expected a list of objects in the patch, found a {} element",
                kind(&item)
            )));
        };
        match list_directive(&element)? {
            Some(ListDirective::Delete) => {
                doomed.insert(identity_key(merge_key_of(&element, merge_key)?));
            }
            Some(ListDirective::Replace) => replace = true,
            None => updates.push(element),
        }
    }
    if replace {
        return updates
            .into_iter()
            .filter_map(|element| merge_object(Map::new(), element, element_schema).transpose())
            .map(|element| element.map(Value::Object))
            .collect();
    }
    if !doomed.is_empty() {
        original.retain(|o| {
            !o.get(merge_key)
                .is_some_and(|v| doomed.contains(&identity_key(v)))
        });
    }

    let server_order: Vec<Value> = original
        .iter()
        .filter_map(|o| o.get(merge_key).cloned())
        .collect();
    // Where each merge key sits in the list being built (first occurrence, as Kubernetes matches).
    let mut index_of: HashMap<String, usize> =
        HashMap::with_capacity(original.len() + updates.len());
    for (index, key_value) in original
        .iter()
        .enumerate()
        .filter_map(|(i, o)| Some((i, o.get(merge_key)?)))
    {
        index_of.entry(identity_key(key_value)).or_insert(index);
    }
    let mut patch_order = Vec::with_capacity(updates.len());
    let mut merged = original;
    for element in updates {
        let key_value = merge_key_of(&element, merge_key)?.clone();
        let identity = identity_key(&key_value);
        match index_of.get(&identity) {
            Some(&index) => {
                let Value::Object(current) = std::mem::take(&mut merged[index]) else {
                    return Err(PatchError::unprocessable(format!(
                        "{field}: element is not an object"
                    )));
                };
                // Without a `$patch` key the merge always yields an object.
                let updated = merge_object(current, element, element_schema)?.unwrap_or_default();
                merged[index] = Value::Object(updated);
            }
            None => {
                if let Some(created) = merge_object(Map::new(), element, element_schema)? {
                    index_of.insert(identity, merged.len());
                    merged.push(Value::Object(created));
                }
            }
        }
        patch_order.push(key_value);
    }
    Ok(enforce_order(merged, &patch_order, &server_order, |item| {
        item.get(merge_key)
    }))
}

fn merge_key_of<'a>(
    element: &'a Map<String, Value>,
    merge_key: &str,
) -> Result<&'a Value, PatchError> {
    element.get(merge_key).ok_or_else(|| {
        PatchError::bad(format!(
            "map: {} does not contain declared merge key: {merge_key}",
            excerpt(&Value::Object(element.clone()))
        ))
    })
}

/// `$retainKeys: [..]`: drop every key of the original not listed; the patch may only set listed
/// keys.
fn apply_retain_keys(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
) -> Result<(), PatchError> {
    let Some(retain) = patch.shift_remove(RETAIN_KEYS) else {
        return Ok(());
    };
    let invalid = || PatchError::bad("invalid patch format of retainKeys");
    let Value::Array(retain) = retain else {
        return Err(invalid());
    };
    let retain: Vec<&str> = retain
        .iter()
        .map(Value::as_str)
        .collect::<Option<_>>()
        .ok_or_else(invalid)?;
    let unlisted = patch.iter().find(|(key, value)| {
        !value.is_null() && !key.starts_with('$') && !retain.contains(&key.as_str())
    });
    if let Some((key, _)) = unlisted {
        return Err(PatchError::bad(format!(
            "invalid patch format of retainKeys: {key:?} is set but not listed in $retainKeys"
        )));
    }
    original.retain(|key, _| retain.contains(&key.as_str()));
    Ok(())
}

/// `$deleteFromPrimitiveList/<field>: [..]`: remove those values from the scalar list `field`.
fn apply_deletions_from_primitive_lists(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
) -> Result<(), PatchError> {
    let keys: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(DELETE_FROM_PRIMITIVE_LIST))
        .cloned()
        .collect();
    for key in keys {
        let invalid = || PatchError::bad("invalid patch format of primitive list");
        let field = directive_target(&key, DELETE_FROM_PRIMITIVE_LIST).ok_or_else(invalid)?;
        let Some(Value::Array(doomed)) = patch.shift_remove(&key) else {
            return Err(invalid());
        };
        if doomed.iter().any(|v| v.is_object() || v.is_array()) {
            return Err(invalid());
        }
        if let Some(Value::Array(list)) = original.get_mut(field) {
            let doomed: HashSet<String> = doomed.iter().map(identity_key).collect();
            list.retain(|item| !doomed.contains(&identity_key(item)));
        }
    }
    Ok(())
}

/// `$setElementOrder/<field>: [..]`: merge the list `field` (if the patch has it) and order the
/// result as listed; elements not listed keep their place relative to the server's order.
fn apply_element_orders(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
    schema: &'static TypeSchema,
) -> Result<(), PatchError> {
    let keys: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ELEMENT_ORDER))
        .cloned()
        .collect();
    for key in keys {
        let invalid = || PatchError::bad("invalid patch format of setElementOrder list");
        let field = directive_target(&key, SET_ELEMENT_ORDER)
            .ok_or_else(invalid)?
            .to_string();
        let Some(Value::Array(order_list)) = patch.shift_remove(&key) else {
            return Err(invalid());
        };
        let merge_key = match schema.list_strategy(&field) {
            PatchStrategy::Merge { merge_key } => merge_key,
            PatchStrategy::Replace => None,
        };
        let identity = |item: &Value| -> Option<Value> {
            match merge_key {
                Some(k) => item.get(k).cloned(),
                None if item.is_object() || item.is_array() => None,
                None => Some(item.clone()),
            }
        };
        let order: Vec<Value> = order_list
            .iter()
            .map(identity)
            .collect::<Option<_>>()
            .ok_or_else(invalid)?;

        let patch_list = match patch.get(&field) {
            None => None,
            // `field: null` deletes the list; the main merge does that, there is nothing to order.
            Some(Value::Null) => continue,
            Some(Value::Array(_)) => match patch.shift_remove(&field) {
                Some(Value::Array(list)) => Some(list),
                _ => None,
            },
            Some(other) => {
                return Err(PatchError::bad(format!(
                    "{field}: expected a list, found a {}",
                    kind(other)
                )));
            }
        };
        if let Some(list) = &patch_list {
            check_patch_follows_order(list, &order, merge_key, &field)?;
        }
        let original_list = match original.get_mut(&field) {
            Some(Value::Array(list)) => Some(std::mem::take(list)),
            _ => None,
        };
        let server: Vec<Value> = original_list
            .iter()
            .flatten()
            .filter_map(|item| match merge_key {
                Some(k) => item.get(k).cloned(),
                None => Some(item.clone()),
            })
            .collect();
        let merged = match (original_list, patch_list) {
            (Some(current), Some(list)) => merge_list(current, list, schema, &field)?,
            (Some(current), None) => current,
            (None, Some(list)) => new_list(list, schema.child(&field))?,
            (None, None) => continue,
        };
        let ordered = enforce_order(merged, &order, &server, |item| match merge_key {
            Some(k) => item.get(k),
            None => Some(item),
        });
        original.insert(field, Value::Array(ordered));
    }
    Ok(())
}

/// The patch list's own elements must appear in `$setElementOrder` and in the same relative order.
fn check_patch_follows_order(
    patch_list: &[Value],
    order: &[Value],
    merge_key: Option<&str>,
    field: &str,
) -> Result<(), PatchError> {
    let mut remaining = order.iter();
    for item in patch_list {
        let id = match (merge_key, item) {
            (Some(_), Value::Object(element)) if element.contains_key(PATCH) => continue,
            (Some(k), Value::Object(element)) => match element.get(k) {
                Some(id) => id,
                None => {
                    return Err(PatchError::bad(format!(
                        "map: {} does not contain declared merge key: {k}",
                        excerpt(item)
                    )));
                }
            },
            _ => item,
        };
        if !remaining.any(|wanted| same(wanted, id)) {
            return Err(PatchError::bad(format!(
                "the order in the patch list {field} doesn't match the $setElementOrder list"
            )));
        }
    }
    Ok(())
}

/// `"$setElementOrder/containers"` → `"containers"`.
fn directive_target<'a>(key: &'a str, prefix: &str) -> Option<&'a str> {
    key.strip_prefix(prefix)?
        .strip_prefix('/')
        .filter(|field| !field.is_empty())
}
