//! Element order of merged lists. Kubernetes keeps the order the patch asks for (its list, or
//! `$setElementOrder`) and slots the elements only the server has in between, by their old
//! positions; this reproduces that placement so clients see the same order as with Kubernetes.

use std::collections::HashMap;

use serde_json::Value;

use super::values::identity_key;

/// An element with its position in some identity list (`None`: not in it).
type Placed = (Option<usize>, Value);

/// Position of each identity in `ids` (first occurrence wins).
fn positions(ids: &[Value]) -> HashMap<String, usize> {
    let mut map = HashMap::with_capacity(ids.len());
    for (index, id) in ids.iter().enumerate() {
        map.entry(identity_key(id)).or_insert(index);
    }
    map
}

/// Reorders `merged`. `order` are the identities (merge-key values, or the scalars themselves) in
/// the order the patch wants; `server` the identities of the list before patching; `id` gives an
/// element's identity. Elements named in `order` follow it; the others keep their server order and
/// are interleaved: one goes before a patch element when it came before that element on the server.
pub(crate) fn enforce_order<F>(
    merged: Vec<Value>,
    order: &[Value],
    server: &[Value],
    id: F,
) -> Vec<Value>
where
    F: Fn(&Value) -> Option<&Value>,
{
    let order_pos = positions(order);
    let server_pos = positions(server);
    let lookup = |map: &HashMap<String, usize>, item: &Value| {
        id(item).and_then(|i| map.get(&identity_key(i)).copied())
    };

    let (mut wanted, mut server_only): (Vec<Placed>, Vec<Placed>) = merged
        .into_iter()
        .map(|item| (lookup(&order_pos, &item), item))
        .partition(|(pos, _)| pos.is_some());
    wanted.sort_by_key(|(pos, _)| pos.unwrap_or(usize::MAX));
    // From here on the positions that matter are those on the server.
    let wanted: Vec<Placed> = wanted
        .into_iter()
        .map(|(_, item)| (lookup(&server_pos, &item), item))
        .collect();
    for entry in &mut server_only {
        entry.0 = lookup(&server_pos, &entry.1);
    }
    server_only.sort_by_key(|(pos, _)| pos.unwrap_or(usize::MAX));

    let mut result = Vec::with_capacity(wanted.len() + server_only.len());
    let mut wanted = wanted.into_iter().peekable();
    let mut server_only = server_only.into_iter().peekable();
    loop {
        let take_server_item = match (server_only.peek(), wanted.peek()) {
            (Some((left, _)), Some((right, _))) => {
                matches!((left, right), (Some(l), Some(r)) if l < r)
            }
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let next = if take_server_item {
            server_only.next()
        } else {
            wanted.next()
        };
        result.extend(next.map(|(_, item)| item));
    }
    result
}

/// Identity of an element of a scalar list: the value itself.
pub(crate) fn scalar_identity(item: &Value) -> Option<&Value> {
    Some(item)
}
